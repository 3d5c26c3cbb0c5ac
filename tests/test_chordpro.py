"""ChordPro songs: chords and directives are never counted, rhymed, prompted or copied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_craft_cli import SONG

from smartlap.cli import main
from smartlap.craft import chordpro
from smartlap.craft.scheme import line_marks, scheme_letters
from smartlap.craft.syllables import syllables
from smartlap.errors import UsageError
from smartlap.store import songbook


def with_chords(song: str) -> str:
    """The test song with a chord before every second word and ChordPro directives."""
    out = ["{title: Zonsondergang}", "{key: Am}"]
    for line in song.splitlines():
        if line.startswith("[") or not line.strip():
            out.append("{soc}" if line == "[Refrein]" else line)
            continue
        words = line.split(" ")
        chords = ["Am", "C/G", "F#m7b5", "Dsus4", "G7", "Bbmaj7"]
        out.append(" ".join(f"[{chords[i % len(chords)]}]{w}" if i % 2 == 0 else w
                            for i, w in enumerate(words)))
    return "\n".join([*out, "{eoc}"]) + "\n"


@pytest.mark.parametrize("chord", ["Am", "C", "G7", "F#m7b5", "Dsus4", "C/G", "Bbmaj7", "Em7",
                                   "Aadd9", "N.C."])
def test_chord_names_are_chords(chord: str) -> None:
    assert chordpro.strip_chords(f"[{chord}]In de kroeg") == "In de kroeg"


@pytest.mark.parametrize("marker", ["[Refrein]", "[Brug]", "[Couplet 1]", "[Einde]", "[Coda]",
                                    "[Outro]", "[Intro]", "[Am I]"])
def test_section_markers_are_not_chords(marker: str) -> None:
    assert chordpro.strip_chords(marker) == marker


def test_counts_and_rhyme_letters_ignore_chords_and_directives() -> None:
    plain = SONG.splitlines()
    chorded = with_chords(SONG).splitlines()
    lyric = [line for line in chorded if line.strip() and line[0] not in "{" and
             not line.startswith("[Couplet")]
    assert [syllables(line) for line in lyric] == [
        syllables(line) for line in plain if line.strip() and not line.startswith("[")]
    assert all("[" in line for line in lyric)  # every lyric line held chords
    assert scheme_letters(chorded).count("A") == 2 and scheme_letters(chorded).count("C") == 2
    marks = line_marks(chorded)
    assert marks[0] == (0, "-") and marks[1] == (0, "-")  # {title:} and {key:}
    assert "".join(letter for _, letter in marks) == "---AABB--CC-"


def test_mid_word_chords_keep_the_word_whole() -> None:
    assert chordpro.strip_chords("ver[G]liefd op [C]jou") == "verliefd op jou"
    assert syllables("ver[G]liefd op [C]jou") == syllables("verliefd op jou") == 4


def test_to_lyrics_gives_plain_lyrics_and_section_markers() -> None:
    text = "{title: X}\n{c: langzaam}\n[Am] [C]\n[Am]Een [C]regel\n\n{soc}\n[G]Refrein\n{eoc}\n"
    assert chordpro.to_lyrics(text) == "Een regel\n\n[Refrein]\nRefrein\n"
    assert chordpro.to_lyrics(SONG) == SONG  # plain lyrics untouched
    assert chordpro.title_of(text) == "X"


def test_chords_sit_above_the_word_they_were_written_before() -> None:
    above, words = chordpro.chords_above("In de [Am]kroeg op de [C]hoek")
    assert words == "In de kroeg op de hoek"
    assert above.index("Am") == words.index("kroeg") and above.index("C") == words.index("hoek")
    crowded = chordpro.chords_above("[Am7]a[Dsus4]b")[0]
    assert crowded == "Am7 Dsus4"  # pushed right, never run together


def test_songs_export_in_each_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    song = songbook.new_song("Zonsondergang", with_chords(SONG).replace(
        "{title: Zonsondergang}\n", ""))
    assert main(["songs", "export", song.slug, str(tmp_path / "lied.cho")]) == 0
    cho = (tmp_path / "lied.cho").read_text(encoding="utf-8")
    assert cho.startswith("{title: Zonsondergang}\n") and "[Am]De zon" in cho
    assert main(["songs", "export", song.slug, str(tmp_path / "lied.txt")]) == 0
    txt = (tmp_path / "lied.txt").read_text(encoding="utf-8").splitlines()
    line = txt.index("De zon gaat onder in de stad")
    assert txt[line - 1].startswith("Am") and "[" not in txt[line]
    assert main(["songs", "export", song.slug, str(tmp_path), "--format", "chordpro"]) == 0
    assert (tmp_path / f"{song.slug}.cho").exists()
    assert main(["songs", "export", song.slug, str(tmp_path / "lied.md")]) == 0
    md = (tmp_path / "lied.md").read_text(encoding="utf-8")
    assert md.count("```") == 2 and "Key: Am\n" in md and "\nAm " in md
    with pytest.raises(UsageError):
        songbook.export_song(song.slug, tmp_path / "lied.pdf")


def test_craft_scheme_json_gives_sung_lines(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "lied.cho"
    path.write_text(with_chords(SONG), encoding="utf-8")
    assert main(["craft", "scheme", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["lines"]
    assert data["scheme"] == "---AABB--CC-"
    assert rows[3]["sung"] == "De zon gaat onder in de stad" and rows[3]["syllables"] == 8
    assert rows[0]["syllables"] == 0 and rows[0]["sung"] == ""

"""Scraped lyric dumps import clean: templated site credits at song edges, scraped-site
leftovers, mixed encodings, over-long lines, deep JSON and ChordPro files; every skip says
truly what it found."""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lyrics_fixtures import make_song

from smartlap.errors import InputError
from smartlap.store import datasets
from smartlap.store.importers.boilerplate import Finder, templates_of
from smartlap.store.importers.decoding import MIXED
from smartlap.store.importers.leftovers import LABELS, drop_leftovers
from smartlap.store.importers.normalise import normalise_lyrics

UNITS = ("jaar", "jaar", "maanden", "weken", "jaar")
USERS = ("marieke", "dj_kroeg", "Henk1961", "smartlapfan", "rooie_rinus", "anouk.b", "xx")
REFREIN = ("O Jordaan, mijn Jordaan, waar de lampjes branden\n"
           "Daar zingen wij ons lied met de glazen in de handen")


def _credits(rng: random.Random) -> str:
    return (f"{rng.randint(1, 15)} {rng.choice(UNITS)} geleden toegevoegd\n"
            f"door {rng.choice(USERS)}{rng.randint(1, 99)}")


def scraped_songs(count: int = 30, credited_every: int = 3, seed: int = 5) -> list[dict]:
    """Songs as a lyric site gives them: about a third with the templated credit block at
    the end (numbers, units and users varying; none when ``credited_every`` is 0); ``clean``
    is what must be imported."""
    rng = random.Random(seed)
    entries = []
    for i in range(count):
        clean = make_song(100 + i)
        credited = credited_every and i % credited_every == 0
        lyrics = clean + ("\n\n" + _credits(rng) if credited else "")
        entries.append({"artist": "Zanger Sjors", "title": f"Liedje {i}", "clean": clean,
                        "lyrics": lyrics})
    return entries


def _dump(entries: list[dict]) -> bytes:
    """A text dump: ``Artist - Title`` headers, CRLF, blank lines between songs."""
    text = "".join(f"{e['artist']} - {e['title']}\n\n{e['lyrics']}\n\n\n" for e in entries)
    return text.replace("\n", "\r\n").encode("utf-8")


def _csv(entries: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["titel", "artiest", "songtekst"])
    for entry in entries:
        writer.writerow([entry["title"], entry["artist"], entry["lyrics"]])
    return buffer.getvalue()


def _folder(entries: list[dict], root: Path) -> Path:
    folder = root / "teksten"
    folder.mkdir()
    for entry in entries:
        (folder / f"{entry['artist']} - {entry['title']}.txt").write_text(
            entry["lyrics"], encoding="utf-8")
    return folder


def _write_source(shape: str, entries: list[dict], root: Path) -> Path:
    if shape == "txt":
        path = root / "dump.txt"
        path.write_bytes(_dump(entries))
        return path
    if shape == "csv":
        path = root / "teksten.csv"
        path.write_text(_csv(entries), encoding="utf-8")
        return path
    return _folder(entries, root)


def _dropped(info: datasets.DatasetInfo) -> dict[str, int]:
    return {entry["line"]: entry["songs"] for entry in info.report["boilerplate"]}


@pytest.mark.parametrize("shape", ["txt", "csv", "dir"])
def test_templated_credits_are_dropped_in_every_shape(shape: str, tmp_path: Path) -> None:
    entries = scraped_songs()
    info = datasets.import_dataset(_write_source(shape, entries, tmp_path), name="site")
    assert info.songs == 30
    stored = {song.title: song for song in datasets.iter_songs("site")}
    for entry in entries:  # exactly the sung lines are left, nothing else taken
        assert stored[entry["title"]].lyrics == normalise_lyrics(entry["clean"])
    dropped = _dropped(info)
    assert dropped == {"<n> <unit> geleden toegevoegd": 10, "door <name>": 10}
    assert {entry["kind"] for entry in info.report["boilerplate"]} == {"template"}
    assert any("boilerplate" in warning for warning in info.report["warnings"])


def test_one_unit_shows_as_written(tmp_path: Path) -> None:
    entries = scraped_songs(12, credited_every=2)
    for index, entry in enumerate(entries):
        if index % 2 == 0:
            entry["lyrics"] = entry["clean"] + f"\n\n{index + 1} jaar geleden toegevoegd"
    info = datasets.import_dataset(_write_source("csv", entries, tmp_path), name="site")
    assert _dropped(info) == {"<n> jaar geleden toegevoegd": 6}


def test_album_refrein_in_every_song_survives(tmp_path: Path) -> None:
    """The same refrein in every song of an album, sung twice in each and ending each song,
    is the album's, not the site's; the credits around it still go."""
    rng = random.Random(1)
    entries = []
    for i in range(10):
        verses = make_song(300 + i, stanzas=2).split("\n\n")
        clean = "\n\n".join([verses[0], REFREIN, verses[1], REFREIN])
        entries.append({"artist": "De Jordaners", "title": f"Album {i}", "clean": clean,
                        "lyrics": clean + "\n\n" + _credits(rng)})
    info = datasets.import_dataset(_write_source("txt", entries, tmp_path), name="album")
    stored = {song.title: song.lyrics for song in datasets.iter_songs("album")}
    for entry in entries:
        assert stored[entry["title"]] == normalise_lyrics(entry["clean"])
        assert stored[entry["title"]].count("O Jordaan, mijn Jordaan") == 2
    assert set(_dropped(info)) == {"<n> <unit> geleden toegevoegd", "door <name>"}


def test_a_template_in_a_third_of_the_songs_at_the_start_is_caught(tmp_path: Path) -> None:
    entries = scraped_songs(20, credited_every=0)
    for index, entry in enumerate(entries):
        if index % 3 == 0:
            entry["lyrics"] = (f"Toegevoegd op {index + 1}-0{index % 9 + 1}-2009\n"
                               f"{entry['clean']}")
    info = datasets.import_dataset(_write_source("txt", entries, tmp_path), name="site")
    assert _dropped(info) == {"Toegevoegd op <n>-<n>-<n>": 7}
    for song in datasets.iter_songs("site"):
        assert "Toegevoegd" not in song.lyrics


def test_a_line_ending_a_fifth_of_the_songs_is_kept(tmp_path: Path) -> None:
    """Below a quarter of the songs a shared edge line is a borrowed line, not a credit."""
    entries = scraped_songs(20, credited_every=0)
    for entry in entries[:4]:
        entry["lyrics"] = entry["clean"] = entry["clean"] + "\nEn de kroeg ging dicht om twee"
    info = datasets.import_dataset(_write_source("txt", entries, tmp_path), name="site")
    assert info.report["boilerplate"] == []
    assert sum("kroeg ging dicht" in s.lyrics for s in datasets.iter_songs("site")) == 4


def test_repeated_copies_of_a_song_are_not_taken_for_a_template(tmp_path: Path) -> None:
    """Six copies of two songs: their lines are at half the songs' edges, but they are the
    same songs (duplicates, skipped as such), not site credits."""
    entries = [dict(e, title=f"{e['title']} ({copy})") for copy in range(6)
               for e in scraped_songs(2, credited_every=0)]
    info = datasets.import_dataset(_write_source("csv", entries, tmp_path), name="dup")
    assert info.songs == 2 and info.report["boilerplate"] == []
    assert info.report["skipped_by_reason"] == {"duplicate": 10}
    assert {s.lyrics for s in datasets.iter_songs("dup")} == {
        normalise_lyrics(e["clean"]) for e in entries}


# ----------------------------------------------------------------------------- leftovers

GENIUS = ("12 ContributorsTranslationsEnglishDeutschLiedje 0 Lyrics\n{clean}\n"
          "You might also like\nEn ik weet al wat {name} gaat zeggen - ha!\n"
          "Daar gaan we weer met {name} naar huis{n}Embed")
NAMES = ("Sally", "Sjaan", "Truus", "Kees", "Mien", "Bertus")


@pytest.mark.parametrize(("kind", "before", "after"), [
    ("embed", "{clean}\nDaar ga ik weer naar huis34Embed", "{clean}\nDaar ga ik weer naar huis"),
    ("embed", "{clean}\nEmbed", "{clean}"),
    ("also-like", "{clean}\nYou might also like\nNog een regel", "{clean}\n\nNog een regel"),
    ("also-like", "{clean}\nYou might also likeNog een regel", "{clean}\nNog een regel"),
    ("licensed", "{clean}\nLyrics licensed & provided by LyricFind", "{clean}"),
    ("licensed", "Lyrics powered by www.musixmatch.com\n{clean}", "{clean}"),
    ("header", "Songtekst van Zanger Sjors - Liedje 0\n\n{clean}", "{clean}"),
    ("header", "Liedje 0 Lyrics\n{clean}", "{clean}"),
    ("contributors", "3 Contributors\n{clean}", "{clean}"),
    ("url", "{clean}\nhttps://www.songteksten.nl/songteksten/123/liedje.html", "{clean}"),
    ("url", "www.lyricsfreak.com\n{clean}", "{clean}"),
    ("translations", "Translations\nEnglish\nFrançais\nNederlands\n{clean}", "{clean}"),
    ("title", "Liedje 0\n\n{clean}", "{clean}"),
])
def test_each_scraped_leftover_is_dropped(kind: str, before: str, after: str) -> None:
    clean = make_song(7)
    text, found = drop_leftovers(before.format(clean=clean), title="Liedje 0")
    assert found == {kind}
    assert normalise_lyrics(text) == normalise_lyrics(after.format(clean=clean))


@pytest.mark.parametrize("lyric", [
    "Liedje 0\nen de tweede regel van het eerste couplet",  # a sung first line = the title
    "You might also like me, zei ze toen\nen ik lachte",
    "Ik las het op www.liefde.nl en meer\nen toen wist ik het",
    "De lyrics van mijn leven\nzijn nog niet geschreven",
    "Embedded in mijn hart\nzit jij",
])
def test_lyrics_that_look_a_little_like_leftovers_stay(lyric: str) -> None:
    text = lyric + "\n" + make_song(8)
    assert drop_leftovers(text, title="Liedje 0") == (text, set())


def test_genius_page_imports_as_the_song_and_is_reported(tmp_path: Path) -> None:
    entries = scraped_songs(6, credited_every=0)
    for n, (entry, name) in enumerate(zip(entries, NAMES, strict=True)):
        entry["lyrics"] = GENIUS.format(clean=entry["clean"], name=name, n=n + 3).replace(
            "Liedje 0", entry["title"])
    info = datasets.import_dataset(_write_source("txt", entries, tmp_path), name="genius")
    assert info.songs == 6
    for song, name in zip(datasets.iter_songs("genius"), NAMES, strict=True):
        assert song.lyrics.endswith(f"En ik weet al wat {name} gaat zeggen - ha!\n"
                                    f"Daar gaan we weer met {name} naar huis")
        assert "Contributors" not in song.lyrics and "You might" not in song.lyrics
    dropped = _dropped(info)
    for kind in ("embed", "also-like", "contributors"):
        assert dropped[LABELS[kind]] == 6


def test_sally_line_in_a_crlf_dump_stays_in_its_song(tmp_path: Path) -> None:
    entries = scraped_songs(8, credited_every=0)
    entries[3]["lyrics"] = entries[3]["clean"] = (
        entries[3]["clean"] + "\n\nEn ik weet al wat Sally gaat zeggen - ha!\nNog een keer")
    info = datasets.import_dataset(_write_source("txt", entries, tmp_path), name="dump")
    assert info.songs == 8 and info.report["skipped_count"] == 0
    song = next(s for s in datasets.iter_songs("dump") if s.title == "Liedje 3")
    assert "Sally gaat zeggen - ha!" in song.lyrics


# ----------------------------------------------------------------------------- properties

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéö", min_size=3, max_size=9)
_line = st.lists(_word, min_size=3, max_size=7).map(" ".join)
_song = st.lists(_line, min_size=2, max_size=10)


@given(st.lists(_song, min_size=4, max_size=14), st.integers(0, 13))
@settings(max_examples=60, deadline=None)
def test_a_line_whose_template_is_in_one_song_is_never_dropped(songs: list[list[str]],
                                                               credited: int) -> None:
    """Whatever the songs, a line whose every template occurs in one song only is kept,
    while a credit stamped on enough songs goes. (Each song gets one line of its own in its
    middle, so no two are copies, which count once.)"""
    songs = [[*lines[:len(lines) // 2], f"uniek {'ab' * n}x zinnetje", *lines[len(lines) // 2:]]
             for n, lines in enumerate(songs)]
    songs = [[*lines, f"{n + 2} jaar geleden toegevoegd"] if n <= credited else lines
             for n, lines in enumerate(songs)]
    finder = Finder()
    for lines in songs:
        finder.observe(lines)
    templates = finder.templates()
    owners: dict[str, set[int]] = {}
    for number, lines in enumerate(songs):
        for line in lines:
            for key, _ in templates_of(line):
                owners.setdefault(key, set()).add(number)
    for lines in songs:
        kept = templates.drop("\n".join(lines))[0].split("\n")
        for line, after in zip(lines, kept, strict=True):
            if all(len(owners[key]) == 1 for key, _ in templates_of(line)):
                assert after == line
    stamped = min(credited + 1, len(songs))
    if stamped >= max(3, len(songs) / 4):
        assert all("geleden toegevoegd" not in templates.drop("\n".join(lines))[0]
                   for lines in songs)


@given(st.lists(_song, min_size=4, max_size=10), _line)
@settings(max_examples=40, deadline=None)
def test_a_refrein_sung_twice_in_each_song_is_never_dropped(songs: list[list[str]],
                                                            refrein: str) -> None:
    songs = [[refrein, *lines, refrein] for lines in songs]
    finder = Finder()
    for lines in songs:
        finder.observe(lines)
    templates = finder.templates()
    for lines in songs:
        kept = templates.drop("\n".join(lines))[0].split("\n")
        assert kept.count(refrein) == lines.count(refrein) >= 2


# ----------------------------------------------------------------------------- decoding, size


def test_mixed_utf8_and_cp1252_songs_decode_each_as_written(tmp_path: Path) -> None:
    utf8 = "Zanger - Een\n\nIn het Café van Jopie, één voor één\n" + make_song(1) + "\n\n\n"
    cp1252 = ("Zanger - Twee\n\nIn het Café om de hoek, ‘zo’ gaat dat\n" + make_song(2)
              + "\n\n\n")
    source = tmp_path / "gemengd.txt"
    source.write_bytes(utf8.encode("utf-8") + cp1252.encode("cp1252") + utf8.replace(
        "Een", "Drie").replace("Jopie", "Kees").encode("utf-8"))
    info = datasets.import_dataset(source, name="mixed")
    assert info.source["encoding"] == MIXED
    first = len(utf8.split("\n")) + 2  # the cp1252 song's first sung line
    not_utf8 = sum(1 for line in cp1252.split("\n") if not line.isascii())
    lyrics = {song.title: song.lyrics for song in datasets.iter_songs("mixed")}
    assert lyrics["Een"].startswith("In het Café van Jopie, één voor één")
    assert lyrics["Twee"].startswith("In het Café om de hoek, ‘zo’ gaat dat")
    assert "Ã" not in "".join(lyrics.values())
    warning = next(w for w in info.report["warnings"] if "cp1252" in w)
    assert f"{not_utf8} of its lines" in warning and f"(line {first}," in warning


def test_one_huge_line_says_what_it_is(tmp_path: Path) -> None:
    source = tmp_path / "een_regel.txt"
    source.write_text("la " * (400 * 1024), encoding="utf-8")
    with pytest.raises(InputError) as error:
        datasets.import_dataset(source, name="big")
    assert "1 not text" in error.value.message
    assert "one line of 1.2 MB, not lyrics" in error.value.message
    assert "too short" not in error.value.message


def test_a_huge_line_inside_a_dump_is_dropped_and_reported(tmp_path: Path) -> None:
    lines = [*make_song(1).split("\n"), "", "", *make_song(2).split("\n"), "x" * 200_000,
             "", "", "y" * 100_000]
    source = tmp_path / "dump.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    info = datasets.import_dataset(source, name="dump")
    assert info.songs == 2
    assert info.report["skipped"] == [{"where": f"line {len(lines)}", "reason": "not text",
                                       "detail": "one line of 97.7 KB, not lyrics"}]
    assert any(f"one line of 195.3 KB (line {len(lines) - 3}) in the song at line 17" in w
               for w in info.report["warnings"])
    assert all("x" * 10 not in song.lyrics for song in datasets.iter_songs("dump"))


def test_a_csv_line_longer_than_any_row_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "breed.csv"
    source.write_text("title,lyrics\nA,\"" + make_song(1) + "\"\nB," + "la " * 800_000 + "\n",
                      encoding="utf-8")
    with pytest.raises(InputError, match=r"line 16 is 2\.3 MB long"):
        datasets.import_dataset(source, name="x")


def test_a_50_mb_line_does_not_sit_in_memory(tmp_path: Path) -> None:
    """Read in bounded pieces: a 24 MB one-line file costs a few MB above the floor."""
    source = tmp_path / "one_line.txt"
    with open(source, "w", encoding="utf-8") as handle:
        for _ in range(24):
            handle.write("la " * (1024 * 1024 // 3))
    probe = ("import sys\nimport smartlap.store.datasets as d\nfrom smartlap.errors import "
             "InputError\ntry:\n    d.import_dataset(sys.argv[1], name='x')\nexcept InputError "
             "as e:\n    print(e.message.replace(' ', '_'))\nstatus = open('/proc/self/status')"
             ".read().split('VmHWM:')[1]\nprint(int(status.split()[0]) / 1024)\n")

    def peak(path: Path) -> tuple[str, float]:
        out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                             text=True, check=True, timeout=300,
                             cwd=Path(__file__).resolve().parents[1]).stdout.split()
        return out[0], float(out[-1])

    small = tmp_path / "small.txt"
    small.write_text("la " * 1000, encoding="utf-8")
    _, floor = peak(small)
    message, used = peak(source)
    assert "one_line_of_24.0_MB,_not_lyrics" in message
    assert used - floor < 8, f"{used - floor:.1f} MB above the floor for a 24 MB line"


def test_deeply_nested_jsonl_is_a_skip_not_a_crash(tmp_path: Path) -> None:
    source = tmp_path / "diep.jsonl"
    good = json.dumps({"title": "Goed", "lyrics": make_song(3)})
    source.write_text(good + "\n" + '{"lyrics": ' + "[" * 100_000 + "]" * 100_000 + "}\n",
                      encoding="utf-8")
    info = datasets.import_dataset(source, name="diep")
    assert info.songs == 1
    assert info.report["skipped"] == [{"where": "line 2", "reason": "not text",
                                       "detail": "JSON nested too deeply to read (hundreds of "
                                                 "levels), not a song"}]
    alone = tmp_path / "alleen.jsonl"
    alone.write_text('{"lyrics": ' + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    with pytest.raises(InputError, match="JSON nested too deeply"):
        datasets.import_dataset(alone, name="alleen")


# ----------------------------------------------------------------------------- ChordPro

def chordpro(title: str | None, seed: int, artist: str = "Zanger Sjors") -> str:
    """A ChordPro song: directives, a chord before every other word, a {soc} refrein."""
    words = make_song(seed, stanzas=1).split("\n")
    chords = ["Am", "C", "G7", "F", "E", "Dm/A"]
    sung = [" ".join(f"[{chords[(i + j) % 6]}]{w}" if j % 2 == 0 else w
                     for j, w in enumerate(line.split())) for i, line in enumerate(words)]
    head = ([f"{{title: {title}}}"] if title else []) + [f"{{artist: {artist}}}", "{key: Am}",
                                                          "{comment: rustig}"]
    return "\n".join([*head, *sung[:2], "", "{soc}", *sung[2:], "{eoc}", ""])


def _sung(seed: int) -> str:
    lines = make_song(seed, stanzas=1).split("\n")
    return "\n".join([*lines[:2], "", "[Refrein]", *lines[2:]])


def test_a_chordpro_file_alone_is_its_song_without_chords(tmp_path: Path) -> None:
    source = tmp_path / "kroeg.cho"
    source.write_text(chordpro("In de Kroeg", 1), encoding="utf-8")
    info = datasets.import_dataset(source, name="cho")
    song = next(datasets.iter_songs("cho"))
    assert info.source["format"] == "chordpro"
    assert (song.title, song.artist) == ("In de Kroeg", "Zanger Sjors")
    assert song.lyrics == _sung(1)


def test_a_folder_of_chordpro_files_and_new_song(tmp_path: Path) -> None:
    folder = tmp_path / "songboek"
    folder.mkdir()
    (folder / "een.chopro").write_text(chordpro("In de Kroeg", 1), encoding="utf-8")
    (folder / "twee.pro").write_text(chordpro("Tweede", 2) + "{new_song}\n"
                                     + chordpro("Derde", 3), encoding="utf-8")
    (folder / "Zanger Sjors - Zonder Titel.cho").write_text(chordpro(None, 4), "utf-8")
    info = datasets.import_dataset(folder, name="boek")
    songs = {song.title: song for song in datasets.iter_songs("boek")}
    assert info.songs == 4 and info.report["skipped"] == []
    assert {title: song.lyrics for title, song in songs.items()} == {
        "In de Kroeg": _sung(1), "Tweede": _sung(2), "Derde": _sung(3),
        "Zonder Titel": _sung(4)}
    assert {song.artist for song in songs.values()} == {"Zanger Sjors"}


def test_a_chordpro_songbook_is_detected_by_its_directives(tmp_path: Path) -> None:
    source = tmp_path / "boek.txt"
    source.write_text(chordpro("Een", 5) + chordpro("Twee", 6), encoding="utf-8")
    info = datasets.import_dataset(source, name="boek")
    assert info.source["format"] == "chordpro"
    assert [s.title for s in datasets.iter_songs("boek")] == ["Een", "Twee"]


# ----------------------------------------------------------------------------- skip reasons

SKIPS = [
    ("short.csv", "title,lyrics\nKort,\"Hallo daar\nen weg\"\n" + "".join(
        f"L{i},\"{make_song(i)}\"\n" for i in range(4)),
     "too short", "Kort: 2 sung lines, 4 words; a song needs 2 lines and 8 words"),
    ("one_line.csv", "title,lyrics\nEen,\"een hele lange regel met heel veel woorden erin\"\n"
     + "".join(f"L{i},\"{make_song(i)}\"\n" for i in range(4)),
     "too short", "Een: 1 sung line, 9 words; a song needs 2 lines and 8 words"),
    ("numbers.csv", "title,lyrics\nCodes,\"1234 5678 90\n1111 2222 3333\"\n" + "".join(
        f"L{i},\"{make_song(i)}\"\n" for i in range(4)),
     "not text", "Codes: 0% letters (numbers or codes, not lyrics)"),
    ("empty.csv", "title,lyrics\nLeeg,\n" + "".join(f"L{i},\"{make_song(i)}\"\n"
                                                    for i in range(4)),
     "empty", "Leeg: no sung lines"),
    ("header.txt", "A - Een\n\n" + make_song(1) + "\n\n\n" + "A - Twee\n\n" + make_song(2)
     + "\n\n\nA - Alleen een kop\n", "empty", "only a header line, no lyrics under it"),
    ("two_headers.txt", "A - Een\n\n" + make_song(1) + "\n\n\nA - Kop\n\n\nA - Twee\n\n"
     + make_song(2) + "\n", "empty", "only a header line, no lyrics under it"),
    ("credits.txt", "".join(f"A - L{i}\n\n{make_song(i)}\n\n{i + 1} jaar geleden toegevoegd\n"
                            f"door gebruiker{i}\n\n\n" for i in range(4))
     + "A - Kaal\n\n3 jaar geleden toegevoegd\ndoor iemand\n",
     "empty", "only site boilerplate, no lyrics"),
]


@pytest.mark.parametrize(("name", "content", "reason", "detail"), SKIPS,
                         ids=[s[0] for s in SKIPS])
def test_every_skip_says_truly_what_it_found(name: str, content: str, reason: str,
                                             detail: str, tmp_path: Path) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")
    info = datasets.import_dataset(source, name="s")
    assert [(s["reason"], s.get("detail")) for s in info.report["skipped"]] == [(reason, detail)]


def test_records_larger_than_a_song_are_too_long(tmp_path: Path) -> None:
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "een.txt").write_text(make_song(1), encoding="utf-8")
    (folder / "alles.txt").write_text((make_song(2) + "\n\n") * 5000, encoding="utf-8")
    info = datasets.import_dataset(folder, name="map")
    assert info.report["skipped"] == [{"where": "alles.txt", "reason": "too long", "detail":
                                       "2.5 MB, more than one song holds (2.0 MB); import it "
                                       "on its own"}]
    source = tmp_path / "groot.jsonl"
    source.write_text(json.dumps({"lyrics": make_song(3)}) + "\n"
                      + json.dumps({"lyrics": "la " * 2_000_000}) + "\n", encoding="utf-8")
    info = datasets.import_dataset(source, name="groot")
    assert info.report["skipped"] == [{"where": "line 2", "reason": "too long", "detail":
                                       "one line of 5.7 MB, more than one song holds"}]


def test_the_demo_corpus_loses_nothing_to_boilerplate() -> None:
    info = datasets.get_dataset("demo")
    assert info.report["boilerplate"] == [] and info.songs == 126


def test_the_cli_report_lists_each_dropped_template(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    from smartlap.cli import main

    entries = scraped_songs()
    entries[4]["lyrics"] += "\nhttps://www.songteksten.nl/liedje4"
    assert main(["datasets", "import", str(_write_source("txt", entries, tmp_path))]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "boilerplate dropped: '<n> <unit> geleden toegevoegd' (10 songs)" in out
    assert "boilerplate dropped: 'door <name>' (10 songs)" in out
    assert "boilerplate dropped: bare URL (1 song)" in out


def test_the_cli_and_studio_offer_the_formats_the_importer_knows() -> None:
    from smartlap.cli.datasets import IMPORT_FORMATS
    from smartlap.store.importers import FORMATS
    from smartlap.tui.datasets import FORMATS as OFFERED

    assert IMPORT_FORMATS == FORMATS
    assert {value for _, value in OFFERED} == set(FORMATS)

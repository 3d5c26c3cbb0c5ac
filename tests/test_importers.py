"""Importers, table-driven: every format and encoding the tests can write, and hostile input."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lyrics_fixtures import csv_text, jsonl_text, lyrics_400, make_song, songs, txt_dump

from smartlap.errors import AlreadyExistsError, InputError, NotFoundError, UsageError
from smartlap.paths import get_paths
from smartlap.store import datasets
from smartlap.store.importers.dedupe import Deduplicator, HashSet
from smartlap.store.importers.normalise import normalise_lyrics, section_tag

FIVE = songs(5)


def _write(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def write(directory: Path) -> Path:
        path = directory / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    return write


def _folder(directory: Path) -> Path:
    folder = directory / "teksten"
    (folder / "sub").mkdir(parents=True)
    (folder / "een.txt").write_text(FIVE[0]["lyrics"], encoding="utf-8")
    lrc = "[ti:Het Lied]\n[ar:De Zanger]\n" + "\n".join(
        f"[00:{i:02d}.50]{line}" for i, line in enumerate(FIVE[1]["lyrics"].split("\n")))
    (folder / "twee.lrc").write_text(lrc, encoding="utf-8")
    (folder / "sub" / "drie.md").write_text("# Markdown Titel\n\n" + FIVE[2]["lyrics"],
                                            encoding="utf-8")
    (folder / "Jan Smit - Vier.txt").write_bytes(FIVE[3]["lyrics"].encode("cp1252"))
    (folder / "kapot.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (folder / "foto.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    (folder / ".verborgen.txt").write_text(FIVE[4]["lyrics"], encoding="utf-8")
    return folder


def _no_header_csv(directory: Path) -> Path:
    lines = [f'{i},"{song["lyrics"]}",19{60 + i}' for i, song in enumerate(FIVE)]
    path = directory / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class Case:
    id: str
    write: Callable[[Path], Path]
    fmt: str
    songs: int
    encoding: str | None = None
    titles: tuple[str, ...] = ()
    artists: tuple[str, ...] = ()
    skipped: dict[str, int] = field(default_factory=dict)
    source: dict[str, object] = field(default_factory=dict)


CASES = [
    Case("csv-utf8-comma", _write("a.csv", csv_text(FIVE)), "csv", 5, "utf-8",
         titles=("Lied nummer 0",), artists=("Zanger 1",),
         source={"delimiter": ",", "lyrics_column": "lyrics", "header": True}),
    Case("csv-utf8-bom-semicolon-crlf",
         _write("b.csv", codecs.BOM_UTF8 + csv_text(
             [dict(s, lyrics=s["lyrics"].replace("\n", "\r\n")) for s in FIVE],
             columns=("Titel", "Artiest", "Tekst"), delimiter=";").encode("utf-8")),
         "csv", 5, "utf-8-sig", titles=("Lied nummer 4",),
         source={"delimiter": ";", "lyrics_column": "Tekst", "title_column": "Titel"}),
    Case("csv-utf16-tab", _write("c.tsv", csv_text(FIVE, delimiter="\t").encode("utf-16")),
         "csv", 5, "utf-16", source={"delimiter": "tab"}),
    Case("csv-utf16le-no-bom",
         _write("c2.csv", csv_text(FIVE).encode("utf-16-le")), "csv", 5, "utf-16-le"),
    Case("csv-cp1252", _write("d.csv", csv_text(
        [dict(s, title=f"Café ‘{i}’") for i, s in enumerate(FIVE)]).encode("cp1252")),
         "csv", 5, "cp1252", titles=("Café ‘0’",)),
    Case("csv-songtekst-column-among-others", _write("e.csv", "id,songtekst,jaar\n" + "".join(
        f'{i},"{s["lyrics"]}",1970\n' for i, s in enumerate(FIVE))), "csv", 5,
         source={"lyrics_column": "songtekst"}),
    Case("csv-header-names-with-extra-words", _write("f.csv", csv_text(
        FIVE, columns=("Song Title", "Artist Name", "Song Lyrics"))), "csv", 5,
         titles=("Lied nummer 3",), artists=("Zanger 2",),
         source={"lyrics_column": "Song Lyrics", "title_column": "Song Title"}),
    Case("csv-song-column-holds-the-lyrics", _write("g.csv", "artist;song\n" + "".join(
        f'{s["artist"]};"{s["lyrics"]}"\n' for s in FIVE)), "csv", 5, artists=("Zanger 4",),
         source={"lyrics_column": "song", "title_column": None}),
    Case("csv-no-header-longest-text-column", _no_header_csv, "csv", 5,
         source={"header": False, "lyrics_column": "column 2"}),
    Case("csv-content-with-txt-extension", _write("table.txt", csv_text(FIVE)), "csv", 5),
    Case("csv-lyrics-400", lambda d: lyrics_400(d / "lyrics_400.csv"), "csv", 396,
         skipped={"empty": 2, "duplicate": 2}),
    Case("txt-blank-runs", _write("dump.txt", txt_dump(FIVE, "plain")), "txt", 5,
         source={"split_on": "blank lines"}),
    Case("txt-blank-runs-and-headers", _write("dump1.txt", txt_dump(FIVE, "blank")), "txt", 5,
         titles=("Lied nummer 2",), artists=("Zanger 3",)),
    Case("txt-separators", _write("dump2.txt", txt_dump(FIVE, "separator")), "txt", 5,
         titles=("Lied nummer 4",), source={"split_on": "separator lines"}),
    Case("txt-header-lines", _write("dump3.txt", txt_dump(FIVE, "header")), "txt", 5,
         titles=("Lied nummer 1",), artists=("Zanger 0",),
         source={"split_on": "Artist - Title lines"}),
    Case("txt-crlf-cp1252", _write("dump4.txt", txt_dump(FIVE, "blank").replace(
        "\n", "\r\n").replace("Lied", "Liéd").encode("cp1252")), "txt", 5, "cp1252",
         titles=("Liéd nummer 0",)),
    Case("txt-with-csv-extension", _write("dump.csv", txt_dump(FIVE, "blank")), "txt", 5),
    Case("jsonl", _write("s.jsonl", jsonl_text(FIVE[:3]) + jsonl_text(FIVE[3:], "text")
                         + "{kapot\n[1, 2]\n"), "jsonl", 5,
         skipped={"not text": 2}),
    Case("folder", _folder, "dir", 4, titles=("Het Lied", "Markdown Titel", "Vier", "een"),
         artists=("De Zanger", "Jan Smit"), skipped={"not text": 1}),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_importer(case: Case, tmp_path: Path) -> None:
    source = case.write(tmp_path)
    info = datasets.import_dataset(source, name="set")
    assert info.source["format"] == case.fmt
    if case.encoding:
        assert info.source["encoding"] == case.encoding
    for key, value in case.source.items():
        assert info.source[key] == value, key
    assert info.songs == case.songs
    assert dict(info.report["skipped_by_reason"]) == case.skipped
    stored = list(datasets.iter_songs("set"))
    assert len(stored) == case.songs
    titles = {s.title for s in stored}
    assert set(case.titles) <= titles
    assert set(case.artists) <= {s.artist for s in stored}
    for song in stored:
        assert "\r" not in song.lyrics and "[00:" not in song.lyrics
        assert song.lyrics == normalise_lyrics(song.lyrics)
    if case.fmt != "dir":  # every imported song is one of the songs written
        originals = {normalise_lyrics(s["lyrics"]) for s in songs(396)}
        assert {s.lyrics for s in stored} <= originals


def test_txt_boilerplate_is_dropped_and_reported(tmp_path: Path) -> None:
    entries = songs(8)
    source = tmp_path / "scraped.txt"
    source.write_text(txt_dump(entries, "blank", extra_lines=(
        "", "Lyrics van www.songteksten.example", "added by gebruiker{i}")), encoding="utf-8")
    info = datasets.import_dataset(source, name="scraped")
    assert info.songs == 8
    for song in datasets.iter_songs("scraped"):
        assert "songteksten" not in song.lyrics and "added by" not in song.lyrics
    dropped = {entry["line"]: entry["songs"] for entry in info.report["boilerplate"]}
    assert dropped["Lyrics van www.songteksten.example"] == 8
    assert any(line.startswith("added by") for line in dropped)
    assert any("boilerplate" in warning for warning in info.report["warnings"])


def test_shared_lyric_lines_are_not_boilerplate(tmp_path: Path) -> None:
    """A line two songs of eight share is lyrics, not a site credit."""
    entries = songs(8)
    for entry in entries[:2]:
        entry["lyrics"] += "\nO Jordaan, o Jordaan, mijn hart blijft hier bestaan"
    source = tmp_path / "dump.txt"
    source.write_text(txt_dump(entries, "separator"), encoding="utf-8")
    info = datasets.import_dataset(source, name="dump")
    assert info.report["boilerplate"] == []
    assert sum("O Jordaan" in s.lyrics for s in datasets.iter_songs("dump")) == 2


def test_lrc_file_alone_is_one_song(tmp_path: Path) -> None:
    lines = FIVE[0]["lyrics"].split("\n")
    source = tmp_path / "lied.lrc"
    source.write_text("[ar:Zanger]\n[ti:Titel]\n" + "\n".join(
        f"[01:{i:02d}.00]{line}" for i, line in enumerate(lines)), encoding="utf-8")
    info = datasets.import_dataset(source, name="lrc")
    song = next(datasets.iter_songs("lrc"))
    assert info.songs == 1 and song.title == "Titel" and song.artist == "Zanger"
    assert song.lyrics == normalise_lyrics(FIVE[0]["lyrics"])


# ----------------------------------------------------------------------------- hostile input


def _nothing_written() -> bool:
    root = get_paths().datasets
    return not root.exists() or list(root.iterdir()) == []


def _numbers_csv(d: Path) -> Path:
    path = d / "numbers.csv"
    path.write_text("id,count,price\n" + "".join(f"{i},{i * 3},{i}.50\n" for i in range(30)))
    return path


def _empty_dir(d: Path) -> Path:
    (d / "leeg").mkdir()
    (d / "leeg" / "foto.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    return d / "leeg"


def _unclosed_quote(d: Path) -> Path:
    path = d / "broken.csv"
    path.write_text("title,lyrics\nA,\"" + ("la la la\n" * 130_000))
    return path


HOSTILE = [
    ("missing", lambda d: d / "nope.csv", "does not exist"),
    ("empty-file", _write("empty.csv", b""), "is empty"),
    ("blank-file", _write("blank.txt", "\n \r\n\t\n"), "is empty"),
    ("png", _write("song.txt", b"\x89PNG\r\n\x1a\n" + bytes(300)), "not a text file"),
    ("random-bytes", _write("song.csv", bytes(range(256)) * 50), "not a text file"),
    ("undecodable", _write("bad.txt", b"Liefde \x81\x8d\x90 en \xff\xfe\x9d pijn\n" * 20),
     "not UTF-8"),
    ("utf8-bom-then-garbage", _write("bom.csv", codecs.BOM_UTF8 + b"a,b\n\xff\xfe\xfa,x\n"),
     "not UTF-8"),
    ("folder-without-text", _empty_dir, "no .txt, .lrc or .md files"),
    ("csv-without-text-column", _numbers_csv, "no usable lyrics column"),
    ("csv-unclosed-quote", _unclosed_quote, "broken CSV"),
    ("only-short-rows", _write("kort.csv", "title,lyrics\nA,hoi\nB,\"la\nla\"\n"),
     "No songs could be imported"),
    ("jsonl-without-text-field", _write("x.jsonl", '{"a": 1}\n{"b": 2}\n'), "no lyrics field"),
]


@pytest.mark.parametrize(("write", "message"), [(w, m) for _, w, m in HOSTILE],
                         ids=[h[0] for h in HOSTILE])
def test_hostile_input_is_one_clear_error_and_writes_nothing(write, message: str,
                                                             tmp_path: Path) -> None:
    source = write(tmp_path)
    with pytest.raises(InputError) as info:
        datasets.import_dataset(source, name="x")
    assert message in info.value.message
    assert info.value.hint
    assert _nothing_written()


def test_wrong_format_for_a_folder_and_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        datasets.import_dataset(tmp_path, name="x", fmt="csv")
    with pytest.raises(UsageError):
        datasets.import_dataset(_write("a.csv", csv_text(FIVE))(tmp_path), fmt="xml")
    assert _nothing_written()


def test_name_rules(tmp_path: Path) -> None:
    source = _write("a.csv", csv_text(FIVE))(tmp_path)
    for bad in ("../x", "a/b", "", "demo"):
        with pytest.raises(UsageError) as info:
            datasets.import_dataset(source, name=bad)
        assert info.value.hint
    assert _nothing_written()
    assert datasets.import_dataset(source).name == "a"  # default: the file's name
    with pytest.raises(AlreadyExistsError) as taken:
        datasets.import_dataset(source)
    assert "--force" in (taken.value.hint or "")
    replaced = datasets.import_dataset(_write("b.csv", csv_text(songs(3, 10)))(tmp_path),
                                       name="a", force=True)
    assert replaced.songs == 3 and datasets.get_dataset("a").songs == 3
    assert sorted(p.name for p in get_paths().datasets.iterdir()) == ["a"]


@pytest.mark.parametrize("call", [
    lambda: datasets.get_dataset("nope"),
    lambda: list(datasets.iter_songs("nope")),
    lambda: datasets.delete_dataset("nope"),
    lambda: datasets.export_dataset("nope", "/tmp/x.jsonl"),
], ids=["get", "iter", "delete", "export"])
def test_unknown_dataset(call) -> None:
    with pytest.raises(NotFoundError) as info:
        call()
    assert "datasets list" in (info.value.hint or "")


# ----------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(("raw", "canonical"), [
    ("Refrein:", "[Refrein]"), ("[Chorus]", "[Refrein]"), ("(refrein 2x)", "[Refrein]"),
    ("CHORUS x2", "[Refrein]"), ("Couplet 1:", "[Couplet 1]"), ("[Verse 2]", "[Couplet 2]"),
    ("Bridge", "[Brug]"), ("brug:", "[Brug]"), ("Outro", "[Slot]"), ("[Slot]", "[Slot]"),
    ("Intro:", "[Intro]"), ("Pre-chorus", "[Pre-refrein]"),
])
def test_section_tags_have_one_canonical_form(raw: str, canonical: str) -> None:
    assert section_tag(raw) == canonical
    assert section_tag(canonical) == canonical


@pytest.mark.parametrize("line", ["Refrein van mijn leven", "Het refrein", "Couplet voor jou",
                                  "Brugge is mooi"])
def test_lyric_lines_that_mention_a_section_stay_lyrics(line: str) -> None:
    assert section_tag(line) is None


def test_normalisation_rules() -> None:
    raw = ("\ufeff  Cafe\u0301 de Zon  \r\n\tmijn  hart\u200b \r\n\r\n\r\n\r\nRefrein:\r\n"
           "o jordaan\x00\n\n\n")
    assert normalise_lyrics(raw) == "Café de Zon\nmijn hart\n\n[Refrein]\no jordaan"


def test_dedupe_finds_copies_and_near_copies_but_not_strangers() -> None:
    dedupe = Deduplicator()
    base = [normalise_lyrics(make_song(i, stanzas=4)) for i in range(400)]
    assert all(dedupe.check(song) is None for song in base)  # 400 strangers never collide
    assert dedupe.check(base[5].upper().replace("\n", ",\n")) == "duplicate"
    caught = 0
    for song in base[:60]:
        lines = song.split("\n")
        lines[2] = lines[2] + " vandaag"  # one line edited: still the same song
        caught += dedupe.check("\n".join(lines)) == "near-duplicate"
    assert caught >= 54  # the band design catches ~95% at this similarity


def test_split_is_deterministic_and_about_ten_percent(tmp_path: Path) -> None:
    source = lyrics_400(tmp_path / "lyrics_400.csv")
    first = datasets.import_dataset(source, name="a")
    second = datasets.import_dataset(source, name="b")
    assert 20 <= first.val_songs <= 60
    assert first.train_songs + first.val_songs == first.songs == 396
    split_a = {s.id: s.split for s in datasets.iter_songs("a")}
    assert split_a == {s.id: s.split for s in datasets.iter_songs("b")}
    assert second.val_songs == first.val_songs
    val = list(datasets.iter_songs("a", split="val"))
    assert len(val) == first.val_songs and {s.split for s in val} == {"val"}
    rows = (get_paths().datasets / "a" / "songs.jsonl").read_text().splitlines()
    assert set(json.loads(rows[0])) == {"id", "title", "artist", "lyrics", "split"}


def test_small_datasets_get_both_splits(tmp_path: Path) -> None:
    info = datasets.import_dataset(_write("s.csv", csv_text(songs(3)))(tmp_path), name="s")
    assert info.val_songs == 1 and info.train_songs == 2
    assert sorted(s.split for s in datasets.iter_songs("s")) == ["train", "train", "val"]


def test_hash_set_behaves_like_a_set_of_64_bit_ints() -> None:
    import random

    rng = random.Random(3)
    values = [rng.getrandbits(64) for _ in range(5000)] + [1, (1 << 64) - 1]
    compact, reference = HashSet(capacity=4), set()
    for value in values + values[:100]:
        compact.add(value)
        reference.add(value)
    assert len(compact) == len(reference)
    assert all(value in compact for value in reference)
    assert sum(rng.getrandbits(64) in compact for _ in range(2000)) == 0


def test_near_duplicate_rows_are_reported_where_they_are(tmp_path: Path) -> None:
    rows = songs(6)
    edited = rows[2]["lyrics"].split("\n")
    edited[1] += " vannacht"
    rows.append({"title": "Bijna hetzelfde", "artist": "X", "lyrics": "\n".join(edited)})
    source = tmp_path / "near.csv"
    source.write_text(csv_text(rows), encoding="utf-8")
    info = datasets.import_dataset(source, name="near")
    assert info.songs == 6  # each song is 14 lines, so row 8 starts on line 2 + 6 * 14
    assert info.report["skipped"] == [
        {"where": "row 8 (line 86)", "reason": "near-duplicate", "detail": "Bijna hetzelfde"}]


def test_jsonl_lyrics_as_a_list_of_lines(tmp_path: Path) -> None:
    source = tmp_path / "lines.jsonl"
    source.write_text(json.dumps({"tekst": FIVE[0]["lyrics"].split("\n"), "titel": "Lijst"})
                      + "\n", encoding="utf-8")
    info = datasets.import_dataset(source, name="lines")
    song = next(datasets.iter_songs("lines"))
    assert info.songs == 1 and song.title == "Lijst"
    assert song.lyrics == normalise_lyrics(FIVE[0]["lyrics"])


def test_enhanced_lrc_word_timestamps_are_stripped(tmp_path: Path) -> None:
    folder = tmp_path / "lrc"
    folder.mkdir()
    lines = FIVE[1]["lyrics"].split("\n")
    (folder / "lied.lrc").write_text("\n".join(
        f"[00:{i:02d}.00]<00:{i:02d}.10>" + " <00:01.20>".join(line.split(" ", 1))
        if line else "" for i, line in enumerate(lines)), encoding="utf-8")
    datasets.import_dataset(folder, name="lrc")
    song = next(datasets.iter_songs("lrc"))
    assert song.lyrics == normalise_lyrics(FIVE[1]["lyrics"]) and song.title == "lied"


SALLY = "En ik weet al wat Sally gaat zeggen - ha!"


def _one_artist_dump(artist: str, extra: dict[int, str], newline: str = "\n") -> tuple[str, list]:
    """Four songs by one artist in header style; ``extra`` puts lyric text into songs."""
    entries = [{"title": f"Lied nummer {i}", "artist": artist, "lyrics": make_song(i)}
               for i in range(4)]
    for index, text in extra.items():
        entries[index]["lyrics"] = entries[index]["lyrics"].replace("\n\n", text, 1)
    return txt_dump(entries, "header").replace("\n", newline), entries


def _imported(tmp_path: Path, text: str) -> tuple[object, dict[str, str]]:
    source = tmp_path / "dump.txt"
    source.write_bytes(text.encode("utf-8"))
    info = datasets.import_dataset(source, name="dump")
    return info, {s.title: s for s in datasets.iter_songs("dump")}


@pytest.mark.parametrize("where", ["inside-stanza", "stanza-start"])
def test_dash_lyric_line_stays_in_its_song(tmp_path: Path, where: str) -> None:
    """Issue 18: ' - ha!' in a lyric no longer splits a song (a bogus song + a 'too short')."""
    insert = f"\n{SALLY}\n\n" if where == "inside-stanza" else f"\n\n{SALLY}\n"
    text, entries = _one_artist_dump("Frans Bauer", {1: insert})
    info, stored = _imported(tmp_path, text)
    assert info.source["split_on"] == "Artist - Title lines"
    assert info.songs == 4 and dict(info.report["skipped_by_reason"]) == {}
    song = stored["Lied nummer 1"]
    assert SALLY in song.lyrics.split("\n") and song.artist == "Frans Bauer"
    assert len(song.lyrics.split("\n")) == len(normalise_lyrics(entries[1]["lyrics"]).split("\n"))
    assert all(len(stored[e["title"]].lyrics.split("\n")) == 14 for e in entries if e is not
               entries[1])


def test_dash_line_with_unknown_artist_after_blank_is_lyrics(tmp_path: Path) -> None:
    """Short and tidy, but its 'artist' heads no song: in a one-artist dump it is a lyric."""
    line = "Zo gaat het - altijd weer"
    text, entries = _one_artist_dump("Frans Bauer", {2: f"\n\n{line}\n"})
    info, stored = _imported(tmp_path, text)
    assert info.songs == 4 and dict(info.report["skipped_by_reason"]) == {}
    assert line in stored["Lied nummer 2"].lyrics.split("\n")
    assert set(stored) == {e["title"] for e in entries}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_real_headers_still_split_songs(tmp_path: Path, newline: str) -> None:
    """Known artists' headers split songs, even with closing punctuation; CRLF too."""
    text, _ = _one_artist_dump("Frans Bauer", {}, newline)
    text = text.replace("Lied nummer 3", "Waarom?")
    info, stored = _imported(tmp_path, text)
    assert info.songs == 4 and dict(info.report["skipped_by_reason"]) == {}
    assert set(stored) == {"Lied nummer 0", "Lied nummer 1", "Lied nummer 2", "Waarom?"}
    assert {s.artist for s in stored.values()} == {"Frans Bauer"}
    assert all("\r" not in s.lyrics and " - " not in s.lyrics for s in stored.values())


def test_mixed_artists_dump_keeps_one_off_headers(tmp_path: Path) -> None:
    """Many artists, one of them twice: every tidy header still splits, a shouted line not."""
    entries = songs(8)
    entries[3]["lyrics"] = entries[3]["lyrics"].replace("\n\n", f"\n\n{SALLY}\n", 1)
    info, stored = _imported(tmp_path, txt_dump(entries, "header"))
    assert info.songs == 8 and dict(info.report["skipped_by_reason"]) == {}
    assert SALLY in stored["Lied nummer 3"].lyrics.split("\n")
    assert {s.artist for s in stored.values()} == {f"Zanger {i % 7}" for i in range(8)}

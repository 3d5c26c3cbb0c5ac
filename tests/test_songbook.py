"""The songbook: Markdown files with front matter, atomic saves, and the `songs` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap.errors import AlreadyExistsError, NotFoundError, UsageError
from smartlap.store import songbook

LYRICS = "In de kroeg op de hoek brandt nog licht,\nmoeder wacht met de deur niet dicht."


def test_new_save_and_reopen_round_trip(smartlap_home: Path) -> None:
    song = songbook.new_song('Moeder: "ik mis je"', LYRICS, style="smartlap")
    assert song.slug == "moeder-ik-mis-je"
    assert song.path == smartlap_home / "songbook" / "moeder-ik-mis-je.md"
    reopened = songbook.open_song(song.slug)
    assert reopened.title == 'Moeder: "ik mis je"'
    assert reopened.lyrics == LYRICS and reopened.style == "smartlap"
    saved = songbook.save_song(songbook.BookSong(**{**reopened.__dict__,
                                                    "lyrics": LYRICS + "\n\nRefrein:"}))
    assert songbook.open_song(song.slug).lyrics.endswith("Refrein:")
    assert saved.created == song.created
    assert [p.name for p in song.path.parent.iterdir() if p.is_file()] == ["moeder-ik-mis-je.md"]


def test_file_is_plain_markdown_with_front_matter() -> None:
    song = songbook.new_song("Het kleine café", LYRICS)
    text = song.path.read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "Het kleine café"\n')
    assert text.endswith(LYRICS + "\n")


def test_hand_written_file_without_front_matter_is_all_lyrics(smartlap_home: Path) -> None:
    folder = smartlap_home / "songbook"
    folder.mkdir()
    (folder / "los-lied.md").write_text("Regel een\nregel twee\n", encoding="utf-8")
    (folder / ".tmp-half.md.x").write_text("---\ntitle: half", encoding="utf-8")
    songs = songbook.list_songs()
    assert [s.slug for s in songs] == ["los-lied"]
    assert songs[0].lyrics == "Regel een\nregel twee" and songs[0].title == "los lied"


def test_same_title_gets_its_own_slug_and_rename_moves_the_file() -> None:
    first = songbook.new_song("Afscheid")
    second = songbook.new_song("Afscheid")
    assert (first.slug, second.slug) == ("afscheid", "afscheid-2")
    renamed = songbook.rename_song(second.slug, "Weerzien")
    assert renamed.slug == "weerzien" and renamed.path.exists()
    assert not second.path.exists()
    assert sorted(s.slug for s in songbook.list_songs()) == ["afscheid", "weerzien"]
    songbook.delete_song("afscheid")
    with pytest.raises(NotFoundError):
        songbook.open_song("afscheid")


@pytest.mark.parametrize("slug", ["../escape", "a/b", ""])
def test_hostile_slugs_are_refused(slug: str) -> None:
    with pytest.raises(UsageError):
        songbook.open_song(slug)


def test_empty_title_is_refused_with_hint() -> None:
    with pytest.raises(UsageError) as info:
        songbook.new_song("   ")
    assert info.value.hint


def test_export_txt_and_md(tmp_path: Path) -> None:
    song = songbook.new_song("Jordaan", LYRICS, style="levenslied")
    txt = songbook.export_song(song.slug, tmp_path / "out.txt")
    assert txt.read_text(encoding="utf-8") == f"Jordaan\n\n{LYRICS}\n"
    md = songbook.export_song(song.slug, tmp_path / "out.md").read_text(encoding="utf-8")
    assert md.startswith("# Jordaan\n\n*levenslied*\n\n")
    assert "licht,  \n" in md
    with pytest.raises(UsageError):
        songbook.export_song(song.slug, tmp_path / "out.pdf")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartlap", "songs", *args],
                          capture_output=True, text=True, env=dict(os.environ), timeout=60)


def test_songs_cli_list_show_export(tmp_path: Path) -> None:
    songbook.new_song("Jordaan", LYRICS)
    listed = _cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [s["slug"] for s in json.loads(listed.stdout)] == ["jordaan"]
    shown = _cli("show", "jordaan")
    assert "moeder wacht" in shown.stdout
    exported = _cli("export", "jordaan", str(tmp_path / "j.md"))
    assert exported.returncode == 0
    assert (tmp_path / "j.md").read_text(encoding="utf-8").startswith("# Jordaan")
    missing = _cli("show", "nope")
    assert missing.returncode == 1 and "hint:" in missing.stderr
    assert "Traceback" not in missing.stderr
    again = _cli("export", "jordaan", str(tmp_path / "j.md"), "--format", "txt")
    assert again.returncode == 1 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert (tmp_path / "j.md").read_text(encoding="utf-8").startswith("# Jordaan")
    forced = _cli("export", "jordaan", str(tmp_path / "j.md"), "--format", "txt", "--force")
    assert forced.returncode == 0
    assert (tmp_path / "j.md").read_text(encoding="utf-8").startswith("Jordaan\n\n")


# -- no song overwrites another ---------------------------------------------------------------

def test_a_stale_song_is_never_saved_over_the_song_now_in_its_file() -> None:
    first = songbook.new_song("Lied", "van het eerste lied")
    songbook.delete_song(first.slug)
    second = songbook.new_song("Lied", "van het tweede lied")
    assert second.slug == first.slug and second.id != first.id
    with pytest.raises(AlreadyExistsError) as raised:
        songbook.save_song(songbook.BookSong(**{**first.__dict__, "lyrics": "oud"}))
    assert raised.value.hint
    assert songbook.open_song(second.slug).lyrics == "van het tweede lied"


def test_new_song_never_replaces_a_file_that_appears_under_its_slug(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A second writer (the CLI, another studio) taking the slug first: the song moves on."""
    real_free = songbook._free_slugs

    def racing(title: str):
        for slug in real_free(title):
            if slug == "afscheid":  # another process creates it between check and write
                (songbook.songbook_dir()).mkdir(parents=True, exist_ok=True)
                songbook.song_path(slug).write_text("van een ander\n", encoding="utf-8")
            yield slug
    monkeypatch.setattr(songbook, "_free_slugs", racing)
    song = songbook.new_song("Afscheid", "mijn tekst")
    assert song.slug == "afscheid-2"
    assert songbook.song_path("afscheid").read_text(encoding="utf-8") == "van een ander\n"


def test_rename_onto_a_taken_title_takes_a_free_slug() -> None:
    taken = songbook.new_song("Weerzien", "A")
    other = songbook.new_song("Afscheid", "B")
    renamed = songbook.rename_song(other.slug, "Weerzien")
    assert renamed.slug == "weerzien-2"
    assert songbook.open_song(taken.slug).lyrics == "A"
    assert songbook.open_song(renamed.slug).lyrics == "B"


def test_a_lone_surrogate_in_a_title_still_saves() -> None:
    song = songbook.new_song("Moeder \udc80 lief", "tekst")
    assert songbook.open_song(song.slug).title == "Moeder \ufffd lief"
    assert [s.slug for s in songbook.list_songs()] == [song.slug]


# -- history ----------------------------------------------------------------------------------

def _edit(song: songbook.BookSong, lyrics: str, **kwargs) -> songbook.BookSong:
    return songbook.save_song(songbook.BookSong(**{**song.__dict__, "lyrics": lyrics}), **kwargs)


def test_saves_keep_versions_once_a_minute_and_always_before_a_big_loss() -> None:
    song = songbook.new_song("Haven", "een\ntwee\ndrie\nvier")
    song = _edit(song, "een\ntwee\ndrie\nvier\nvijf")  # first replace: kept
    song = _edit(song, "een\ntwee\ndrie\nvier\nvijf\nzes")  # within the minute: not kept
    assert [v.song.lyrics for v in songbook.list_versions(song.slug)] == [
        "een\ntwee\ndrie\nvier"]
    _edit(song, "een")  # drops most of the lines: the six-line text is kept at once
    versions = songbook.list_versions(song.slug)
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].song.lyrics == "een\ntwee\ndrie\nvier\nvijf\nzes"
    assert versions[0].first_line == "een" and versions[0].saved


def test_only_the_newest_versions_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(songbook, "HISTORY_KEEP", 3)
    song = songbook.new_song("Kermis", "0")
    for n in range(1, 6):
        song = _edit(song, str(n), force_version=True)
    assert [v.song.lyrics for v in songbook.list_versions(song.slug)] == ["4", "3", "2"]


def test_restore_brings_a_version_back_and_keeps_what_it_replaced() -> None:
    song = songbook.new_song("Jordaan", "goede tekst")
    _edit(song, "per ongeluk gewist", force_version=True)
    restored = songbook.restore_version(song.slug, 1)
    assert restored.slug == song.slug and restored.id == song.id
    assert songbook.open_song(song.slug).lyrics == "goede tekst"
    assert songbook.list_versions(song.slug)[0].song.lyrics == "per ongeluk gewist"
    with pytest.raises(UsageError):
        songbook.restore_version(song.slug, 99)


def test_a_deleted_song_comes_back_from_its_history() -> None:
    song = songbook.new_song("Moeder", LYRICS)
    songbook.delete_song(song.slug)
    assert songbook.list_songs() == []
    assert songbook.songs_with_history() == [song.slug]
    back = songbook.restore_version(song.slug, 1)
    assert (back.slug, back.lyrics, back.title) == (song.slug, LYRICS, "Moeder")
    assert songbook.open_song(song.slug).lyrics == LYRICS


def test_a_renamed_song_keeps_its_history() -> None:
    song = songbook.new_song("Oud", "eerste")
    _edit(song, "tweede", force_version=True)
    renamed = songbook.rename_song(song.slug, "Nieuw")
    assert [v.song.lyrics for v in songbook.list_versions(renamed.slug)] == ["eerste"]
    assert songbook.list_versions(song.slug) == []


def test_songs_restore_cli_lists_and_restores() -> None:
    song = songbook.new_song("Jordaan", "goede tekst")
    _edit(song, "kapot", force_version=True)
    listed = _cli("restore", "jordaan", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [v["first_line"] for v in json.loads(listed.stdout)] == ["goede tekst"]
    overview = _cli("restore")
    assert "jordaan" in overview.stdout and "1 version" in overview.stdout
    restored = _cli("restore", "jordaan", "1")
    assert restored.returncode == 0, restored.stderr
    assert songbook.open_song("jordaan").lyrics == "goede tekst"
    wrong = _cli("restore", "jordaan", "7")
    assert wrong.returncode == 2 and "hint:" in wrong.stderr and "Traceback" not in wrong.stderr

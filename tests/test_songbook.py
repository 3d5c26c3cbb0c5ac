"""The songbook: Markdown files with front matter, atomic saves, and the `songs` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartlap.errors import NotFoundError, UsageError
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
    assert [p.name for p in song.path.parent.iterdir()] == ["moeder-ik-mis-je.md"]


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

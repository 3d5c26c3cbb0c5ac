"""The dataset store: the demo, listing, deleting, exporting, and atomic imports."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from lyrics_fixtures import csv_text, lyrics_400, songs

from smartlap.errors import AlreadyExistsError, UsageError
from smartlap.fsutil import TMP_PREFIX
from smartlap.paths import get_paths
from smartlap.store import datasets


@pytest.fixture
def bundled_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the demo CSV shipped in the wheel (the real one is tested below)."""
    path = tmp_path / "bundle" / "demo_songs.csv"
    path.parent.mkdir()
    path.write_text(csv_text(songs(12, 500)), encoding="utf-8")
    monkeypatch.setattr(datasets, "demo_source", lambda: path)
    return path


def test_demo_is_always_present_on_a_fresh_home(bundled_demo: Path) -> None:
    assert not get_paths().datasets.exists()
    names = [info.name for info in datasets.list_datasets()]
    assert names == ["demo"]
    info = datasets.get_dataset("demo")
    assert info.songs == 12 and info.source["bundled"] is True
    assert len(list(datasets.iter_songs("demo"))) == 12


def test_demo_first_use_through_iter_songs(bundled_demo: Path) -> None:
    assert len(list(datasets.iter_songs("demo", split="train"))) >= 10


def test_demo_cannot_be_deleted_or_overwritten(bundled_demo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as refused:
        datasets.delete_dataset("demo")
    assert refused.value.hint
    other = tmp_path / "demo.csv"  # a file called demo.csv must not replace the demo
    other.write_text(csv_text(songs(3)), encoding="utf-8")
    with pytest.raises(UsageError):
        datasets.import_dataset(other, force=True)
    assert datasets.get_dataset("demo").songs == 12


def test_demo_follows_the_bundled_file_after_an_upgrade(bundled_demo: Path) -> None:
    assert datasets.get_dataset("demo").songs == 12
    bundled_demo.write_text(csv_text(songs(15, 500)), encoding="utf-8")
    assert datasets.get_dataset("demo").songs == 15


def test_real_bundled_demo_imports_cleanly() -> None:
    source = datasets.demo_source()
    assert source is not None and (source.parent / "LICENSE").is_file()
    info = datasets.get_dataset("demo")
    assert info.songs >= 120
    assert info.report["skipped_count"] == 0, info.report["skipped"]
    assert info.val_songs >= 1 and info.train_songs >= 100
    for song in datasets.iter_songs("demo"):
        assert song.title and song.artist and song.lyrics.count("\n\n") >= 2


def test_list_skips_interrupted_imports(tmp_path: Path, bundled_demo: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "lyrics_400.csv"))
    (get_paths().datasets / f"{TMP_PREFIX}half.123").mkdir()
    infos = {info.name: info for info in datasets.list_datasets()}
    assert sorted(infos) == ["demo", "lyrics_400"]
    assert infos["lyrics_400"].songs == 396
    assert infos["lyrics_400"].report["skipped_count"] == 4


def test_show_dict_has_the_promised_keys(tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="l")
    data = datasets.get_dataset("l").to_dict()
    for key in ("name", "songs", "train_songs", "val_songs", "lines", "words", "skipped"):
        assert key in data
    assert data["lines"] == 396 * 12 and data["words"] == 396 * 12 * 7
    assert {entry["reason"] for entry in data["skipped"]} == {"empty", "duplicate"}
    assert all(entry["where"].startswith("row ") for entry in data["skipped"])
    stored = json.loads((get_paths().datasets / "l" / "dataset.json").read_text())
    assert stored["report"]["skipped_by_reason"] == {"duplicate": 2, "empty": 2}
    assert stored["split"]["val_fraction"] == 0.1


def test_a_crash_mid_import_leaves_nothing(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    source = lyrics_400(tmp_path / "l.csv")
    real = datasets.normalise_lyrics
    calls = []

    def failing(text: str) -> str:
        calls.append(1)
        if len(calls) == 50:
            raise RuntimeError("disk on fire")
        return real(text)

    monkeypatch.setattr(datasets, "normalise_lyrics", failing)
    with pytest.raises(RuntimeError):
        datasets.import_dataset(source, name="l")
    assert list(get_paths().datasets.iterdir()) == []


def test_force_replaces_only_after_success(tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="l")
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(Exception):  # noqa: B017 - any refusal; the old set must survive
        datasets.import_dataset(broken, name="l", force=True)
    assert datasets.get_dataset("l").songs == 396


def test_delete(tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="weg")
    datasets.delete_dataset("weg")
    assert not (get_paths().datasets / "weg").exists()
    assert list(get_paths().datasets.iterdir()) == []


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "txt"])
def test_export_import_round_trip(fmt: str, tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="orig")
    target = tmp_path / f"out.{fmt}"
    assert datasets.export_dataset("orig", target) == 396
    with pytest.raises(AlreadyExistsError):
        datasets.export_dataset("orig", target)
    back = datasets.import_dataset(target, name="back")
    assert back.source["format"] == fmt and back.songs == 396
    assert back.report["skipped_count"] == 0
    original = [(s.title, s.artist, s.lyrics, s.split) for s in datasets.iter_songs("orig")]
    again = [(s.title, s.artist, s.lyrics, s.split) for s in datasets.iter_songs("back")]
    assert again == original


def test_export_csv_is_a_plain_table(tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="orig")
    target = tmp_path / "out.csv"
    datasets.export_dataset("orig", target, "csv")
    with open(target, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["title", "artist", "lyrics"] and len(rows) == 397
    assert not list(tmp_path.glob(f"{TMP_PREFIX}*"))


def test_export_refuses_bad_targets(tmp_path: Path) -> None:
    datasets.import_dataset(lyrics_400(tmp_path / "l.csv"), name="orig")
    with pytest.raises(UsageError):
        datasets.export_dataset("orig", tmp_path / "x.out", "xml")
    with pytest.raises(UsageError):
        datasets.export_dataset("orig", tmp_path)
    with pytest.raises(Exception) as missing:
        datasets.export_dataset("orig", tmp_path / "nope" / "x.csv")
    assert "does not exist" in str(missing.value)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_import_memory_stays_well_below_the_file_size(tmp_path: Path) -> None:
    """Streaming: a 7 MB CSV must cost less than a third of its size in extra memory
    (reading it whole would cost several times its size)."""
    import subprocess
    import sys

    from lyrics_fixtures import make_song

    source = tmp_path / "big.csv"
    with open(source, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "artist", "lyrics"])
        for i in range(6000):
            writer.writerow([f"Lied {i}", "Zanger", make_song(i, stanzas=5, lines=5, words=8)])
    size_mb = source.stat().st_size / 2**20
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (big) pytest parent
    probe = ("import sys\nimport smartlap.store.datasets as d\n"
             "if sys.argv[1] == 'import':\n    print(d.import_dataset(sys.argv[2]).songs)\n"
             "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
             "print(int(status.split()[0]) / 1024)\n")

    def peak(*args: str) -> float:
        out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                             text=True, check=True, timeout=300,
                             cwd=Path(__file__).resolve().parents[1]).stdout.split()
        return float(out[-1])

    small = tmp_path / "small.csv"  # the floor: an import of 5 songs (same code paths)
    small.write_text(csv_text(songs(5)), encoding="utf-8")
    floor = peak("import", str(small))
    used = peak("import", str(source)) - floor
    assert size_mb > 7
    print(f"{used:.1f} MB above the floor ({floor:.1f}) for a {size_mb:.1f} MB file")
    assert used < size_mb / 3, f"{used:.1f} MB above the floor for a {size_mb:.1f} MB file"


def test_repeat_dataset_repeats_songs_in_their_own_split_with_their_own_ids(
        bundled_demo: Path) -> None:
    originals = list(datasets.iter_songs("demo"))
    info = datasets.repeat_dataset("demo", "demo-30", 30)

    copies = list(datasets.iter_songs("demo-30"))
    assert info.songs == len(copies) == 30
    assert info.val_songs == sum(song.split == "val" for song in copies)
    assert len({song.id for song in copies}) == 30
    for index, song in enumerate(copies):
        original = originals[index % len(originals)]
        assert (song.lyrics, song.split) == (original.lyrics, original.split)
    train_lyrics = {s.lyrics for s in copies if s.split == "train"}
    assert not train_lyrics & {s.lyrics for s in copies if s.split == "val"}
    assert datasets.get_dataset("demo-30").songs == 30
    assert datasets.repeat_dataset("demo", "demo-30", 5).songs == 5  # replaced
    with pytest.raises(UsageError):
        datasets.repeat_dataset("demo", "demo", 5)

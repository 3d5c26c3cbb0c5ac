"""The fault matrix (docs/reliability.md): disk full, leftovers, signals, overwrites, links at
the model boundary and blocking reads. One row per case; each asserts what the person sees
(one message, an exit code) and what is left on disk (earlier data intact, no temp).

A full disk is a real 8 MB tmpfs when the tests run as root and ``mount`` works, otherwise a
fake ENOSPC at fsync (where a full NFS share or quota really does fail) for files under it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from train_support import REPO, smartlap_env, training_dataset

from smartlap import fsutil
from smartlap.cli import main
from smartlap.errors import DiskFullError, InputError, NotFoundError
from smartlap.fsutil import TMP_PREFIX, is_disk_full, sweep_stale, temp_prefix
from smartlap.paths import get_paths

ENOSPC = OSError(errno.ENOSPC, "No space left on device")


def leftovers(folder: Path) -> list[str]:
    """Temp names anywhere below ``folder``."""
    if not folder.exists():
        return []
    return sorted(p.name for p in folder.rglob(f"{TMP_PREFIX}*"))


def clean_error(capsys: pytest.CaptureFixture, code: int, *words: str) -> str:
    err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
    assert code != 0
    assert "error:" in err and "hint:" in err and "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


# --- a disk that fills up ------------------------------------------------------------------------

@dataclass
class Disk:
    path: Path
    fill: Callable[[], None]
    real: bool


def _mount_tmpfs(path: Path, size: str) -> bool:
    if (os.geteuid() != 0 or shutil.which("mount") is None
            or os.environ.get("SMARTLAP_FAULTS_FAKE_DISK")):  # to test the fallback as root
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, check=False)
    return done.returncode == 0


def _fill_up(path: Path) -> None:
    fd = os.open(path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for chunk in (1 << 20, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
    finally:
        os.close(fd)


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    path = tmp_path / "disk"
    path.mkdir()
    if _mount_tmpfs(path, "8m"):
        try:
            yield Disk(path, lambda: _fill_up(path), real=True)
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
        return
    full = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        where = ""
        with contextlib.suppress(OSError):
            where = os.readlink(f"/proc/self/fd/{fd}")
        if full and where.startswith(str(path)):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield Disk(path, lambda: full.append(1), real=False)


@pytest.fixture
def home_on_disk(disk: Disk, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = disk.path / "home"
    home.mkdir()
    monkeypatch.setenv("SMARTLAP_HOME", str(home))
    return home


DISK_FULL_SHAPES = [
    ("ENOSPC", ENOSPC, True),
    ("EDQUOT", OSError(errno.EDQUOT, "Disk quota exceeded"), True),
    ("torch zip writer", RuntimeError("[enforce fail at inline_container.cc:672] . unexpected "
                                      "pos 576 vs 534"), True),
    ("safetensors", type("SafetensorError", (Exception,), {})(
        "Error while serializing: I/O error: No space left on device (os error 28)"), True),
    ("wrapped", ValueError("save failed"), True),
    ("permission", OSError(errno.EACCES, "Permission denied"), False),
    ("other runtime error", RuntimeError("shape mismatch"), False),
    ("key error", KeyError("weight"), False),
]


@pytest.mark.parametrize(("label", "error", "full"), DISK_FULL_SHAPES,
                         ids=[row[0] for row in DISK_FULL_SHAPES])
def test_disk_full_is_recognised_in_every_shape(label, error, full) -> None:
    if label == "wrapped":
        error.__cause__ = ENOSPC
    assert is_disk_full(error) is full


def test_safetensors_real_error_type_is_recognised(disk: Disk) -> None:
    if not disk.real:
        pytest.skip("needs a real full disk (root and tmpfs)")
    import torch
    from safetensors.torch import save_file

    disk.fill()
    with pytest.raises(Exception) as raised:
        save_file({"w": torch.zeros(4096)}, str(disk.path / "w.safetensors"))
    assert is_disk_full(raised.value)
    with pytest.raises(RuntimeError) as raised:
        torch.save({"w": torch.zeros(4096)}, disk.path / "w.pt")
    assert is_disk_full(raised.value)


def test_disk_full_file_write_keeps_the_old_file(disk: Disk) -> None:
    target = disk.path / "song.md"
    fsutil.atomic_write_text(target, "old words\n")
    disk.fill()
    with pytest.raises(DiskFullError) as raised:
        fsutil.atomic_write_text(target, "new words " * 2000)
    assert "disk is full" in raised.value.message and "SMARTLAP_HOME" in raised.value.hint
    assert target.read_text() == "old words\n"
    assert leftovers(disk.path) == []


def test_disk_full_event_append_is_one_error(disk: Disk) -> None:
    log = disk.path / "events.jsonl"
    fsutil.append_jsonl(log, {"event": "first"})
    disk.fill()
    with pytest.raises(DiskFullError):
        fsutil.append_jsonl(log, {"event": "second", "pad": "x" * 9000})


def test_disk_full_during_import_keeps_earlier_datasets(home_on_disk: Path, disk: Disk,
                                                        tmp_path: Path, capsys) -> None:
    from lyrics_fixtures import lyrics_400

    source = lyrics_400(tmp_path / "lyrics.csv")
    assert main(["datasets", "import", str(source), "--name", "first"]) == 0
    disk.fill()
    code = main(["datasets", "import", str(source), "--name", "second"])
    clean_error(capsys, code, "disk is full")
    assert leftovers(home_on_disk) == []
    from smartlap.store import datasets

    assert datasets.get_dataset("first").songs == 396
    with pytest.raises(NotFoundError):
        datasets.get_dataset("second")


def test_disk_full_during_dataset_export_keeps_the_old_file(disk: Disk, tmp_path: Path,
                                                            capsys) -> None:
    from lyrics_fixtures import lyrics_400

    assert main(["datasets", "import", str(lyrics_400(tmp_path / "l.csv")), "--name", "l"]) == 0
    target = disk.path / "out.jsonl"
    target.write_text("keep me\n")
    disk.fill()
    code = main(["datasets", "export", "l", "--to", str(target), "--force"])
    clean_error(capsys, code, "disk is full")
    assert target.read_text() == "keep me\n"
    assert leftovers(disk.path) == []


def test_disk_full_during_models_add(home_on_disk: Path, disk: Disk, tiny_gpt2_dir: Path,
                                     capsys) -> None:
    (home_on_disk / "models").mkdir()
    disk.fill()
    code = main(["models", "add", str(tiny_gpt2_dir), "--name", "tiny"])
    clean_error(capsys, code, "disk is full")
    assert leftovers(home_on_disk) == []
    assert not (home_on_disk / "models" / "tiny").exists()


def test_disk_full_during_state_save_keeps_the_previous_state(disk: Disk,
                                                              tiny_gpt2_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from smartlap.lm.train.state import load_progress, save_state

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    state = disk.path / "run" / "state"
    save_state(state, model, optimizer, scheduler, {"epoch": 2}, tokenizer)
    disk.fill()
    with pytest.raises(DiskFullError):
        save_state(state, model, optimizer, scheduler, {"epoch": 3}, tokenizer)
    assert load_progress(state)["epoch"] == 2
    assert leftovers(disk.path) == []


def test_disk_full_at_training_start_is_one_error(home_on_disk: Path, disk: Disk,
                                                  tiny_gpt2_dir: Path) -> None:
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training

    (home_on_disk / "runs").mkdir()
    disk.fill()
    with pytest.raises(DiskFullError):
        run_training(TrainConfig(model=str(tiny_gpt2_dir), dataset="demo", device="cpu",
                                 name="out"))
    assert leftovers(home_on_disk) == []


def test_torch_write_failure_in_the_state_save_ends_the_run_cleanly(
        tmp_path: Path, tiny_gpt2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training
    from smartlap.store import runs

    dataset = training_dataset(tmp_path)
    real_save = torch.save

    def short_write(obj, target, *args, **kwargs):
        if str(target).endswith("optimizer.pt"):
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1 vs 0")
        return real_save(obj, target, *args, **kwargs)

    monkeypatch.setattr(torch, "save", short_write)
    config = TrainConfig(model=str(tiny_gpt2_dir), dataset=dataset, epochs=1, block_size=32,
                         batch_size=4, device="cpu", max_songs=4, name="out", sample_tokens=4)
    with pytest.raises(DiskFullError) as raised:
        run_training(config)
    assert "resumable state" in raised.value.message
    assert "--resume" in raised.value.hint
    [run] = runs.list_runs()
    assert run.status == "failed"
    assert leftovers(get_paths().data) == []


# --- leftovers: writer-named temps and the sweep -------------------------------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def _writer_name(name: str, pid: int, start: int, tail: str = "abcd1234") -> str:
    return f"{TMP_PREFIX}{name}.p{pid}.s{start}.{tail}"


def _me() -> tuple[int, int]:
    pid = os.getpid()
    return pid, fsutil.process_start(pid) or 0


# (case, name maker, age in seconds, expected: removed | kept | restored)
SWEEP_CASES = [
    ("dead writer, a minute old", lambda: _writer_name("songs.md", _dead_pid(), 1), 120,
     "removed"),
    ("dead writer, fresh", lambda: _writer_name("songs.md", _dead_pid(), 1), 5, "kept"),
    ("live writer, old", lambda: _writer_name("songs.md", *_me()), 3600, "kept"),
    ("pid reused by another process", lambda: _writer_name("songs.md", os.getpid(), 1), 120,
     "removed"),
    ("no writer in the name", lambda: f"{TMP_PREFIX}songs.md.x1y2z3", 3600, "kept"),
    ("moved aside by a killed swap", lambda: _writer_name("state", _dead_pid(), 1) + ".old", 5,
     "restored"),
    ("moved aside, target back in place", lambda: _writer_name("data", _dead_pid(), 1) + ".old",
     120, "removed"),
]


@pytest.mark.parametrize(("case", "make_name", "age", "expected"), SWEEP_CASES,
                         ids=[row[0] for row in SWEEP_CASES])
def test_stale_temp_sweep(tmp_path: Path, case, make_name, age, expected) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    if case == "moved aside, target back in place":
        (folder / "data").mkdir()
    leftover = folder / make_name()
    leftover.mkdir()
    (leftover / "part").write_text("half")
    _age(leftover, age)
    sweep_stale(folder)
    if expected == "kept":
        assert leftover.exists()
    elif expected == "removed":
        assert not leftover.exists()
    else:
        assert not leftover.exists() and (folder / "state" / "part").read_text() == "half"


def test_sweep_of_a_planted_link_removes_only_the_link(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep")
    folder = tmp_path / "folder"
    folder.mkdir()
    link = folder / _writer_name("x", _dead_pid(), 1)
    link.symlink_to(precious)
    _age(link, 120)
    sweep_stale(folder)
    assert not link.is_symlink() and (precious / "keep.txt").read_text() == "keep"


def test_temp_names_carry_the_writer(tmp_path: Path) -> None:
    with fsutil.atomic_open(tmp_path / "a.txt") as handle:
        handle.write("x")
        [temp] = leftovers(tmp_path)
    pid, start = _me()
    assert temp.startswith(temp_prefix("a.txt")) and f".p{pid}.s{start}." in temp
    assert leftovers(tmp_path) == []


def test_an_interrupted_swap_puts_the_old_copy_back(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state"
    with fsutil.atomic_directory(target) as tmp:
        (tmp / "progress.json").write_text('{"epoch": 1}')
    real_replace = os.replace
    calls = []

    def interrupted(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl+C between the two renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt), fsutil.atomic_directory(target, replace=True) as tmp:
        (tmp / "progress.json").write_text('{"epoch": 2}')
    monkeypatch.undo()
    assert json.loads((target / "progress.json").read_text()) == {"epoch": 1}
    assert leftovers(tmp_path) == []


def _big_csv(path: Path, songs: int = 30_000) -> Path:
    lines = ["title,artist,lyrics"]
    for i in range(songs):
        verse = "\\n".join(f"regel {j} van lied {i}, het regent in de straat" for j in range(6))
        lines.append(f'Lied {i},Zanger {i % 97},"{verse}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start_import(source: Path, home: Path, name: str) -> subprocess.Popen:
    env = smartlap_env(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "smartlap", "datasets", "import",
                             str(source), "--name", name], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _wait_for_temp(folder: Path, process: subprocess.Popen) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list(folder.glob(f"{TMP_PREFIX}big.*")) if folder.exists() else []
        if found and any(found[0].iterdir()):
            return found[0]
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    raise AssertionError("the import never started writing")


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143),
                                           (signal.SIGINT, 130)], ids=["kill -9", "SIGTERM",
                                                                       "SIGINT"])
def test_import_stopped_mid_way(tmp_path: Path, smartlap_home: Path, how, code) -> None:
    source = _big_csv(tmp_path / "big.csv")
    folder = smartlap_home / "datasets"
    process = _start_import(source, smartlap_home, "big")
    try:
        _wait_for_temp(folder, process)
        process.send_signal(how)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == code, err
    assert not (folder / "big").exists()
    if how == signal.SIGKILL:  # nothing could clean up: the next write to the folder does
        [leftover] = folder.glob(f"{TMP_PREFIX}big.*")
        _age(leftover, 120)
        from lyrics_fixtures import lyrics_400

        from smartlap.store import datasets

        datasets.import_dataset(lyrics_400(tmp_path / "small.csv"), name="small")
        assert not leftover.exists()
    else:
        assert "Traceback" not in err and "stopped" in err
        assert leftovers(folder) == []


KILL_IN_STATE_SAVE = textwrap.dedent("""
    import os, sys
    real_replace = os.replace

    def replace(src, dst):
        real_replace(src, dst)
        if str(src).endswith(os.sep + "state"):  # the previous state is moved aside...
            os._exit(137)  # ...and the process dies before the new one is put in

    os.replace = replace
    from smartlap.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_a_run_killed_during_its_state_save_resumes_from_the_previous_state(
        tmp_path: Path, smartlap_home: Path, tiny_gpt2_dir: Path) -> None:
    from smartlap.lm.train.config import TrainConfig
    from smartlap.lm.train.engine import run_training
    from smartlap.store import runs

    dataset = training_dataset(tmp_path)
    env = smartlap_env(smartlap_home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    killed = subprocess.run(
        [sys.executable, "-c", KILL_IN_STATE_SAVE, "train", "--model", str(tiny_gpt2_dir),
         "--dataset", dataset, "--name", "out", "--epochs", "2", "--block-size", "32",
         "--batch-size", "4", "--max-songs", "8", "--device", "cpu", "--json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert killed.returncode == 137, killed.stderr
    [run] = runs.list_runs()
    assert not (run.path / runs.STATE_DIR).exists()  # killed between the two renames
    assert any(name.endswith(".old") for name in leftovers(run.path))
    result = run_training(TrainConfig(model="", dataset=""), resume=run.id)
    assert result.status == "finished"
    started = [e for e in runs.read_run_events(run.id) if e.kind == "run_started"]
    assert started[-1].resumed_from_epoch == 2
    [half] = leftovers(run.path)  # the dead writer's new state: kept until a minute old
    _age(run.path / half, 120)
    runs.update_run(run.id, note="any write to the folder sweeps it")
    assert leftovers(run.path) == []


# --- signals -------------------------------------------------------------------------------------

def test_sigterm_stops_a_command_like_ctrl_c(tmp_path: Path, smartlap_home: Path) -> None:
    env = smartlap_env(smartlap_home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    process = subprocess.Popen([sys.executable, "-m", "smartlap", "craft", "scheme", "-"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, cwd=REPO)
    try:
        time.sleep(1.5)  # waiting on stdin, which never comes
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143
    assert "stopped" in err and "Traceback" not in err


def test_sigterm_during_training_is_a_graceful_stop() -> None:
    from smartlap.lm.train.engine import StopFlag

    with StopFlag().installed() as flag:
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not flag.requested and time.monotonic() < deadline:
            time.sleep(0.01)
    assert flag.requested and flag.signum == signal.SIGTERM


# --- overwrites ----------------------------------------------------------------------------------

@pytest.mark.parametrize("force", [False, True], ids=["refused", "--force"])
def test_songs_export_onto_an_existing_file(tmp_path: Path, capsys, force: bool) -> None:
    from smartlap.store.songbook import new_song

    song = new_song("Het regent", "regen op het dak\nen in mijn hart")
    target = tmp_path / "lied.txt"
    target.write_text("a longer text that must not be eaten\n" * 100)
    code = main(["songs", "export", song.slug, str(target), *(["--force"] if force else [])])
    if force:
        assert code == 0 and "regen op het dak" in target.read_text()
    else:
        clean_error(capsys, code, "already exists", "--force")
        assert target.read_text().startswith("a longer text")
    assert leftovers(tmp_path) == []


def test_datasets_export_onto_an_existing_file_is_refused(tmp_path: Path, capsys) -> None:
    from lyrics_fixtures import lyrics_400

    assert main(["datasets", "import", str(lyrics_400(tmp_path / "l.csv")), "--name", "l"]) == 0
    target = tmp_path / "out.csv"
    target.write_text("mine\n")
    clean_error(capsys, main(["datasets", "export", "l", "--to", str(target)]), "already exists")
    assert target.read_text() == "mine\n"


# --- symlinks at the model boundary --------------------------------------------------------------

def _outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir(exist_ok=True)
    (secret / "shadow").write_text("root:secret-hash:19000::::::\n")
    return secret


def _link_file_out(model: Path, tmp_path: Path) -> None:
    (model / "tokenizer_config.json").unlink()
    (model / "tokenizer_config.json").symlink_to(_outside(tmp_path) / "shadow")


def _link_folder_out(model: Path, tmp_path: Path) -> None:
    (model / "extra").symlink_to(_outside(tmp_path))


def _loop(model: Path, tmp_path: Path) -> None:
    (model / "a.json").symlink_to(model / "b.json")
    (model / "b.json").symlink_to(model / "a.json")


def _folder_loop(model: Path, tmp_path: Path) -> None:
    (model / "sub").mkdir()
    (model / "sub" / "again").symlink_to(model)


def _dangling(model: Path, tmp_path: Path) -> None:
    (model / "notes.txt").symlink_to(tmp_path / "gone")


def _fifo(model: Path, tmp_path: Path) -> None:
    os.mkfifo(model / "pipe")


LINK_SHAPES = [
    ("file linked outside", _link_file_out, "outside the model folder"),
    ("folder linked outside", _link_folder_out, "outside the model folder"),
    ("link loop", _loop, "loop"),
    ("folder link back up", _folder_loop, "loop"),
    ("dangling link", _dangling, "broken"),
    ("FIFO in the folder", _fifo, "not a regular file"),
]


@pytest.mark.parametrize(("case", "plant", "words"), LINK_SHAPES,
                         ids=[row[0] for row in LINK_SHAPES])
def test_models_add_copy_refuses_hostile_links(tmp_path: Path, tiny_gpt2_dir: Path,
                                               smartlap_home: Path, capsys, case, plant,
                                               words) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_gpt2_dir, model)
    plant(model, tmp_path)
    code = main(["models", "add", str(model), "--name", "planted"])
    clean_error(capsys, code, words)
    assert leftovers(smartlap_home) == []
    assert not (smartlap_home / "models" / "planted").exists()
    copied = [p.read_text(errors="replace") for p in smartlap_home.rglob("*") if p.is_file()]
    assert not any("secret-hash" in text for text in copied)


def test_models_add_copy_follows_links_that_stay_inside(tmp_path: Path, tiny_gpt2_dir: Path,
                                                        smartlap_home: Path) -> None:
    from smartlap.store.models import register_model

    model = tmp_path / "model"
    shutil.copytree(tiny_gpt2_dir, model)
    (model / "originals").mkdir()
    (model / "config.json").rename(model / "originals" / "config.json")
    (model / "config.json").symlink_to(Path("originals") / "config.json")
    info = register_model(model, "inside")
    copied = info.path / "config.json"
    assert copied.is_file() and not copied.is_symlink()


def test_models_add_copy_of_a_hugging_face_cache_snapshot(tmp_path: Path, tiny_gpt2_dir: Path,
                                                          smartlap_home: Path) -> None:
    from smartlap.store.models import register_model

    repo = tmp_path / "hub" / "models--someone--tiny"
    blobs, snapshot = repo / "blobs", repo / "snapshots" / "abc123"
    blobs.mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for index, file in enumerate(sorted(tiny_gpt2_dir.iterdir())):
        shutil.copy2(file, blobs / f"blob{index}")
        (snapshot / file.name).symlink_to(Path("..") / ".." / "blobs" / f"blob{index}")
    info = register_model(snapshot, "from-cache")
    assert info.params and not any(p.is_symlink() for p in info.path.iterdir())


def test_models_delete_of_planted_links(tmp_path: Path, smartlap_home: Path, capsys) -> None:
    precious = _outside(tmp_path)
    models = smartlap_home / "models"
    models.mkdir()
    for _ in range(2):  # twice: the first delete leaves nothing that trips the second
        (models / "planted").symlink_to(precious)
        assert main(["models", "delete", "planted"]) == 0
        assert not (models / "planted").is_symlink()
        assert (precious / "shadow").is_file()
    (models / "dangling").symlink_to(tmp_path / "nowhere")
    assert main(["models", "delete", "dangling"]) == 0
    assert sorted(p.name for p in models.iterdir()) == []
    capsys.readouterr()
    clean_error(capsys, main(["models", "delete", "planted"]), "No model named")


# --- blocking reads ------------------------------------------------------------------------------

def _plant_fifo(path: Path) -> None:
    os.mkfifo(path)


def _plant_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _plant_huge(path: Path) -> None:
    with open(path, "wb") as handle:  # sparse: 6 GB that take no room
        handle.truncate(6 * 10**9)


def _read_song(path: Path) -> None:
    from smartlap.store.songbook import open_song, songbook_dir

    songbook_dir().mkdir(parents=True, exist_ok=True)
    link = songbook_dir() / "planted.md"
    os.replace(path, link)
    open_song("planted")


def _read_craft_file(path: Path) -> None:
    from smartlap.cli.craft import _read_lyrics

    _read_lyrics(str(path))


def _read_style(path: Path) -> None:
    from smartlap.styles import load_style_file

    load_style_file(path, "user")


def _read_import(path: Path) -> None:
    from smartlap.store import datasets

    datasets.import_dataset(path, name="planted")


BLOCKING_READS = [
    (plant, reader)
    for reader in (_read_song, _read_craft_file, _read_style, _read_import)
    for plant in (_plant_fifo, _plant_dev_zero, _plant_huge)
    if not (reader is _read_import and plant is _plant_huge)  # imports stream big files
]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("plant", "reader"), BLOCKING_READS,
                         ids=[f"{r.__name__[6:]}-{p.__name__[7:]}" for p, r in BLOCKING_READS])
def test_user_named_files_are_read_only_if_regular_and_small(tmp_path: Path, capsys,
                                                             plant, reader) -> None:
    path = tmp_path / "hostile.md"
    plant(path)
    with pytest.raises(InputError):
        reader(path)
    err = capsys.readouterr().err
    assert "Traceback" not in err


def test_the_refusal_says_what_the_file_is(tmp_path: Path) -> None:
    fifo, zero = tmp_path / "fifo", tmp_path / "zero"
    os.mkfifo(fifo)
    zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="FIFO"):
        fsutil.read_user_file(fifo)
    with pytest.raises(InputError, match="device"):
        fsutil.read_user_file(zero)
    with pytest.raises(InputError, match="folder"):
        fsutil.read_user_file(tmp_path)
    with pytest.raises(FileNotFoundError):
        fsutil.read_user_file(tmp_path / "missing")


def test_a_song_named_in_the_songbook_as_a_fifo_is_skipped_by_the_listing(
        smartlap_home: Path) -> None:
    from smartlap.store.songbook import list_songs, new_song, songbook_dir

    new_song("Echt lied", "een regel")
    os.mkfifo(songbook_dir() / "pipe.md")
    assert [song.title for song in list_songs()] == ["Echt lied"]


def test_songs_show_of_a_fifo_is_one_clear_error(smartlap_home: Path, capsys) -> None:
    from smartlap.store.songbook import songbook_dir

    songbook_dir().mkdir(parents=True)
    os.mkfifo(songbook_dir() / "pipe.md")
    clean_error(capsys, main(["songs", "show", "pipe"]), "FIFO")



@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_a_run_cancelled_by_a_signal_exits_with_its_code(monkeypatch: pytest.MonkeyPatch,
                                                         signum, code) -> None:
    from smartlap.lm.train import engine

    def cancelled(*args, **kwargs):
        return engine.TrainResult("R", "cancelled", None, stop_signal=signum)

    monkeypatch.setattr(engine, "run_training", cancelled)
    assert main(["train", "--model", "m", "--dataset", "d", "--json"]) == code


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", [["craft", "scheme", "-"], ["generate", "--prompt", "-"]],
                         ids=["craft scheme -", "generate --prompt -"])
def test_stdin_from_dev_zero_is_capped(smartlap_home: Path, command: list[str]) -> None:
    env = smartlap_env(smartlap_home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run([sys.executable, "-m", "smartlap", *command], stdin=zero,
                              capture_output=True, text=True, env=env, cwd=REPO, timeout=50)
    assert done.returncode == 1
    assert "too big" in done.stderr and "Traceback" not in done.stderr

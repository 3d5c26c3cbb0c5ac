"""The installed `smartlap` console script in a real terminal (tmux): opens, switches, quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")


def _console_script() -> str | None:
    local = Path(sys.executable).with_name("smartlap")
    return str(local) if local.exists() else shutil.which("smartlap")


def _wait_for(session: str, text: str, timeout: float = 45.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                capture_output=True, text=True).stdout
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")


def _start_studio(home: Path, marker: Path) -> str:
    """The installed command in a new 80x24 tmux session; its exit code lands in ``marker``."""
    session = f"smartlap-smoke-{uuid.uuid4().hex[:8]}"
    command = f"{_console_script()}; echo $? > {marker}"
    env = {**os.environ, "SMARTLAP_HOME": str(home)}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    command], check=True, env=env)
    return session


def _send(session: str, keys: str) -> None:
    subprocess.run(["tmux", "send-keys", "-t", session, keys], check=True)


def _exit_code(marker: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    return marker.read_text().strip()


@pytest.mark.slow
@pytest.mark.skipif(TMUX is None or _console_script() is None,
                    reason="needs tmux and the installed console script")
def test_studio_opens_switches_screens_and_quits_in_tmux(smartlap_home: Path,
                                                         tmp_path: Path) -> None:
    marker = tmp_path / "exit-code"
    session = _start_studio(smartlap_home, marker)
    try:
        screen = _wait_for(session, "No training runs yet")
        assert "Write" in screen and "Generate" in screen  # the Footer shows the Write keys
        _send(session, "In de kroeg")
        _wait_for(session, "In de kroeg")
        _send(session, "F4")
        _wait_for(session, "Learning rate")
        _send(session, "F2")
        _wait_for(session, "dataset(s)")
        _send(session, "C-q")
        assert _exit_code(marker) == "0"
        assert (smartlap_home / "songbook" / "naamloos.md").exists()  # saved on quit
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


@pytest.mark.slow
@pytest.mark.skipif(TMUX is None or _console_script() is None,
                    reason="needs tmux and the installed console script")
def test_sigterm_quits_the_studio_like_ctrl_q_and_keeps_the_song(smartlap_home: Path,
                                                                 tmp_path: Path) -> None:
    import signal

    marker = tmp_path / "exit-code"
    session = _start_studio(smartlap_home, marker)
    try:
        _wait_for(session, "No training runs yet")
        _send(session, "Een woord voor het einde")
        _wait_for(session, "Een woord voor het einde")
        shell = subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
                               capture_output=True, text=True, check=True).stdout.strip()
        studio = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True,
                                check=True).stdout.split()[0]
        os.kill(int(studio), signal.SIGTERM)
        assert _exit_code(marker) == "143"  # 128 + SIGTERM, as a shell reports it
        song = (smartlap_home / "songbook" / "naamloos.md").read_text(encoding="utf-8")
        assert "Een woord voor het einde" in song  # saved first, as Ctrl+Q does
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)

"""``timbrespace explore``: a busy port (one error line, exit 2, before the run is loaded), ``--static`` progress."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.cli_run import run_cli

from .conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's note_run


def test_a_busy_port_fails_at_once_without_loading_the_run(note_run, capsys, monkeypatch):
    import timbrespace.explore

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run was loaded before the port was checked")

    monkeypatch.setattr(timbrespace.explore, "open_explorable", no_loading)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, text = run_cli(["explore", str(note_run), "--no-browser", "--port", str(port)], capsys)
    assert code == 2
    assert text.strip() == f"error: port {port} is in use on 127.0.0.1: stop what listens there or pass another --port"


def test_a_host_that_cannot_be_bound_is_one_line(note_run, capsys, monkeypatch):
    import timbrespace.explore

    monkeypatch.setattr(timbrespace.explore, "open_explorable", None)
    code, text = run_cli(["explore", str(note_run), "--no-browser", "--host", "no-such-host.invalid"], capsys)
    assert code == 2
    assert text.startswith("error: host='no-such-host.invalid' cannot be resolved") and text.count("\n") == 1


def test_a_second_explorer_on_the_same_port_exits_2_while_the_first_serves(note_run, capsys, monkeypatch):
    """The first prints its address once and serves; the second says the port is in use, fast.

    The first is a real process; the second runs in-process (a process's imports add seconds
    and prove nothing here), told that loading the run is a failure so it cannot serve."""
    import timbrespace.explore

    def no_loading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the second explorer loaded the run before checking the port")

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    argv = [sys.executable, "-m", "timbrespace", "explore", str(note_run), "--no-browser", "--port", str(port)]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                assert first.poll() is None, first.stdout.read() if first.stdout else ""
                assert time.monotonic() < deadline, "the explorer did not start in 90 s"
                time.sleep(0.3)
        monkeypatch.setattr(timbrespace.explore, "open_explorable", no_loading)
        t0 = time.monotonic()
        code, text = run_cli(argv[3:], capsys)
        elapsed = time.monotonic() - t0
        assert code == 2, text
        lines = text.strip().splitlines()
        assert lines == [f"error: port {port} is in use on 127.0.0.1: stop what listens there or pass another --port"]
        assert elapsed < 30  # no model loaded (it took ~16 s on the default run before)
        assert httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=5).status_code == 200  # the first still serves
    finally:
        first.terminate()
        out, _ = first.communicate(timeout=20)
    assert out.count(f"http://127.0.0.1:{port}/") == 1, out


def test_static_progress_bar_can_be_hidden(note_run, capsys, tmp_path):
    quiet, loud = tmp_path / "quiet.html", tmp_path / "loud.html"
    code, text = run_cli(["explore", str(note_run), "--static", str(quiet), "--grid", "2", "--no-progress"], capsys)
    assert code == 0 and text.strip() == f"wrote {quiet}"
    code, text = run_cli(["explore", str(note_run), "--static", str(loud), "--grid", "2", "--progress"], capsys)
    assert code == 0 and "decoding the grid" in text and f"wrote {loud}" in text
    assert quiet.read_text() == loud.read_text()

"""``timbrespace explore`` and ``export-model``: files, the served page, and one-line errors (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.cli_run import run_cli as _run

from .conftest import free_port


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["explore", "RUN", "--port", "70000"], "--port=70000 is out of range: allowed 1..65535"),
        (["explore", "RUN", "--static", "x.html", "--grid", "40"], "--grid=40 is out of range: allowed 2..15"),
        (["explore", "no/such/run", "--no-browser"], "no/such/run: no such run folder"),
        (["export-model", "RUN", "--format", "tflite", "-o", "m"], "--format='tflite' is not allowed: one of onnx, torchscript"),
        (["export-model", "RUN", "--part", "both", "-o", "m"], "--part='both' is not allowed: one of decoder, encoder"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, text = _run(argv, capsys)
    assert code == 2
    assert text.strip() == f"error: {message}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.xdist_group("explore-runs")  # shares the session's note_run
@pytest.mark.slow
def test_static_page_and_export(note_run, capsys, tmp_path):
    out = tmp_path / "page.html"
    code, text = _run(["explore", str(note_run), "--static", str(out), "--grid", "3"], capsys)
    assert code == 0, text
    html = out.read_text()
    assert 'id="timbrespace-static"' in html and "<style>" in html
    assert "http://" not in html and "https://" not in html and 'src="' not in html
    before = out.read_bytes()
    code, text = _run(["explore", str(note_run), "--static", str(out)], capsys)
    assert code == 2 and "exists; pass --overwrite" in text and out.read_bytes() == before

    model = tmp_path / "decoder.pt"
    code, text = _run(["export-model", str(note_run), "--format", "torchscript", "-o", str(model)], capsys)
    assert code == 0, text
    assert model.is_file() and (tmp_path / "decoder.pt.json").is_file()
    code, text = _run(["export-model", str(note_run), "--format", "torchscript", "-o", str(model)], capsys)
    assert code == 2 and "exists; pass --overwrite" in text


@pytest.mark.xdist_group("explore-runs")
@pytest.mark.slow
def test_explore_serves_until_stopped(note_run):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "timbrespace", "explore", str(note_run), "--no-browser",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=2).json()
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                assert time.monotonic() < deadline, "the explorer did not start in 90 s"
                time.sleep(0.3)
        assert info["kind"] == "run" and info["latent_dim"] == 4
        res = httpx.post(f"http://127.0.0.1:{port}/api/decode", json={"z": [9, 9]}, timeout=10)
        assert res.status_code == 400
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200  # still up
    finally:
        proc.terminate()
        proc.wait(20)

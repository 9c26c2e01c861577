"""Harness for the bad-input tables (``test_bad_inputs*.py``).

One session-wide sandbox holds what a user already has: a generated dataset with
features, a trained run, a folder of recordings to ingest, MIDI grooves, an existing
WAV and an existing export. Every case runs one CLI command in-process and checks:

- the exit code (2 for bad input);
- exactly one ``error:`` line on stderr, naming the problem (a needle);
- no traceback;
- every file that existed before is byte-identical after (SHA-256), and no file or
  folder appeared anywhere in the sandbox (nothing half-written, no partial output).

A case is a :class:`Case`; its ``argv`` may use ``{name}`` placeholders for the
sandbox's paths (see :class:`Sandbox`).
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

__all__ = ["Case", "Sandbox", "build_sandbox", "run_case", "snapshot"]


@dataclass(frozen=True)
class Case:
    """One bad input: ``argv`` (with ``{placeholders}``), the expected exit code and needles."""

    id: str
    argv: tuple[str, ...]
    needles: tuple[str, ...] = ()
    code: int = 2
    files: dict[str, bytes] = field(default_factory=dict)  # extra input files written before the run


@dataclass(frozen=True)
class Sandbox:
    """Paths of the user's existing data, for ``{name}`` placeholders in a case's argv."""

    root: Path
    dataset: Path  # generated, with features "spec" (stft dB, per-item min-max)
    run: Path  # a finished `timbrespace run` folder trained on a tiny experiment
    notes: Path  # a folder of recordings in the NSynth layout
    grooves: Path  # MIDI grooves with drums
    wav: Path  # an existing WAV file
    export: Path  # an existing export file
    inputs: Path  # where a case's extra input files go (written before the snapshot)
    new: Path  # a path that does not exist (for outputs that must not appear)

    def fill(self, argv: tuple[str, ...]) -> list[str]:
        names = {k: str(v) for k, v in self.__dict__.items()}
        return [a.format(**names) for a in argv]


def snapshot(root: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file (folders as ``<dir>``) under ``root``."""
    out: dict[str, str] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = "<dir>" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _tone(f0_hz: float, sample_rate: int = 16000, duration_s: float = 0.5) -> np.ndarray:
    t = np.arange(int(sample_rate * duration_s)) / sample_rate
    return (0.4 * np.sin(2 * np.pi * f0_hz * t) * np.exp(-3 * t)).astype(np.float32)


def build_sandbox(root: Path, grooves_source: Path | None = None) -> Sandbox:
    """Make the user's data: dataset + features, a trained run, recordings, grooves, files."""
    import json

    from timbrespace.datasets import DatasetConfig, generate_dataset
    from timbrespace.experiments import load_experiment_config, run_experiment
    from timbrespace.features import FeatureConfig, compute_dataset_features

    root.mkdir(parents=True, exist_ok=True)
    config = DatasetConfig(
        name="tiny",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.25,
        seed=3,
        parameters={
            "f0_hz": {"min": 110, "max": 880, "n": 4, "spacing": "log"},
            "decay_per_s": {"min": 1, "max": 8, "n": 3},
        },
        splits={"train": 0.5, "valid": 0.25, "test": 0.25},
    )
    dataset = root / "dataset"
    ds = generate_dataset(config, dataset, workers=1, progress=False)
    compute_dataset_features(
        ds,
        FeatureConfig(kind="stft", n_fft=256, hop_length=64, output="db", normalization="minmax_item"),
        name="spec",
        progress=False,
    )
    experiment = load_experiment_config(
        None,
        {
            "dataset.parameters": {"f0_hz": {"min": 100, "max": 800, "n": 4, "spacing": "log"},
                                   "decay_per_s": {"min": 1, "max": 12, "n": 3}},
            "dataset.sample_rate": 8000,
            "dataset.duration_s": 0.25,
            "features.n_bins": 144,
            "features.hop_length": 512,
            "model.shift.warp": False,
            "training.epochs": 2,
            "training.init": "random",
            "model.linear_skip": False,
            "model.latent_dim": 3,  # shift, one spectrum, one envelope latent (no warp latent)
            "training.warmup_steps": 10,
            "training.audio_decoder_epochs": 0,
            "evaluation.n_reconstructions": 1,
            "evaluation.n_traversal_latents": 1,
        },
    )
    run = root / "run"
    logging.disable(logging.INFO)
    try:
        # without drawing report.html: no test reads this run's report (those that check one
        # redraw it with `evaluate` on a copy); about half of the run's seconds
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr("timbrespace.experiments.report.write_run_report", lambda run_dir, **_: run_dir / "report.html")
            run_experiment(experiment, out=run, workers=1, progress=False)
    finally:
        logging.disable(logging.NOTSET)

    notes = root / "notes"
    (notes / "audio").mkdir(parents=True)
    examples = {}
    for pitch in (60, 64, 67, 72):
        for velocity in (50, 100):
            stem = f"synth-{pitch:03d}-{velocity:03d}"
            y = _tone(440 * 2 ** ((pitch - 69) / 12)) * velocity / 100
            sf.write(notes / "audio" / f"{stem}.wav", y, 16000)
            examples[stem] = {"instrument_str": "synth", "pitch": pitch, "velocity": velocity}
    (notes / "examples.json").write_text(json.dumps(examples))

    grooves = root / "grooves"
    grooves.mkdir()
    if grooves_source is not None:
        for p in sorted(grooves_source.glob("pflib__*.mid"))[:4]:
            shutil.copy(p, grooves / p.name)

    wav = root / "existing.wav"
    sf.write(wav, _tone(220), 16000)
    export = root / "existing.npz"
    np.savez(export, kept=np.arange(3))
    inputs = root / "inputs"
    inputs.mkdir()
    return Sandbox(root=root, dataset=dataset, run=run, notes=notes, grooves=grooves, wav=wav,
                   export=export, inputs=inputs, new=root / "new_output")


def run_case(sandbox: Sandbox, case: Case) -> tuple[int, str]:
    """Run one case in-process; assert the bad-input contract; return (code, stderr)."""
    from timbrespace.cli import main

    for name, data in case.files.items():
        target = sandbox.inputs / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(data)
    before = snapshot(sandbox.root)
    err, out = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stderr(err), redirect_stdout(out):
        try:
            main(sandbox.fill(case.argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    stderr = err.getvalue()
    after = snapshot(sandbox.root)
    assert code == case.code, f"exit {code}, expected {case.code}\n{stderr}"
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, f"expected one 'error:' line, got {len(lines)}:\n{stderr}"
    for needle in case.needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert "site-packages" not in lines[0], lines[0]
    changed = sorted(k for k in before if after.get(k) != before[k])
    appeared = sorted(set(after) - set(before))
    assert not changed, f"files changed or deleted: {changed[:10]}"
    assert not appeared, f"files appeared: {appeared[:10]}"
    return code, stderr

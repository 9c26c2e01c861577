"""Bad inputs through the CLI: exit 2, one clear `error:` line, no traceback, nothing changed.

The harness is in ``bad_inputs.py`` and the ``sandbox`` fixture in ``conftest.py``; each row of ``CASES`` is one thing a user might
type. Issue 18 asks for at least 60 (with ``test_bad_inputs_data.py``).
"""

from __future__ import annotations

import pytest

from tests.cli.bad_inputs import Case, run_case

_SPEC = ("--features", "spec", "--no-progress")  # train and sweep on the sandbox dataset's features
_MIDI = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"  # empty

CASES = [
    # usage errors
    Case("unknown-command", ("no-such-command",), ("No such command",)),
    Case("unknown-option", ("generate", "seed001-additive", "--out", "{new}", "--bogus"), ("--bogus",)),
    Case("missing-out", ("train", "{dataset}", "--features", "spec"), ("--out",)),
    Case("not-an-integer", ("generate", "seed001-additive", "--out", "{new}", "--workers", "abc"), ("--workers",)),
    Case("generate-no-config", ("generate", "--out", "{new}"), ("config",)),
    # run
    Case("run-missing-config", ("run", "{inputs}/absent.yaml", "--out", "{new}"), ("not found",)),
    Case("run-unknown-override", ("run", "--set", "model.nope=1", "--out", "{new}"), ("nope",)),
    Case("run-latent-dim-0", ("run", "--set", "model.latent_dim=0", "--out", "{new}"), ("latent_dim",)),
    Case("run-into-finished-run", ("run", "--out", "{run}"), ("already",)),
    Case("run-n-fft-too-long", ("run", "--set", "features.n_fft=100000", "--out", "{new}"), ("n_fft",)),
    Case("run-epochs-not-a-number", ("run", "--set", "training.epochs=many", "--out", "{new}"), ("epochs",)),
    Case("run-latent-dim-not-a-number", ("run", "--set", "model.latent_dim=abc", "--out", "{new}"),
         ("latent_dim='abc' must be an integer",)),
    Case("run-set-without-value", ("run", "--set", "training.epochs", "--out", "{new}"), ("KEY=VALUE",)),
    Case("run-workers-0", ("run", "--workers", "0", "--out", "{new}"), ("--workers",)),
    Case("run-missing-dataset", ("run", "--dataset", "{inputs}/absent", "--out", "{new}"), ("does not exist",)),
    # generate
    Case("generate-workers-0", ("generate", "seed001-additive", "--out", "{new}", "--workers", "0"), ("--workers",)),
    Case("generate-workers-negative", ("generate", "seed001-additive", "--out", "{new}", "--workers", "-3"),
         ("--workers",)),
    Case("generate-batch-size-0", ("generate", "seed001-additive", "--out", "{new}", "--batch-size", "0"),
         ("--batch-size",)),
    Case("generate-bad-naming", ("generate", "seed001-additive", "--out", "{new}", "--naming", "x"), ("--naming",)),
    Case("generate-unknown-preset", ("generate", "no-such-preset", "--out", "{new}"), ("no-such-preset",)),
    # synths
    Case("synths-unknown-model", ("synths", "render", "nope", "--out", "{new}.wav"), ("nope",)),
    Case("synths-bad-suffix", ("synths", "render", "additive", "--out", "{new}.xyz"), ("picks no audio format",)),
    Case("synths-long", ("synths", "render", "additive", "--duration-s", "100000", "--out", "{new}.wav"),
         ("limit",)),
    Case("synths-out-of-range", ("synths", "render", "additive", "--set", "f0_hz=-3", "--out", "{new}.wav"),
         ("f0_hz",)),
    Case("synths-sample-rate-0", ("synths", "render", "additive", "--sample-rate", "0", "--out", "{new}.wav"),
         ("--sample-rate=0",)),
    Case("synths-value-not-a-number", ("synths", "render", "additive", "--set", "f0_hz=abc", "--out", "{new}.wav"),
         ("f0_hz='abc' is not a number",)),
    Case("synths-setting-without-value", ("synths", "render", "additive", "--set", "f0_hz", "--out", "{new}.wav"),
         ("NAME=VALUE",)),
    Case("synths-list-unknown-model", ("synths", "--model", "nope"), ("nope",)),
    # info, export, ingest, evaluate
    Case("info-missing", ("info", "{inputs}/absent"), ()),
    Case("info-json-missing", ("info", "{inputs}/absent", "--json"), ()),
    Case("export-unknown-format", ("export", "{dataset}", "--format", "mp4", "--out", "{new}"), ("--format",)),
    Case("export-unknown-variant", ("export", "{dataset}", "--format", "seed000-npz", "--variant", "x",
                                    "--out", "{new}.npz"), ("--variant",)),
    Case("evaluate-not-a-run", ("evaluate", "{dataset}"), ("run",)),
    Case("ingest-missing-folder", ("ingest", "{inputs}/absent", "--out", "{new}"), ()),
    Case("ingest-unknown-layout", ("ingest", "{notes}", "--out", "{new}", "--layout", "zip"), ("--layout",)),
    Case("ingest-bad-splits", ("ingest", "{notes}", "--out", "{new}", "--splits", "train=most"), ("--splits",)),
    Case("ingest-sample-rate-0", ("ingest", "{notes}", "--out", "{new}", "--sample-rate", "0"), ("--sample-rate",)),
    # features and invert
    Case("features-n-fft-longer-than-items", ("features", "{dataset}", "--n-fft", "100000", "--name", "x"),
         ("--n-fft", "longer than the items")),
    Case("features-fmin-at-nyquist", ("features", "{dataset}", "--kind", "mel", "--fmin-hz", "4000", "--name", "x"),
         ("--fmin-hz", "Nyquist")),
    Case("features-fmax-above-nyquist", ("features", "{dataset}", "--kind", "mel", "--fmax-hz", "6000",
                                         "--name", "x"), ("--fmax-hz", "Nyquist")),
    Case("features-unknown-kind", ("features", "{dataset}", "--kind", "wavelet"), ("--kind",)),
    Case("features-unknown-scale", ("features", "{dataset}", "--scale", "loud"), ("--scale",)),
    Case("features-hop-0", ("features", "{dataset}", "--hop-length", "0"), ("--hop-length",)),
    Case("features-window-longer-than-fft", ("features", "{dataset}", "--win-length", "2048"), ("--win-length",)),
    Case("features-batch-size-0", ("features", "{dataset}", "--batch-size", "0"), ("--batch-size",)),
    Case("features-bad-name", ("features", "{dataset}", "--name", "../escape"), ("--name",)),
    Case("invert-unknown-method", ("invert", "{dataset}", "--method", "magic", "--out", "{new}"), ("--method",)),
    Case("invert-unknown-item", ("invert", "{dataset}", "--items", "999999", "--out", "{new}"), ("999999",)),
    Case("invert-batch-size-0", ("invert", "{dataset}", "--batch-size", "0", "--out", "{new}"), ("--batch-size",)),
    Case("invert-unknown-features", ("invert", "{dataset}", "--features", "nope", "--out", "{new}"), ("nope",)),
    # train and sweep
    Case("train-devices-0", ("train", "{dataset}", *_SPEC, "--devices", "0", "--out", "{new}"), ("--devices",)),
    Case("train-unknown-objective", ("train", "{dataset}", *_SPEC, "--objective", "vqvae", "--out", "{new}"),
         ("--objective",)),
    Case("train-hidden-not-numbers", ("train", "{dataset}", *_SPEC, "--hidden", "wide", "--out", "{new}"),
         ("--hidden",)),
    Case("train-refine-negative", ("train", "{dataset}", *_SPEC, "--refine-epochs", "-1", "--out", "{new}"),
         ("--refine-epochs",)),
    Case("train-refine-normalised-features", ("train", "{dataset}", *_SPEC, "--refine-epochs", "5", "--out", "{new}"),
         ("--refine-epochs=5", "without normalisation")),
    Case("train-epochs-0", ("train", "{dataset}", *_SPEC, "--epochs", "0", "--out", "{new}"), ("--epochs",)),
    Case("train-negative-lr", ("train", "{dataset}", *_SPEC, "--lr", "-1", "--out", "{new}"), ("--lr",)),
    Case("train-batch-size-0", ("train", "{dataset}", *_SPEC, "--batch-size", "0", "--out", "{new}"),
         ("--batch-size",)),
    Case("train-unknown-schedule", ("train", "{dataset}", *_SPEC, "--beta-schedule", "wavy", "--out", "{new}"),
         ("--beta-schedule",)),
    Case("train-unknown-features", ("train", "{dataset}", "--features", "nope", "--out", "{new}"), ("nope",)),
    Case("sweep-negative-beta", ("sweep", "{dataset}", *_SPEC, "--beta", "-1", "--out", "{new}"), ("--beta",)),
    Case("sweep-seeds-0", ("sweep", "{dataset}", *_SPEC, "--seeds", "0", "--out", "{new}"), ("--seeds",)),
    Case("sweep-jobs-0", ("sweep", "{dataset}", *_SPEC, "--jobs", "0", "--out", "{new}"), ("--jobs",)),
    Case("sweep-unknown-objective", ("sweep", "{dataset}", *_SPEC, "--objectives", "beta_vae,vqvae",
                                     "--out", "{new}"), ("vqvae",)),
    Case("sweep-labelled-fraction-2", ("sweep", "{dataset}", *_SPEC, "--labelled-fraction", "2", "--out", "{new}"),
         ("--labelled-fraction",)),
    # timbre
    Case("timbre-unknown-preset", ("timbre", "train", "{dataset}", "--preset", "huge", "--out", "{new}"),
         ("--preset",)),
    Case("timbre-steps-17", ("timbre", "interpolate", "{run}", "Bright", "0", "E4", "Dark", "100", "E5",
                             "--steps", "17", "--out", "{new}"), ("--steps",)),
    Case("timbre-unknown-descriptor", ("timbre", "generate", "{run}", "Sparkly", "50", "E4", "--out", "{new}"),
         ("Sparkly",)),
    Case("timbre-unknown-color", ("timbre", "latent-map", "{run}", "--color", "loudness"), ("--color",)),
    Case("timbre-bad-magnitudes", ("timbre", "build", "{notes}", "--magnitudes", "0,x", "--out", "{new}"),
         ("--magnitudes",)),
    # drums
    Case("drums-swing-0.7", ("drums", "sample", "{run}", "--swing", "0.7", "--out", "{new}"), ("--swing",)),
    Case("drums-sample-rate-0", ("drums", "sample", "{run}", "--sample-rate", "0", "--out", "{new}"),
         ("--sample-rate",)),
    Case("drums-bpm-0", ("drums", "sample", "{run}", "--bpm", "0", "--out", "{new}"), ("--bpm",)),
    Case("drums-bars-0", ("drums", "sample", "{run}", "--bars", "0", "--out", "{new}"), ("--bars",)),
    Case("drums-n-0", ("drums", "sample", "{run}", "--n", "0", "--out", "{new}"), ("--n",)),
    Case("drums-unknown-kit", ("drums", "sample", "{run}", "--kit", "NoSuchKit", "--kits", "{inputs}",
                               "--out", "{new}"), ("NoSuchKit", "searched")),
    Case("drums-interpolate-steps-1", ("drums", "interpolate", "{run}", "{inputs}/a.mid", "{inputs}/a.mid",
                                       "--steps", "1", "--out", "{new}"), ("--steps",), files={"a.mid": _MIDI}),
    Case("drums-interpolate-missing-midi", ("drums", "interpolate", "{run}", "{inputs}/absent.mid",
                                            "{inputs}/absent.mid", "--out", "{new}"), ("absent.mid",)),
    Case("drums-bad-time-signature", ("drums", "ingest", "{grooves}", "--time-signature", "4-4", "--out", "{new}"),
         ("--time-signature",)),
    Case("drums-unknown-drum-map", ("drums", "ingest", "{grooves}", "--drum-map", "gm", "--out", "{new}"),
         ("--drum-map",)),
    Case("drums-unknown-dedup", ("drums", "ingest", "{grooves}", "--dedup", "some", "--out", "{new}"), ("--dedup",)),
    Case("drums-steps-per-bar-0", ("drums", "ingest", "{grooves}", "--steps-per-bar", "0", "--out", "{new}"),
         ("--steps-per-bar",)),
    Case("drums-hidden-not-numbers", ("drums", "train", "{dataset}", "--hidden", "wide", "--out", "{new}"),
         ("--hidden",)),
    Case("drums-negative-warmup", ("drums", "train", "{dataset}", "--warmup-steps", "-1", "--out", "{new}"),
         ("--warmup-steps",)),
    Case("drums-threshold-1.5", ("drums", "train", "{dataset}", "--threshold", "1.5", "--out", "{new}"),
         ("--threshold",)),
    Case("drums-unknown-architecture", ("drums", "train", "{dataset}", "--architecture", "transformer",
                                        "--out", "{new}"), ("--architecture",)),
]

LEAKS = ("invalid literal", "Extra inputs are not permitted", "site-packages", "Input should be", "/tmp/tmp",
         "not supported between instances", "<U")


@pytest.mark.xdist_group("cli-sandbox")  # one session sandbox (a trained run) per worker
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(sandbox, case):
    _, stderr = run_case(sandbox, case)
    line = next(line for line in stderr.splitlines() if line.startswith("error: "))
    assert not [leak for leak in LEAKS if leak in line], line


def test_the_table_is_large_enough():
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)

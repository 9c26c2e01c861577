"""Benchmark of VAE training throughput on the CPU: samples/s for MLP and conv VAEs.

Run (about a minute on 2 cores; ``--quick`` halves it)::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/train.py [--quick] [--seconds S]

Prints one table row per (model, threads, path):

- ``step``: a bare loop of forward + loss + backward + Adam step on random batches, the
  ceiling of what training can reach;
- ``fit``: the same model through :func:`timbrespace.training.fit` (Lightning, epoch
  records, per-epoch checkpoints), on a 2,048-item array, timed after one small warm-up
  fit in the process (as the step loop is timed after warm-up steps), so that one-off
  imports and allocator growth are not counted. Target: ``fit`` at >= 85 % of ``step``
  for the MLP (issue 16).

Models: the seed-000 MLP (1024 → 600 → 10, batch 64) and a conv VAE on (1, 128, 64)
spectrograms (channels 32, 64, 128, 256; hidden 256; latent 16; batch 32), the conv one
also in contiguous (NCHW) memory format to show what channels-last buys.

Then ``time to MIG``: the default experiment (``additive-4factor``: its dataset,
features, model and training config) trained under :func:`fit` with a callback that
encodes every item and scores MIG after each epoch. It prints the training wall time
(scoring excluded) at which MIG first reached the run's final MIG, and the MIG curve.
``--skip-mig`` leaves it out.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch

from timbrespace.metrics import mig
from timbrespace.models import VAEConfig, build_model
from timbrespace.training import TrainConfig, encode_array, fit

MLP = VAEConfig(input_shape=(1024,), latent_dim=10, hidden_sizes=(600,), activation="relu6")
CONV = VAEConfig(
    input_shape=(1, 128, 64),
    latent_dim=16,
    architecture="conv",
    conv_channels=(32, 64, 128, 256),
    hidden_sizes=(256,),
)
BATCH = {"mlp": 64, "conv": 32}


def bench_steps(
    config: VAEConfig, batch_size: int, seconds: float, *, channels_last: bool = True
) -> float:
    """Samples/s of a bare training loop."""
    model = build_model(config, seed=0)
    if not channels_last:
        model = model.to(memory_format=torch.contiguous_format)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)  # the optimiser fit builds
    g = torch.Generator().manual_seed(0)
    x = torch.rand((batch_size, *config.input_shape), generator=g)
    if not channels_last and config.architecture == "conv":
        # keep the encoder from converting: run its conv stack on NCHW input directly
        model.encoder.forward = _nchw_forward(model.encoder)  # type: ignore[method-assign]
        model.decoder.forward = _nchw_decoder(model.decoder)  # type: ignore[method-assign]
    n, start, warm = 0, 0.0, 3
    for i in range(10_000):
        if i == warm:
            start, n = time.perf_counter(), 0
        out = model(x, generator=g)
        loss = model.loss(x, out).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        n += batch_size
        if i >= warm and time.perf_counter() - start > seconds:
            break
    return n / (time.perf_counter() - start)


def _nchw_forward(encoder):  # noqa: ANN001, ANN202
    def forward(x, condition=None):  # noqa: ANN001, ANN202
        h = encoder.conv(x.reshape(x.shape[0], *encoder.image_shape).contiguous()).flatten(1)
        return encoder.head(encoder.fc(h)).chunk(2, dim=1)

    return forward


def _nchw_decoder(decoder):  # noqa: ANN001, ANN202
    def forward(z, condition=None):  # noqa: ANN001, ANN202
        h = decoder.fc(z).reshape(z.shape[0], *decoder.start_shape).contiguous()
        return decoder.deconv(h).reshape(z.shape[0], *decoder.input_shape)

    return forward


def bench_fit(config: VAEConfig, batch_size: int, n_items: int, epochs: int, threads: int) -> float:
    """Samples/s of ``fit`` (includes Lightning, validation-free epochs and checkpoint writes)."""
    x = np.random.default_rng(0).random((n_items, *config.input_shape), dtype=np.float32)
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: lazy imports, first allocations
        fit(config, TrainConfig(epochs=1, batch_size=batch_size, num_threads=threads), x[:batch_size],
            out_dir=tmp)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        fit(
            config,
            TrainConfig(epochs=epochs, batch_size=batch_size, num_threads=threads),
            x,
            out_dir=tmp,
        )
        return epochs * n_items / (time.perf_counter() - start)


class MIGCurve(L.Callback):
    """Scores MIG on every item after each training epoch; times training alone."""

    def __init__(self, x: np.ndarray, codes: np.ndarray) -> None:
        self.x, self.codes = x, codes
        self.train_s = 0.0
        self.curve: list[tuple[int, float, float]] = []  # (epoch, training s, MIG)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.train_s += time.perf_counter() - self._t0
        score = mig(encode_array(pl_module.model, self.x), self.codes).score
        self.curve.append((trainer.current_epoch + 1, self.train_s, score))


def time_to_final_mig(threads: int) -> None:
    """Train the default experiment, scoring MIG per epoch; print when it reached its final MIG."""
    from timbrespace.datasets import generate_dataset
    from timbrespace.experiments import load_experiment_config
    from timbrespace.features import compute_dataset_features

    config = load_experiment_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        ds = generate_dataset(config.dataset, Path(tmp) / "ds", progress=False)
        name = compute_dataset_features(ds, config.features, name="bench")
        x = ds.load_features(name)
        prep_s = time.perf_counter() - start
        train_idx, valid_idx = ds.split_indices("train"), ds.split_indices("valid")
        model_config = dataclasses.replace(config.model, input_shape=tuple(x.shape[1:]))
        train_config = dataclasses.replace(config.training, num_threads=threads)
        curve = MIGCurve(x, ds.factor_codes)
        fit(model_config, train_config, x[train_idx], x[valid_idx], out_dir=Path(tmp) / "run",
            callbacks=[curve])
    final = curve.curve[-1][2]
    reached = next(c for c in curve.curve if c[2] >= final)
    print(f"\ntime to MIG: {config.name}, {len(x)} items, {threads} thread(s); "
          f"dataset + features {prep_s:.1f} s")
    print(f"  final MIG {final:.3f} after {curve.curve[-1][0]} epochs, {curve.train_s:.1f} s of training")
    print(f"  first reached at epoch {reached[0]}, {reached[1]:.1f} s of training")
    every = max(1, len(curve.curve) // 12)
    print("  epoch  train_s    MIG")
    for epoch, seconds, score in curve.curve[every - 1 :: every]:
        print(f"  {epoch:>5}  {seconds:>7.1f}  {score:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="Shorter timings.")
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="Timed seconds per step benchmark."
    )
    parser.add_argument("--skip-mig", action="store_true", help="Leave out the time-to-MIG run.")
    args = parser.parse_args()
    seconds = args.seconds / (2 if args.quick else 1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available")
    print(f"{'model':<18}{'threads':>8}{'path':>8}{'samples/s':>12}")
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for name, config in (("mlp", MLP), ("conv", CONV)):
            rate = bench_steps(config, BATCH[name], seconds)
            print(f"{name:<18}{threads:>8}{'step':>8}{rate:>12.0f}")
        rate = bench_steps(CONV, BATCH["conv"], seconds, channels_last=False)
        print(f"{'conv (NCHW)':<18}{threads:>8}{'step':>8}{rate:>12.0f}")
        n_mlp, n_conv = (1024, 256) if args.quick else (2048, 512)
        rate = bench_fit(MLP, BATCH["mlp"], n_mlp, 2, threads)
        print(f"{'mlp':<18}{threads:>8}{'fit':>8}{rate:>12.0f}")
        rate = bench_fit(CONV, BATCH["conv"], n_conv, 1, threads)
        print(f"{'conv':<18}{threads:>8}{'fit':>8}{rate:>12.0f}")
    if not args.skip_mig:
        time_to_final_mig(threads=min(2, torch.get_num_threads()))


if __name__ == "__main__":
    main()

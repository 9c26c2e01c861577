"""Speed of the DDSP audio decoder: the oscillator bank's two paths and one training step.

Run from the repository root::

    .venv/bin/python benchmarks/ddsp.py                 # ~30 s, one torch thread
    .venv/bin/python benchmarks/ddsp.py --sample-rate 8000 --duration 0.5 --repeats 9

Rows (median of ``--repeats`` after one warm-up, a batch of 16 items, 32 partials, control
frames 31.25 ms apart as ``audio_decoder_config`` sets them):

- ``harmonic_synth``, one f0 per frame (the running phase sum, float64, every sample): what
  every decode paid before the closed-form path;
- ``harmonic_synth``, one f0 per item (the closed form: the phase at each frame in
  float64, the advance within a frame in float32, one batched matrix product of the two
  frames' amplitudes with the sinusoids); both harmonic and stiff (``B`` 0.002);
- one training step of :class:`~timbrespace.models.ddsp.AudioDecoder` (forward, the
  multi-resolution STFT loss, backward), with a tuning head and predicted ``B``, as the
  default experiment trains it;
- ``decode_audio`` of one item, what the explorer's ``POST /api/decode`` pays before HTTP.

Ratios are per-frame path / closed form (> 1: the closed form is faster).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from timbrespace.models.ddsp import FRAME_S, AudioDecoder, AudioDecoderConfig
from timbrespace.models.dsp import harmonic_synth
from timbrespace.models.losses import multi_resolution_stft_loss
from timbrespace.training.audio_decoder import audio_fft_sizes, decode_audio


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--duration", type=float, default=1.0, help="seconds per item")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    sr, n_samples = args.sample_rate, round(args.duration * args.sample_rate)
    hop = max(1, round(FRAME_S * sr))
    n_frames = -(-n_samples // hop) + 1
    gen = torch.Generator().manual_seed(0)
    f0 = 100.0 * 2 ** (3 * torch.rand(args.batch, generator=gen))
    amps = torch.rand(args.batch, 32, n_frames, generator=gen)
    stiff = torch.full((args.batch,), 0.002)
    per_frame = f0[:, None].expand(args.batch, n_frames)
    print(f"batch of {args.batch} items of {args.duration:g} s at {sr} Hz, 32 partials, hop {hop} "
          f"(median of {args.repeats}, one torch thread)")
    for label, b in (("harmonic", None), ("stiff, B 0.002", stiff)):
        slow = median_ms(lambda b=b: harmonic_synth(per_frame, amps, sample_rate=sr, hop_length=hop,
                                                    n_samples=n_samples, inharmonicity=b), args.repeats)
        fast = median_ms(lambda b=b: harmonic_synth(f0, amps, sample_rate=sr, hop_length=hop, n_samples=n_samples,
                                                    inharmonicity=b), args.repeats)
        print(f"harmonic_synth {label:15s} per-frame f0 {slow:7.1f} ms | one f0 per item {fast:7.1f} ms | "
              f"ratio {slow / fast:4.1f}x")
    config = AudioDecoderConfig(latent_dim=4, sample_rate=sr, n_samples=n_samples, fmin_hz=50.0, bins_per_octave=24.0,
                                centre_bins=71.5, shift_scale_bins=36.0, f0_offset_bins=0.0, hop_length=hop,
                                f0_correction_cents=100.0, tuning_hidden_sizes=(128, 128), inharmonicity="predicted")
    model = AudioDecoder(config)
    z = torch.randn(args.batch, 4, generator=gen)
    target = torch.randn(args.batch, n_samples, generator=gen)
    sizes = audio_fft_sizes(n_samples)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        multi_resolution_stft_loss(model(z), target, sizes).backward()

    print(f"AudioDecoder training step (forward, MR-STFT loss, backward): {median_ms(step, args.repeats):.1f} ms")
    model.eval()
    one = z[:1].numpy()
    print(f"decode_audio of one item: {median_ms(lambda: decode_audio(model, one), args.repeats * 3):.1f} ms")


if __name__ == "__main__":
    main()

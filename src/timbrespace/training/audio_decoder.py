"""Training the time-domain audio decoder (DDSP) on a frozen encoder's latents; its checkpoint.

A second stage after the VAE, like the decoder refinement (:mod:`timbrespace.training.refine`),
but its output is audio: :func:`fit_audio_decoder` trains an
:class:`~timbrespace.models.ddsp.AudioDecoder` to map the training items' posterior means
``mu`` to their audio under the multi-resolution STFT loss
(:func:`~timbrespace.models.losses.multi_resolution_stft_loss`). The encoder, the latents
and every score stay as trained; what a listener hears no longer goes through phase
retrieval. The decoder is saved beside the run's checkpoints, in
``RUN/checkpoints/audio_decoder/`` (``model.safetensors`` + ``model.json``, format
``timbrespace.audio_decoder``), and :func:`decode_audio` plays latents from there.

References
----------
Engel, Hantrakul, Gu & Roberts, "DDSP: Differentiable digital signal processing", ICLR
2020. Caillon & Esling, "RAVE", arXiv:2111.05011, 2021 (a second stage on a frozen
encoder). Yamamoto, Song & Kim, "Parallel WaveGAN", ICASSP 2020, and Steinmetz & Reiss,
"auraloss", DMRN+15 2020 (the multi-resolution STFT loss).
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from timbrespace.errors import ConfigError, DatasetError, ParameterError, TrainingError
from timbrespace.models.ddsp import (
    AudioDecoder,
    AudioDecoderConfig,
    calibrate_f0_offset,
    measure_tuning,
)
from timbrespace.models.losses import multi_resolution_stft_loss
from timbrespace.training.checkpoint import (
    MODEL_CONFIG,
    MODEL_WEIGHTS,
    load_tensors,
    read_checkpoint_json,
    save_tensors,
)
from timbrespace.utils.atomic import atomic_write_json

__all__ = [
    "AUDIO_DECODER_DIR",
    "run_audio_decoder",
    "audio_decoder_summary",
    "audio_fft_sizes",
    "decode_audio",
    "fit_audio_decoder",
    "load_audio_decoder",
    "save_audio_decoder",
]

log = logging.getLogger(__name__)

AUDIO_DECODER_DIR = "audio_decoder"  # under RUN/checkpoints/
FORMAT = "timbrespace.audio_decoder"
FORMAT_VERSION = 2  # 2: the tuning head (config tuning_hidden_sizes); 1 still reads
FFT_SIZES = (2048, 1024, 512)
CORRECTION_HARMONICS = 5  # partials measuring f0 for a decoder without a tuning head (few: stiff strings pull it sharp)
CORRECTION_WEIGHT = 1.0  # of that decoder's f0 regression loss, (cents error / f0_correction_cents)^2
TUNING_STEPS = 3000  # full-batch Adam steps fitting the tuning head, before the synthesis controls
TUNING_LR = 3e-3
TUNING_CENTS_UNIT = 1.0  # Huber (delta 1) on errors in these units: cents, and B
TUNING_STIFFNESS_UNIT = 1e-5


def audio_fft_sizes(n_samples: int) -> tuple[int, ...]:
    """The loss's FFT sizes: 2048, 1024 and 512, halved together until ``n_fft // 2 < n_samples``.

    Raises
    ------
    ParameterError
        If ``n_samples`` < 64 (no resolution fits).
    """
    sizes = FFT_SIZES
    while sizes[0] // 2 >= n_samples and sizes[-1] > 64:
        sizes = tuple(n // 2 for n in sizes)
    if sizes[0] // 2 >= n_samples:
        raise ParameterError(f"n_samples={n_samples} is too short for the audio decoder's STFT loss (>= 64)")
    return sizes


def fit_audio_decoder(
    model: AudioDecoder,
    mu_train: np.ndarray,
    audio_train: np.ndarray,
    *,
    sample_rate: int,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: bool = False,
) -> AudioDecoder:
    """Train ``model`` to decode ``mu_train`` to ``audio_train`` (multi-resolution STFT loss).

    The f0 offset is calibrated first when the config leaves it ``None``
    (:func:`~timbrespace.models.ddsp.calibrate_f0_offset`). With ``f0_correction_cents``
    each item's f0 is then measured in its audio near the latent's
    (:func:`~timbrespace.models.ddsp.refined_f0_cents`) and the MLP's correction is
    regressed on it (``CORRECTION_WEIGHT * mean((c - c*)/f0_correction_cents)^2`` added
    to the loss). With a tuning head (fitted first, :func:`_fit_tuning`), the controls are
    trained under each training item's own measured tuning (the head's output plus its
    residual, :meth:`~timbrespace.models.ddsp.AudioDecoder.measure_tuning_residual`'s
    quantity), so the amplitudes learn where the partials are, not where the head puts
    them: on the default run's seed 0, decoded with each test item's measured tuning, spectral
    convergence 0.095 against 0.112 (from ``z`` alone 0.266 against 0.259). Then Adam, the learning rate
    cosine-decayed to 0, items in an order drawn from ``seed``, one torch thread (the
    thread count is restored afterwards). Same inputs and seed: the same weights.

    Parameters
    ----------
    model : AudioDecoder
        Its weights change in place; returned in eval mode, its epoch losses in
        ``model.loss_history``.
    mu_train : np.ndarray [shape=(n_train, latent_dim), dtype=float32]
        Posterior means of the training items (the frozen encoder's).
    audio_train : np.ndarray [shape=(n_train, n_samples), dtype=float32]
        Their audio; ``n_samples`` is the config's (padded or cut by the caller).
    sample_rate : int
        Hz; must be the config's.
    epochs, batch_size : int
        Passes over the items, items per Adam step.
    lr : float
        Adam learning rate.
    seed : int
        Seeds the item order.
    progress : bool
        A bar on stderr.

    Returns
    -------
    AudioDecoder
        ``model``.

    Raises
    ------
    ParameterError
        Shapes, sample rate or hyper-parameters that do not fit, or non-finite inputs.
    TrainingError
        If the loss becomes NaN or infinite.
    """
    c = model.config
    mu = np.asarray(mu_train, dtype=np.float32)
    audio = np.asarray(audio_train, dtype=np.float32)
    if mu.ndim != 2 or mu.shape[1] != c.latent_dim or audio.shape != (len(mu), c.n_samples) or not len(mu):
        raise ParameterError(f"mu_train {mu.shape} and audio_train {audio.shape} must be (n, {c.latent_dim}) and "
                             f"(n, {c.n_samples}) with n > 0")
    if int(sample_rate) != c.sample_rate:
        raise ParameterError(f"sample_rate={sample_rate} differs from the decoder's {c.sample_rate} Hz")
    if epochs < 1 or batch_size < 1 or not lr > 0:
        raise ParameterError(f"epochs={epochs} and batch_size={batch_size} must be >= 1 and lr={lr} > 0")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(audio))):
        raise ParameterError("mu_train and audio_train must be finite (NaN or inf found)")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _fit(model, torch.from_numpy(mu), torch.from_numpy(audio), epochs=epochs, batch_size=batch_size,
                    lr=lr, seed=seed, progress=progress)
    finally:
        torch.set_num_threads(threads)


def _fit(model: AudioDecoder, mu: torch.Tensor, audio: torch.Tensor, *, epochs: int, batch_size: int, lr: float,
         seed: int, progress: bool) -> AudioDecoder:
    if model.config.f0_offset_bins is None:
        offset = calibrate_f0_offset(model.config, mu, audio)
        model.f0_offset_bins.fill_(offset)
        log.info("audio decoder: f0 offset calibrated to %+.2f bins of the view", offset)
    fft_sizes = audio_fft_sizes(model.config.n_samples)
    limit = model.config.f0_correction_cents
    target = None
    residual = None
    if model.tuning is not None:
        measured = _fit_tuning(model, mu, audio, seed=seed)
        with torch.no_grad():  # the amplitudes learn under each item's own tuning (the head's error removed)
            head_cents, head_b = model.tuning_of(mu)
            residual = torch.stack([measured[0].double() - head_cents,
                                    measured[1].double() - head_b if head_b is not None
                                    else torch.zeros_like(head_cents)], dim=1)
    elif limit > 0:
        with torch.no_grad():
            target = measure_tuning(model.f0_hz(mu), audio, sample_rate=model.config.sample_rate, max_cents=limit,
                                    n_harmonics=CORRECTION_HARMONICS)[0]
        log.info("audio decoder: f0 of the training items measured in their audio, %.1f cents from the "
                 "latent's at the median (absolute)", float(target.abs().median()))
    model.train()
    optimiser = torch.optim.Adam(model.body.parameters(), lr=lr, foreach=True)
    steps = math.ceil(len(mu) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs * steps))
    generator = torch.Generator().manual_seed(seed)
    history: list[float] = []
    bar = Progress(TextColumn("[bold]audio decoder"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   TextColumn("MRSTFT {task.fields[loss]}"), console=Console(stderr=True), disable=not progress)
    with bar:
        task = bar.add_task("ddsp", total=epochs, loss="-")
        for epoch in range(epochs):
            order = torch.randperm(len(mu), generator=generator)
            total = 0.0
            for start in range(0, len(mu), batch_size):
                rows = order[start : start + batch_size]
                decoded = model(mu[rows]) if residual is None else model(mu[rows], residual[rows])
                loss = multi_resolution_stft_loss(decoded, audio[rows], fft_sizes)
                if target is not None:
                    error = (model.f0_correction(mu[rows]) - target[rows]) / limit
                    loss = loss + CORRECTION_WEIGHT * error.square().mean()
                if not torch.isfinite(loss):
                    raise TrainingError(f"audio decoder: the STFT loss is {loss.item()} at epoch {epoch}")
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                schedule.step()
                total += float(loss.detach()) * len(rows)
            history.append(total / len(mu))
            bar.update(task, advance=1, loss=f"{history[-1]:.4g}")
            log.debug("audio decoder epoch %d: loss %.4g", epoch, history[-1])
    for p in model.parameters():
        p.grad = None
    model.loss_history = history
    return model.eval()


def _fit_tuning(model: AudioDecoder, mu: torch.Tensor, audio: torch.Tensor, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fit the tuning head alone on the items' f0 and stiffness measured in their audio
    (:func:`~timbrespace.models.ddsp.measure_tuning`): ``TUNING_STEPS`` full-batch Adam steps,
    cosine-decayed, Huber loss in units of ``TUNING_CENTS_UNIT`` cents and
    ``TUNING_STIFFNESS_UNIT`` of ``B``. Its weights are then frozen (``requires_grad`` off).
    Returns the measured cents (from the latent's f0) and ``B``, ``(n,)`` each."""
    c = model.config
    predicted = c.inharmonicity == "predicted"
    with torch.no_grad():
        cents, stiffness = measure_tuning(model.f0_hz(mu), audio, sample_rate=c.sample_rate,
                                          max_cents=c.f0_correction_cents,
                                          max_stiffness=c.stiffness_max if predicted else 0.0)
    huber = torch.nn.HuberLoss(delta=1.0)
    params = list(model.tuning.parameters())
    optimiser = torch.optim.Adam(params, lr=TUNING_LR, foreach=True)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=TUNING_STEPS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(TUNING_STEPS):
            got_cents, got_b = model.tuning_of(mu, dtype=torch.float32)  # as precise as float64 here, 3x faster
            loss = huber(got_cents / TUNING_CENTS_UNIT, cents / TUNING_CENTS_UNIT)
            if got_b is not None:
                loss = loss + huber(got_b / TUNING_STIFFNESS_UNIT, stiffness / TUNING_STIFFNESS_UNIT)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
    for p in params:
        p.grad = None
        p.requires_grad_(False)
    with torch.no_grad():
        got_cents, got_b = model.tuning_of(mu)
    err_c = (got_cents - cents.double()).abs().median()
    err_b = (got_b - stiffness.double()).abs().median() if got_b is not None else torch.tensor(0.0)
    log.info("audio decoder: f0 of the training items measured in their audio %.1f cents from the latent's "
             "(median absolute), B %.2g; the tuning head matches them within %.2f cents and %.2g of B",
             float(cents.abs().median()), float(stiffness.median()), float(err_c), float(err_b))
    model.tuning_summary = {"measured_cents_median_abs": float(cents.abs().median()),
                            "measured_stiffness_median": float(stiffness.median()),
                            "fit_cents_median_abs_error": float(err_c),
                            "fit_stiffness_median_abs_error": float(err_b)}
    return cents, stiffness


def save_audio_decoder(model: AudioDecoder, path_dir: str | Path) -> Path:
    """Write ``model`` to folder ``path_dir`` (``model.safetensors`` + ``model.json``), swapped in whole.

    ``model.json`` holds the format tag, the config (with the calibrated f0 offset) and the
    epoch losses. The folder is written beside ``path_dir`` and renamed into place.
    """
    target = Path(path_dir)
    new = target.with_name(target.name + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    config = model.config.to_dict()
    config["f0_offset_bins"] = float(model.f0_offset_bins)
    save_tensors(dict(model.state_dict()), new / MODEL_WEIGHTS)
    atomic_write_json(new / MODEL_CONFIG, {"format": FORMAT, "version": FORMAT_VERSION, "config": config,
                                           "loss_history": list(getattr(model, "loss_history", [])),
                                           "tuning": getattr(model, "tuning_summary", None)})
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def load_audio_decoder(path_dir: str | Path) -> AudioDecoder:
    """Rebuild the decoder :func:`save_audio_decoder` wrote, in eval mode.

    Raises
    ------
    FileNotFoundError
        If the files are missing.
    ConfigError
        If ``model.json`` is not an audio decoder's, or the weights do not match it.
    """
    path = Path(path_dir) / MODEL_CONFIG
    meta = read_checkpoint_json(path)
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    version = meta.get("version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION or not isinstance(meta.get("config"), dict):
        raise ConfigError(f"{path}: not an audio decoder this library reads (version {version!r}, key 'config')")
    try:
        config = AudioDecoderConfig.from_dict(meta["config"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a valid audio decoder config ({str(exc)[:160]})") from None
    model = AudioDecoder(config)
    state = load_tensors(Path(path_dir) / MODEL_WEIGHTS)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"{Path(path_dir) / MODEL_WEIGHTS}: weights do not match model.json ({detail[:240]})") from None
    model.loss_history = [float(v) for v in meta.get("loss_history") or []]
    if isinstance(meta.get("tuning"), dict):
        model.tuning_summary = meta["tuning"]
    return model.eval()


def run_audio_decoder(run_dir: str | Path, *, latent_dim: int, sample_rate: int) -> AudioDecoder | None:
    """A run's DDSP decoder (``RUN/checkpoints/audio_decoder``), or ``None`` when it has none.

    Parameters
    ----------
    run_dir : path-like
        A run folder.
    latent_dim, sample_rate : int
        The run's (its model's latents; its features' rate, Hz): the decoder must match them.

    Raises
    ------
    DatasetError
        A decoder for another latent size or sample rate than the run's.
    ConfigError
        As :func:`load_audio_decoder`.
    """
    folder = Path(run_dir) / "checkpoints" / AUDIO_DECODER_DIR
    if not (folder / MODEL_CONFIG).is_file():
        return None
    decoder = load_audio_decoder(folder)
    c = decoder.config
    if c.latent_dim != latent_dim or c.sample_rate != sample_rate:
        raise DatasetError(f"{folder}: an audio decoder of {c.latent_dim} latents at {c.sample_rate} Hz, but the "
                           f"run has {latent_dim} latents at {sample_rate} Hz; run it again")
    return decoder


def decode_audio(source: str | Path | AudioDecoder, z: np.ndarray | torch.Tensor,
                 tuning: np.ndarray | torch.Tensor | None = None) -> tuple[np.ndarray, int]:
    """Audio of latents ``z`` from a trained audio decoder: no features, no phase retrieval.

    Parameters
    ----------
    source : path-like or AudioDecoder
        A run folder (its ``checkpoints/audio_decoder``), that checkpoint folder itself, or
        a decoder.
    z : array-like [shape=(n, latent_dim) or (latent_dim,)]
        Latents (e.g. posterior means from ``latents.npz``).
    tuning : array-like [shape=(n, 2) or (2,)], optional
        Tuning residuals (cents, ``B``) measured in the items' audio
        (:meth:`~timbrespace.models.ddsp.AudioDecoder.measure_tuning_residual`; ``timbrespace
        encode`` writes them): the decoded partials sit where the recording's did.

    Returns
    -------
    audio : np.ndarray [shape=(n, n_samples), dtype=float32]
    sample_rate : int
        Hz.

    Raises
    ------
    FileNotFoundError
        If the folder holds no audio decoder (the run was trained without
        ``training.audio_decoder_epochs``).
    ParameterError
        If ``z`` does not have ``latent_dim`` columns or is not finite, or ``tuning`` is not
        one finite pair per row.
    ConfigError
        ``tuning`` for a decoder without a tuning head.

    Examples
    --------
    >>> audio, sr = decode_audio("runs/additive-4factor", mu[:4])  # doctest: +SKIP
    """
    if isinstance(source, AudioDecoder):
        model = source
    else:
        folder = Path(source)
        if not (folder / MODEL_CONFIG).is_file():
            folder = folder / "checkpoints" / AUDIO_DECODER_DIR
        if not (folder / MODEL_CONFIG).is_file():
            raise FileNotFoundError(2, "no audio decoder here (train with training.audio_decoder_epochs > 0)",
                                    str(folder))
        model = load_audio_decoder(folder)
    zt = torch.as_tensor(np.asarray(z, dtype=np.float32))
    if zt.dim() == 1:
        zt = zt[None, :]
    if zt.dim() != 2 or zt.shape[1] != model.config.latent_dim or not bool(torch.isfinite(zt).all()):
        raise ParameterError(f"z of shape {tuple(zt.shape)} must be finite and (n, {model.config.latent_dim})")
    tt = None
    if tuning is not None:
        tt = torch.as_tensor(np.asarray(tuning, dtype=np.float64))
        tt = tt[None, :] if tt.dim() == 1 else tt
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            audio = model.eval()(zt, tt).numpy().astype(np.float32)
    finally:
        torch.set_num_threads(threads)
    return audio, model.config.sample_rate


def audio_decoder_summary(model: AudioDecoder) -> dict[str, Any]:
    """``epochs``, first and last epoch loss (MRSTFT, plus the f0 correction's term without a tuning
    head), the f0 offset and, with a tuning head, how well it fits the measured f0 and ``B``
    (``tuning``) of a trained decoder (for ``metrics.json``)."""
    history = list(getattr(model, "loss_history", []))
    out = {"epochs": len(history), "loss_first": history[0] if history else None,
           "loss_last": history[-1] if history else None, "f0_offset_bins": float(model.f0_offset_bins)}
    if getattr(model, "tuning_summary", None):
        out["tuning"] = dict(model.tuning_summary)
    return out

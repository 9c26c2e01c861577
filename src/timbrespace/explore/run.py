"""The explorer's adapter for ``run`` and ``train`` runs (``timbrespace run``, ``timbrespace train``).

Both kinds share one layout: the resolved ``config.yaml`` (with the recorded
``dataset_path`` and ``features_name``), the dataset (``RUN/dataset`` or ``dataset_path``)
with its features (``run_features`` unless ``features_name`` says otherwise) and their
sidecar, the model under ``checkpoints/last`` (``best`` as a fallback, as ``evaluate``
does) and ``latents.npz``. Decoding is :func:`~timbrespace.training.decode_array` then
:func:`~timbrespace.features.invert` with the stored sidecar; every architecture
(``mlp``, ``conv``, ``shift``) decodes the same way.

Phase retrieval (features without phase), ``n_iter`` iterations (a request may ask for
0..64):

- STFT and mel: PGHI (Průša et al. 2017, no iterations) followed by fast Griffin-Lim
  (Perraudin et al. 2013), 8 iterations by default: PGHI gives a coherent phase at once,
  and the iterations lower the spectral convergence further at about 1 ms each for a 1 s
  note.
- CQT and NSGT magnitudes: the features' own inverse (``invert(method="auto")``), which
  maps them to an STFT magnitude (:mod:`timbrespace.features.constant_q`) and then does
  the same, 8 iterations by default. On the default experiment (CQT, 0.5 s at 8 kHz) the
  spectral convergence of the audio against the original items (the run's
  ``reconstruction.spectral_convergence`` measure, 40 stored items) is 0.48 with PGHI
  alone and 0.42 after 8 iterations.

Features normalised per item (``minmax_item``, seed 002) need an item's dB range to be
inverted. A decoded ``z`` is no item, so it takes the inverse-distance-weighted range of
its four nearest items in latent space; a path between two items interpolates the two
items' ranges linearly, as seed 002 did.

A recording (``POST /api/encode``) is encoded as ``timbrespace encode`` encodes it
(:mod:`timbrespace.generation.audio`): resampled to the features' rate, trimmed or
zero-padded to their length, the same transform and normalisation, the model's posterior
mean.

Decoded features outside the stored range are brought into it by
:func:`~timbrespace.explore.limits.soft_limit` (not clipped: far points stay distinct),
and each clip says which fraction of its values were outside (``clipped_fraction``).

A run trained with ``training.audio_decoder_epochs`` (a DDSP decoder in
``checkpoints/audio_decoder``, :mod:`timbrespace.training.audio_decoder`) is played by
that decoder: ``z`` goes straight to audio (:func:`~timbrespace.training.audio_decoder.decode_audio`),
for points, paths and the items' reconstructions, with no features and no phase retrieval.
Such a run has no ``n_iter`` option (a request that still sends one is not refused: it
is ignored), ``/api/info`` says ``decoder: "audio"`` (``"features"`` otherwise), and a
clip's ``clipped_fraction`` is the fraction of its latent coordinates outside the items'
extent (each latent's min..max of the items' ``mu``): nothing is limited, the number
says how far from the training data the decoder is asked to go. ``export_part("decoder")``
then exports ``z -> audio``. With the decoder's tuning head, the options
:data:`TUNING_OPTIONS` (cents of f0 and ``B`` beyond what ``z`` gives, 0 by default) take
``n_iter``'s place; an encoded recording's are measured in it and returned by
:meth:`encode`, and an item's reconstruction uses those measured in its own audio.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.errors import ConfigError, DatasetError
from timbrespace.explore.base import Explorable
from timbrespace.explore.limits import feature_range, soft_limit
from timbrespace.explore.types import Clip, Encoding, ExportPart, Option

TUNING_OPTIONS = ("tuning_cents", "tuning_stiffness")
"""Decode options of a DDSP decoder with a tuning head: cents and ``B`` beyond the head
(:meth:`~timbrespace.models.ddsp.AudioDecoder.measure_tuning_residual`); ``/api/encode`` gives
a recording's own."""

__all__ = ["RunExplorable", "DEFAULT_N_ITER", "RUN_KINDS"]

DEFAULT_N_ITER = {"stft": 8, "mel": 8, "cqt": 8, "nsgt": 8}
"""Default phase-retrieval iterations by feature kind (see the module docstring)."""
RUN_KINDS = ("run", "train")
_N_NEIGHBOURS = 4


class RunExplorable(Explorable):
    """A finished ``timbrespace run`` or ``timbrespace train`` folder, opened for the explorer.

    Parameters
    ----------
    root : path-like
        The run folder.
    n_iter : int, optional
        Default phase-retrieval iterations (a request may override it); default
        :data:`DEFAULT_N_ITER` of the features' kind. Unused by a run with an audio decoder.
    use_audio_decoder : bool
        False: play features and phase retrieval even where the run has an audio decoder
        (to compare the two).

    Attributes
    ----------
    kind : {"run", "train"}
        The run card's kind.
    config : ExperimentConfig
        The resolved ``config.yaml``.
    dataset : Dataset
    features_name : str
        The features the model was trained on.
    sidecar : FeatureSidecar
        Their sidecar, typed (what :func:`~timbrespace.features.invert` needs).
    model : VAE
        The last checkpoint.
    phase_method : str
        The ``invert`` method: ``"pghi+gl"`` for magnitudes (STFT, mel, CQT, NSGT),
        ``"auto"`` (the exact inverse) for features that keep phase.
    n_iter : int
        Default phase-retrieval iterations.
    audio_decoder : AudioDecoder or None
        The run's DDSP decoder (``checkpoints/audio_decoder``): it plays ``z`` when there is one.
    decoder : {"audio", "features"}
        Which plays ``z`` (``/api/info``'s ``decoder``).
    can_encode : bool
        True: the (unconditional) model encodes a recording alone.

    Raises
    ------
    DatasetError
        Not a finished run of a kind in :data:`RUN_KINDS` (no ``run.json``, ``config.yaml``,
        ``latents.npz``, checkpoint, dataset or features), or a conditional ``train`` run
        (``cvae``, which writes no ``config.yaml``), or an audio decoder that does not fit
        the run (latent size, sample rate).
    ConfigError
        An unreadable or invalid ``config.yaml`` or audio decoder ``model.json``.
    """

    can_encode = True

    def __init__(self, root: str | Path, *, n_iter: int | None = None, use_audio_decoder: bool = True) -> None:
        from pydantic import ValidationError

        from timbrespace.datasets import Dataset
        from timbrespace.experiments.config import ExperimentConfig
        from timbrespace.experiments.pipeline import FEATURES_NAME
        from timbrespace.experiments.runs import read_run_card, read_run_config
        from timbrespace.features import FeatureSidecar
        from timbrespace.training import load_checkpoint
        from timbrespace.utils.fields import format_validation_error

        root = Path(root)
        self.kind = read_run_card(root).kind
        if self.kind not in RUN_KINDS:
            raise DatasetError(f"{root}: a {self.kind!r} run, not one of {', '.join(RUN_KINDS)}")
        cfg_path, latents_path = root / "config.yaml", root / "latents.npz"
        if self.kind == "train" and latents_path.is_file() and not cfg_path.is_file():
            raise DatasetError(f"{root}: a conditional 'train' run (model cvae, no config.yaml) cannot be explored: "
                               "it needs its factors to decode; train an unconditional model (e.g. --model beta_vae)")
        for path in (cfg_path, latents_path):
            if not path.is_file():
                raise DatasetError(f"{root}: not a finished run (no {path.name}); run `timbrespace {self.kind}` first")
        resolved = read_run_config(root)
        dataset_path = resolved.pop("dataset_path", None)
        self.features_name = str(resolved.pop("features_name", FEATURES_NAME))
        try:
            self.config = ExperimentConfig.model_validate(resolved)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, str(cfg_path), model=ExperimentConfig)) from None
        self.dataset = Dataset(dataset_path if dataset_path else root / "dataset")
        if self.features_name not in self.dataset.feature_names():
            raise DatasetError(f"{self.dataset.root}: features {self.features_name!r} are missing; "
                               f"run `timbrespace {self.kind}` again")
        self.sidecar = FeatureSidecar.from_dict(self.dataset.feature_sidecar(self.features_name))
        self.feature_config = self.sidecar.config
        checkpoint = next((p for p in (root / "checkpoints" / "last", root / "checkpoints" / "best")
                           if (p / "model.json").is_file()), None)
        if checkpoint is None:
            raise DatasetError(f"{root}: no checkpoint under checkpoints/last or checkpoints/best")
        self.model = load_checkpoint(checkpoint)
        super().__init__(root, latent_dim=self.model.config.latent_dim, sample_rate=self.sidecar.sample_rate,
                         n_bins=self.config.evaluation.n_bins)
        with np.load(latents_path) as npz:
            mu, logvar, ids = npz["mu"], npz["logvar"], npz["item_id"]
        meta = self.dataset.metadata
        if len(ids) != len(meta):
            raise DatasetError(f"{latents_path}: {len(ids)} items but the dataset has {len(meta)}; run evaluate again")
        split = meta["split"].astype(str).tolist() if "split" in meta else ["train"] * len(ids)
        self._set_items(ids.tolist(), mu, logvar, meta[self.dataset.factor_names], split)
        norm = self.sidecar.normalization
        self._item_range = (np.asarray(norm.item_min), np.asarray(norm.item_max)) \
            if norm.kind == "minmax_item" else None
        self._value_range = feature_range(self.sidecar)
        self.phase_method = "auto" if self.feature_config.has_phase else "pghi+gl"
        self.n_iter = DEFAULT_N_ITER.get(self.feature_config.kind, 0) if n_iter is None else int(n_iter)
        from timbrespace.training.audio_decoder import run_audio_decoder

        self.audio_decoder = run_audio_decoder(root, latent_dim=self.latent_dim, sample_rate=self.sample_rate) \
            if use_audio_decoder else None
        self._item_tuning: dict[int, np.ndarray | None] = {}
        if self.audio_decoder is None:
            self.options = (Option("n_iter", "phase-retrieval iterations", self.n_iter, min=0, max=64, step=1),)
        elif self.audio_decoder.tuning is not None:  # a recording's tuning beyond the head (encode sets them)
            from timbrespace.models.ddsp import RESIDUAL_MAX_CENTS

            stiffness_max = float(self.audio_decoder.config.stiffness_max)
            self.options = (
                Option(TUNING_OPTIONS[0], "fine tuning", 0.0, min=-RESIDUAL_MAX_CENTS, max=RESIDUAL_MAX_CENTS,
                       step=0.1, unit=" cents"),
                Option(TUNING_OPTIONS[1], "stiffness B offset", 0.0, min=-stiffness_max, max=stiffness_max,
                       step=1e-5),
            )
        else:
            self.options = ()

    @property
    def decoder(self) -> str:
        """``"audio"`` (the DDSP decoder plays ``z``) or ``"features"`` (features, then phase retrieval)."""
        return "features" if self.audio_decoder is None else "audio"

    def extra_info(self) -> dict[str, Any]:
        return {"decoder": self.decoder}

    def check_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        if self.audio_decoder is not None:  # no phase retrieval: n_iter means nothing, and is ignored
            given = {k: v for k, v in given.items() if k != "n_iter"}
        return super().check_options(given)

    # ------------------------------------------------------------------ the audio decoder
    def _decode_audio(self, z: np.ndarray, tuning: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Audio of ``z`` ``(n, latent_dim)`` from the DDSP decoder (with tuning residuals ``(n, 2)``,
        if given) and, per row, the fraction of its latents outside the items' extent."""
        from timbrespace.training.audio_decoder import decode_audio

        audio, _ = decode_audio(self.audio_decoder, z, tuning)
        mu = self.items().latents
        outside = (z < mu.min(axis=0)) | (z > mu.max(axis=0))
        return audio, outside.mean(axis=1)

    def _tuning(self, n: int, options: Mapping[str, Any]) -> np.ndarray | None:
        """The tuning options as residuals ``(n, 2)`` (``None`` without them)."""
        if TUNING_OPTIONS[0] not in options:
            return None
        return np.tile([float(options[TUNING_OPTIONS[0]]), float(options[TUNING_OPTIONS[1]])], (n, 1))

    def _measured_tuning(self, z: np.ndarray, audio: np.ndarray) -> np.ndarray | None:
        """Each recording's tuning residual ``(n, 2)`` measured in its audio (``None`` without a tuning head)."""
        import torch

        if self.audio_decoder is None or self.audio_decoder.tuning is None:
            return None
        return self.audio_decoder.measure_tuning_residual(torch.as_tensor(z, dtype=torch.float32),
                                                          torch.as_tensor(audio, dtype=torch.float32)).numpy()

    # ------------------------------------------------------------------ decoding
    def _invert(self, x: np.ndarray, n_iter: int, item_min: np.ndarray | None,
                item_max: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Audio of decoded features ``x`` and, per item, the fraction of ``x`` outside the stored range."""
        from timbrespace.features import invert

        if self._item_range is None:
            item_min = item_max = None
        x, clipped = soft_limit(x, self._value_range)
        audio = invert(x, self.sidecar, method=self.phase_method, n_iter=int(n_iter), item_min=item_min,
                       item_max=item_max)
        return audio, clipped

    def _nearest_range(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
        """Inverse-distance-weighted dB range of each ``z``'s nearest items (``minmax_item``)."""
        if self._item_range is None:
            return None, None
        mu = self.items().latents
        d = np.sqrt(((z[:, None, :].astype(np.float64) - mu[None]) ** 2).sum(axis=-1))
        k = min(_N_NEIGHBOURS, len(mu))
        idx = np.argpartition(d, k - 1, axis=1)[:, :k]
        w = 1.0 / (np.take_along_axis(d, idx, axis=1) + 1e-6)
        w /= w.sum(axis=1, keepdims=True)
        lo, hi = self._item_range
        return (w * lo[idx]).sum(axis=1), (w * hi[idx]).sum(axis=1)

    def decode_batch(self, z: np.ndarray, options: Mapping[str, Any]) -> list[Clip]:
        from timbrespace.training import decode_array

        if self.audio_decoder is not None:
            audio, clipped = self._decode_audio(z, self._tuning(len(z), options))
        else:
            lo, hi = self._nearest_range(z)
            audio, clipped = self._invert(decode_array(self.model, z), options["n_iter"], lo, hi)
        return [Clip(np.ascontiguousarray(y, dtype=np.float32), self.sample_rate, clipped_fraction=float(c))
                for y, c in zip(audio, clipped, strict=True)]

    def _item_clips(self, index: int, options: Mapping[str, Any]) -> tuple[Clip, Clip]:
        """The item's audio from the dataset and its reconstruction from ``mu``.

        Raises
        ------
        DatasetError
            The dataset keeps no audio.
        """
        from timbrespace.training import decode_array

        if self.dataset.card.audio_format in (None, "none"):
            raise DatasetError(f"{self.dataset.root}: the dataset keeps no audio")
        original = self.dataset.load_audio([index])[0]
        if self.audio_decoder is not None:
            z = self.items().latents[index : index + 1]  # with the item's own tuning, as encode plays a recording
            if index not in self._item_tuning:  # measured once per item (about 40 ms)
                self._item_tuning[index] = self._measured_tuning(z, original[None])
            recon, clipped = self._decode_audio(z, self._item_tuning[index])
            return Clip(original, self.sample_rate), Clip(recon[0], self.sample_rate,
                                                          clipped_fraction=float(clipped[0]))
        x = decode_array(self.model, self.items().latents[index : index + 1])
        lo = hi = None
        if self._item_range is not None:
            lo, hi = self._item_range[0][[index]], self._item_range[1][[index]]
        recon, clipped = self._invert(x, options["n_iter"], lo, hi)
        return Clip(original, self.sample_rate), Clip(recon[0], self.sample_rate, clipped_fraction=float(clipped[0]))

    def _path_clip(self, a: int, b: int, t: np.ndarray, z: np.ndarray, options: Mapping[str, Any]) -> Clip:
        from timbrespace.training import decode_array

        lo = hi = None
        if self._item_range is not None:
            rmin, rmax = self._item_range
            lo, hi = (1 - t) * rmin[a] + t * rmin[b], (1 - t) * rmax[a] + t * rmax[b]
        if self.audio_decoder is not None:
            audio, clipped = self._decode_audio(z, self._tuning(len(z), options))
        else:
            audio, clipped = self._invert(decode_array(self.model, z), options["n_iter"], lo, hi)
        gap = np.zeros((len(audio), int(0.1 * self.sample_rate)), np.float32)
        joined = np.concatenate([audio, gap], axis=1)
        starts = tuple(k * joined.shape[1] / self.sample_rate for k in range(len(audio)))
        return Clip(joined.reshape(-1), self.sample_rate, step_starts_s=starts, clipped_fraction=float(clipped.mean()))

    def _encode_audio(self, y: np.ndarray, sample_rate: int, *, name: str) -> Encoding:
        """Latents of a recording: the steps of :func:`~timbrespace.generation.audio.encode_audio`,
        keeping the features to measure how much of them lies outside the stored range."""
        from timbrespace.generation.audio import audio_features, fit_audio
        from timbrespace.training import encode_array

        sidecar = self.sidecar
        audio, notes = fit_audio(y, sample_rate, sidecar, name=name)
        x = audio_features(audio[None], sidecar)
        mu = encode_array(self.model, x)
        _, outside = soft_limit(x, self._value_range)
        tuning = self._measured_tuning(mu[:1], audio[None])
        options = {} if tuning is None else dict(zip(TUNING_OPTIONS, map(float, tuning[0]), strict=True))
        return Encoding(np.asarray(mu[0], dtype=np.float32), float(outside[0]), tuple(notes), options)

    # ------------------------------------------------------------------ export
    def export_part(self, part: str) -> ExportPart:
        import torch

        from timbrespace.explore.export import (
            EXPORT_FORMAT,
            AudioDecoderModule,
            DecoderModule,
            EncoderModule,
        )

        cfg = self.model.config
        if part == "decoder" and self.audio_decoder is not None:
            return self._export_audio_decoder(EXPORT_FORMAT, AudioDecoderModule(self.audio_decoder))
        common = {"format": EXPORT_FORMAT, "run_kind": self.kind, "part": part, "decoder": "features",
                  "latent_dim": cfg.latent_dim, "input_shape": list(cfg.input_shape), "likelihood": cfg.likelihood,
                  "features": self.sidecar.to_dict(), "sample_rate": self.sample_rate,
                  "phase_retrieval": {"method": self.phase_method, "n_iter": self.n_iter}}
        if part == "decoder":
            return ExportPart(DecoderModule(self.model), (torch.zeros(2, cfg.latent_dim),), ("z",), ("x",),
                              {**common, "inputs": {"z": ["n", cfg.latent_dim]},
                               "outputs": {"x": ["n", *cfg.input_shape]}})
        return ExportPart(EncoderModule(self.model), (torch.zeros(2, *cfg.input_shape),), ("x",), ("mu", "logvar"),
                          {**common, "inputs": {"x": ["n", *cfg.input_shape]},
                           "outputs": {"mu": ["n", cfg.latent_dim], "logvar": ["n", cfg.latent_dim]}})

    def _export_audio_decoder(self, export_format: str, module: Any) -> ExportPart:
        """``z -> audio``, described by the sample rate and each latent's name, best factor and the
        items' extent."""
        import torch

        c = self.audio_decoder.config
        mu = self.items().latents
        best = {lat["index"]: lat["best_factor"] for lat in self.info()["latents"]}
        latents = [{"name": f"z{j}", "best_factor": best.get(j, ""), "min": float(mu[:, j].min()),
                    "max": float(mu[:, j].max())} for j in range(self.latent_dim)]
        meta = {"format": export_format, "run_kind": self.kind, "part": "decoder", "decoder": "audio",
                "latent_dim": c.latent_dim, "sample_rate": c.sample_rate, "n_samples": c.n_samples,
                "latent_names": [lat["name"] for lat in latents],
                "latent_range": [[lat["min"], lat["max"]] for lat in latents], "latents": latents,
                "audio_decoder": c.to_dict(),
                "inputs": {"z": ["n", c.latent_dim]}, "outputs": {"audio": ["n", c.n_samples]}}
        return ExportPart(module, (torch.zeros(2, c.latent_dim),), ("z",), ("audio",), meta)

"""The shift architecture: a VAE whose first latent is a translation along log-frequency.

On a log-frequency axis (CQT, NSGT) a change of fundamental frequency moves the whole
partial pattern by the same number of bins. The shift architecture gives that
translation its own latent ``z[0]`` and keeps it out of the others:

* **shift head** — 1-D convolutions over the time-averaged log-frequency view give one
  logit per bin; the mean position ``p`` of their softmax (a spatial soft-argmax, Finn
  et al. 2016) is the posterior mean of ``z[0] = (p - centre) / shift_scale_bins``.
  The head's last layer starts at zero (every item at the centre: no information at
  initialisation). It is trained by **transposition equivariance alone** (SPICE's
  relative-pitch loss, Gfeller et al. 2020): translating the input by δ bins must move
  ``p`` by δ (:meth:`ShiftEncoder.equivariance_loss`); with ``detach_shift`` the VAE's
  gradient never reaches it, so the reconstruction cannot pull it into harmonic local
  minima (octave errors).
* **content encoder** — on the view translated by ``-p`` (a 1-D spatial transformer,
  Jaderberg et al. 2015): ``"mlp"``, one MLP on the aligned view; or ``"factored"``,
  the last ``envelope_latents`` latents from the level envelope (maximum over frequency
  of each frame) and the others from the aligned, time-averaged spectrum cut to
  ``spectrum_window_bins`` around the fundamental, each relative to its maximum.
* **warp head** (``warp``) — inharmonicity as a second geometric latent ``z[1]``: a
  stiffness inferred by a soft-argmax over unwarped copies of the aligned spectrum,
  trained by warp equivariance alone (:mod:`timbrespace.models.warp`).
* **decoder** — ``"full"``: an MLP maps the content latents (and ``z[0]`` with
  ``shift_to_decoder``) to a template on a relative log-frequency grid, warped by
  ``z[1]`` (``warp``) and translated by ``shift_scale_bins * z[0]`` bins (Bepler et al.
  2019, spatial-VAE, in one dimension);
  ``"separable"``: the template is ``spectrum(u) + envelope(t)`` in dB; ``"direct"``: an
  MLP from all latents to the input grid (for a linear STFT input, which inverts well);
  ``"harmonic"``: f0 from ``z[0]``, harmonic amplitudes from the content, partials rendered
  on the STFT bins (:mod:`timbrespace.models.harmonic`).

With ``head_harmonic_sum = H`` the head also sees the subharmonic sum of the view (Hermes
1988): for each candidate bin ``j``, ``sum_{h=1}^{H} 0.84^(h-1) L[j + B log2 h]`` of the
time-averaged linear levels ``L`` (``B`` bins per octave), in dB like the view. It peaks at
the fundamental even where a harmonic is louder, and it is translation-equivariant, so the
head stays trained by equivariance alone.

Inputs are features in dB, ``(n_bins, n_frames)``. The model works on
``(x - input_offset) / input_scale`` (:func:`~timbrespace.training.fit` fills both from
the training items when they are ``None``). A linear-frequency input (STFT) with
``input_bin_hz`` set is resampled to a log-frequency view for the head and the encoder.

References
----------
Bepler, Zhong, Kelley, Brignole & Berger, "Explicitly disentangling image content from
translation and rotation with spatial-VAE", NeurIPS 2019. Finn et al., "Deep spatial
autoencoders for visuomotor learning", ICRA 2016. Jaderberg et al., "Spatial transformer
networks", NeurIPS 2015. Gfeller et al., "SPICE: self-supervised pitch estimation",
IEEE/ACM TASLP 2020. Hermes, "Measurement of pitch by subharmonic summation", JASA 1988.
Research record: ``docs/results/models_that_learn.md``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from timbrespace.errors import ConfigError
from timbrespace.models.shift_spec import HARMONIC_WEIGHT, ShiftSpec
from timbrespace.models.warp import WarpHead, translate_rows, warp_rows

__all__ = ["ShiftSpec", "ShiftEncoder", "ShiftDecoder", "level_gain_db", "translate_rows"]


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _log_resampling(spec: ShiftSpec, n_bins: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Linear interpolation from linear rows to ``log_n_bins`` log-frequency rows, as two taps.

    Log row ``j`` is ``w_lo[j] * x[lo[j]] + w_hi[j] * x[lo[j] + 1]``: returns ``lo``
    ``(log_n_bins,)`` int64 and the weights ``w_lo``, ``w_hi`` ``(log_n_bins, 1)`` float32
    (computed in float64). A gather of two rows: the dense ``(log_n_bins, n_bins)`` matrix
    it replaces has two non-zeros a row, and multiplying by it took a quarter of a
    ``real-notes-weak`` step.
    """
    assert spec.input_bin_hz is not None
    f_log = spec.log_fmin_hz * 2.0 ** (torch.arange(spec.log_n_bins, dtype=torch.float64) / spec.log_bins_per_octave)
    pos = torch.clamp(f_log / spec.input_bin_hz, 0.0, n_bins - 1.0)
    lo = torch.clamp(torch.floor(pos).long(), max=n_bins - 2)
    w = pos - lo
    return lo, (1.0 - w).float()[:, None], w.float()[:, None]


def _harmonic_sum_matrix(n_log: int, spec: ShiftSpec) -> torch.Tensor:
    """``(n_log, n_log)`` subharmonic summation on the log view: row ``j`` sums rows ``j + B log2 h``."""
    m = torch.zeros(n_log, n_log, dtype=torch.float64)
    rows = torch.arange(n_log, dtype=torch.float64)
    for h in range(1, spec.head_harmonic_sum + 1):
        pos = rows + spec.log_bins_per_octave * torch.log2(torch.tensor(float(h), dtype=torch.float64))
        lo = torch.floor(pos)
        w = pos - lo
        for idx, weight in ((lo, 1.0 - w), (lo + 1, w)):
            inside = idx < n_log
            m[rows[inside].long(), idx[inside].long()] += HARMONIC_WEIGHT ** (h - 1) * weight[inside]
    return m.float()


def _zero_means(layer: nn.Linear, n_means: int, initial_logvar: float) -> None:
    """Means start at zero (no information before training), log-variances at ``initial_logvar``."""
    with torch.no_grad():
        layer.weight[:n_means].zero_()
        layer.bias.zero_()
        layer.bias[n_means:].fill_(initial_logvar)


class _Geometry:
    """Sizes shared by the encoder and decoder."""

    def __init__(self, spec: ShiftSpec, input_shape: tuple[int, ...], latent_dim: int) -> None:
        self.n_bins, self.n_frames = (int(v) for v in input_shape)
        self.n_log = spec.n_log(self.n_bins)
        self.centre = (self.n_log - 1) / 2.0
        self.margin = spec.margin_bins if spec.margin_bins is not None else self.n_log // 2
        self.shift_scale = spec.shift_scale_bins if spec.shift_scale_bins is not None else self.n_log / 4.0
        self.warp_scale = spec.warp_stiffness_max / 4.0
        self.warp_origin = self.centre + spec.warp_origin_bins  # the fundamental's row in the aligned view
        self.warp_rows_below = int((spec.bins_per_octave or 0) // 2)  # of the warp head's view
        self.warp_top_guard = (spec.bins_per_octave or 0) / 3.0
        self.latent_dim = latent_dim
        self.n_content = latent_dim - spec.n_geometric


def _spec(config: Any) -> ShiftSpec:
    spec = config.shift
    if spec is None or spec.input_offset is None or spec.input_scale is None:
        raise ConfigError(
            "shift.input_offset and shift.input_scale are not set: fit fills them from the training items"
        )
    if spec.level and (spec.level_offset_db is None or spec.level_scale_db is None):
        raise ConfigError(
            "shift.level_offset_db and shift.level_scale_db are not set: fit fills them from the training items"
        )
    return spec


def _level(x: torch.Tensor, spec: ShiftSpec) -> tuple[torch.Tensor, torch.Tensor]:
    """Level latent ``(peak - level_offset_db) / level_scale_db`` and gain ``peak - level_offset_db`` (dB), each ``(n,)``."""
    assert spec.level_offset_db is not None and spec.level_scale_db is not None  # _spec checks them
    gain = x.reshape(x.shape[0], -1).amax(dim=1) - spec.level_offset_db
    return gain / spec.level_scale_db, gain


def level_gain_db(z: torch.Tensor, spec: ShiftSpec) -> torch.Tensor:
    """The decoder's gain of latents ``z``: ``level_scale_db * z[:, level_index]`` dB.

    Parameters
    ----------
    z : torch.Tensor [shape=(n, latent_dim)]
    spec : ShiftSpec
        With ``level`` set, ``level_scale_db`` must be filled (:func:`~timbrespace.training.fit`
        does it; a model built without it raises ``ConfigError`` when it is built).

    Returns
    -------
    torch.Tensor [shape=(n, 1, 1)]
        Gain in dB, added to every bin and frame of the decoded features; zeros without
        ``shift.level``.

    References
    ----------
    Engel et al., "DDSP: differentiable digital signal processing", ICLR 2020 (loudness as
    an explicit control of the decoder).
    """
    if not spec.level:
        return torch.zeros(z.shape[0], 1, 1, dtype=z.dtype, device=z.device)
    assert spec.level_scale_db is not None  # _spec checks it
    return (z[:, spec.level_index] * spec.level_scale_db)[:, None, None]


class ShiftEncoder(nn.Module):
    """Shift head + content encoder; ``forward(x, condition)`` gives ``(mu, logvar)``."""

    def __init__(self, config: Any, condition_dim: int = 0) -> None:
        super().__init__()
        if condition_dim:
            raise ConfigError("architecture='shift' takes no conditions")
        self.spec = spec = _spec(config)
        self.geo = g = _Geometry(spec, config.input_shape, config.latent_dim)
        pad = spec.head_kernel_size // 2
        layers: list[nn.Module] = []
        ch_in = 2 if spec.head_harmonic_sum else 1
        for ch in spec.head_channels:
            layers += [nn.Conv1d(ch_in, ch, spec.head_kernel_size, padding=pad), nn.ReLU()]
            ch_in = ch
        last = nn.Conv1d(ch_in, 1, spec.head_kernel_size, padding=pad)
        with torch.no_grad():
            last.weight.mul_(spec.head_init_gain)
            last.bias.zero_()
        self.head = nn.Sequential(*layers, last)
        if spec.input_bin_hz is not None:
            lo, w_lo, w_hi = _log_resampling(spec, g.n_bins)
            self.register_buffer("log_lo", lo, persistent=False)
            self.register_buffer("log_hi", lo + 1, persistent=False)
            self.register_buffer("log_w_lo", w_lo, persistent=False)
            self.register_buffer("log_w_hi", w_hi, persistent=False)
        if spec.head_harmonic_sum:
            self.register_buffer("harmonic_sum", _harmonic_sum_matrix(g.n_log, spec), persistent=False)
        if spec.warp:
            bpo = spec.bins_per_octave
            assert bpo is not None  # ShiftSpec checks it
            self.warp_head = WarpHead(
                g.n_log, g.warp_rows_below + spec.warp_origin_bins, bpo, stiffness_max=spec.warp_stiffness_max,
                n_candidates=spec.warp_candidates, detrend_rows=int(bpo // 2) + 1,
            )
            self.warp_logvar = nn.Parameter(torch.tensor(float(spec.initial_logvar)))
        n_content = g.n_content
        hidden = list(config.hidden_sizes)
        if spec.encoder == "mlp":
            self.content = _mlp([g.n_log * (g.n_frames // spec.encoder_time_pool), *hidden, 2 * n_content])
            _zero_means(self.content[-1], n_content, spec.initial_logvar)
        else:
            n_env = spec.envelope_latents
            lo_hi = spec.spectrum_window_bins
            n_spec_in = g.n_log if lo_hi is None else lo_hi[1] - lo_hi[0]
            self.spectrum_encoder = _mlp([n_spec_in, *hidden, 2 * (n_content - n_env)])
            self.envelope_encoder = _mlp([g.n_frames, *hidden, 2 * n_env])
            _zero_means(self.spectrum_encoder[-1], n_content - n_env, spec.initial_logvar)
            _zero_means(self.envelope_encoder[-1], n_env, spec.initial_logvar)
        self.shift_logvar = nn.Parameter(torch.tensor(float(spec.initial_logvar)))
        if spec.level:
            self.level_logvar = nn.Parameter(torch.tensor(float(spec.initial_logvar)))

    def view(self, x: torch.Tensor) -> torch.Tensor:
        """The normalised log-frequency view ``(n, n_log, n_frames)`` of features ``x``.

        With ``level`` the features are first lowered by the item's gain (its peak above
        ``level_offset_db``): the heads and the content encoder see every item at the same
        peak, so they are invariant to a gain.
        """
        spec = self.spec
        x = x.reshape(x.shape[0], self.geo.n_bins, self.geo.n_frames)
        if spec.level:
            x = x - _level(x, spec)[1][:, None, None]
        xn = (x - spec.input_offset) / spec.input_scale
        if spec.input_bin_hz is None:
            return xn
        return (torch.index_select(xn, 1, self.log_lo) * self.log_w_lo
                + torch.index_select(xn, 1, self.log_hi) * self.log_w_hi)

    def position(self, view: torch.Tensor) -> torch.Tensor:
        """Soft-argmax position, in bins, of the time-averaged view; shape ``(n,)``."""
        head_in = view.mean(dim=2)[:, None, :]
        if self.spec.head_harmonic_sum:
            spec = self.spec
            levels = torch.pow(10.0, (view * spec.input_scale + spec.input_offset) / 20.0).mean(dim=2)
            summed = torch.einsum("jk,nk->nj", self.harmonic_sum, levels)
            summed_db = 20.0 * torch.log10(summed + torch.finfo(summed.dtype).tiny)
            head_in = torch.cat([head_in, ((summed_db - spec.input_offset) / spec.input_scale)[:, None, :]], dim=1)
        logits = self.head(head_in).squeeze(1)
        bins = torch.arange(self.geo.n_log, dtype=view.dtype, device=view.device)
        return (torch.softmax(logits, dim=1) * bins).sum(dim=1)

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar, _, _ = self.parts(x)
        return mu, logvar

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(mu, logvar, view, position)``: the posterior, and the view and head position it read.

        ``mu``, ``logvar`` ``(n, latent_dim)``; ``view`` ``(n, n_log, n_frames)``, :meth:`view`
        of ``x``; ``position`` ``(n,)`` in bins of the view, :meth:`position` of it, not
        detached even with ``detach_shift``: the equivariance losses of the same items take
        them instead of computing them again (:meth:`equivariance_loss`).
        """
        spec, g = self.spec, self.geo
        xn = self.view(x)
        p_head = p = self.position(xn)
        if spec.detach_shift:
            p = p.detach()
        aligned = translate_rows(xn, g.centre - p, g.n_log, 0.0)  # each item's p on the centre row
        mu0 = ((p - g.centre) / g.shift_scale)[:, None]
        lv0 = self.shift_logvar.expand(x.shape[0], 1)
        if spec.warp:
            stiffness = self.warp_head(self.warp_view(xn, p))
            if spec.detach_shift:
                stiffness = stiffness.detach()
            mu0 = torch.cat([mu0, (stiffness / g.warp_scale)[:, None]], dim=1)
            lv0 = torch.cat([lv0, self.warp_logvar.expand(x.shape[0], 1)], dim=1)
        if spec.level:
            mu_level, _ = _level(x, spec)
            mu0 = torch.cat([mu0, mu_level[:, None]], dim=1)
            lv0 = torch.cat([lv0, self.level_logvar.expand(x.shape[0], 1)], dim=1)
        n_content = g.n_content
        if spec.encoder == "mlp":
            if spec.encoder_time_pool > 1:
                n, r, t = aligned.shape
                aligned = aligned.reshape(n, r, t // spec.encoder_time_pool, spec.encoder_time_pool).mean(3)
            h = self.content(aligned.flatten(1))
            return torch.cat([mu0, h[:, :n_content]], dim=1), torch.cat([lv0, h[:, n_content:]], dim=1), xn, p_head
        n_env = spec.envelope_latents
        n_spec = n_content - n_env
        spectrum = aligned.mean(dim=2)
        if spec.spectrum_window_bins is not None:
            lo, hi = spec.spectrum_window_bins
            centre = int(round(g.centre))
            spectrum = spectrum[:, centre + lo : centre + hi]
        envelope = xn.amax(dim=1)
        hs = self.spectrum_encoder(spectrum - spectrum.amax(dim=1, keepdim=True))
        he = self.envelope_encoder(envelope - envelope.amax(dim=1, keepdim=True))
        mu = torch.cat([mu0, hs[:, :n_spec], he[:, :n_env]], dim=1)
        logvar = torch.cat([lv0, hs[:, n_spec:], he[:, n_env:]], dim=1)
        return mu, logvar, xn, p_head

    def equivariance_loss(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
                          view: torch.Tensor | None = None, position: torch.Tensor | None = None) -> torch.Tensor:
        """Relative-pitch loss (SPICE): translating the view by δ bins must move ``p`` by δ.

        Returns the batch mean of the Huber loss (in bins) over δ uniform in
        ``±equivariance_shift_bins`` drawn from ``generator``. ``view`` and ``position``
        of ``x``, when given (:meth:`parts`), are used instead of computing them again.
        """
        xn = self.view(x) if view is None else view
        p = self.position(xn) if position is None else position
        u = torch.rand(x.shape[0], generator=generator, dtype=xn.dtype, device=xn.device)
        delta = (2.0 * u - 1.0) * self.spec.equivariance_shift_bins
        moved = translate_rows(xn, delta, self.geo.n_log, 0.0)
        return F.huber_loss(self.position(moved) - p, delta, delta=1.0)

    def warp_equivariance_loss(self, x: torch.Tensor, *, generator: torch.Generator | None = None,
                               view: torch.Tensor | None = None,
                               position: torch.Tensor | None = None) -> torch.Tensor:
        """Warp equivariance of the warp head on the aligned view (:meth:`WarpHead.equivariance_loss`).

        ``view`` and ``position`` of ``x`` as in :meth:`equivariance_loss`.
        """
        xn = self.view(x) if view is None else view
        p = self.position(xn) if position is None else position
        spectrum = self.warp_view(xn, p.detach())
        return self.warp_head.equivariance_loss(spectrum, self.spec.warp_equivariance_stiffness, generator=generator)

    def warp_view(self, view: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """The warp head's input: time-averaged rows from half an octave below ``p`` up, ``(n, n_log)``.

        Rows within a third of an octave of the view's top edge are set to 0 (the floor):
        partials there are cut by the edge and read as stiffness (seed 0: +0.03 MIG).
        """
        g = self.geo
        top = g.n_log - 1 - g.warp_top_guard - (p - g.warp_rows_below)  # the view's top row, as seen here
        rows = torch.arange(g.n_log, dtype=view.dtype, device=view.device)
        spectrum = translate_rows(view.mean(dim=2), g.warp_rows_below - p, g.n_log, 0.0)
        return spectrum * (rows[None, :] < top[:, None])


class ShiftDecoder(nn.Module):
    """Template decoders translated by ``z[0]``; ``forward(z, condition)`` gives features."""

    def __init__(self, config: Any, condition_dim: int = 0) -> None:
        super().__init__()
        if condition_dim:
            raise ConfigError("architecture='shift' takes no conditions")
        self.spec = spec = _spec(config)
        self.geo = g = _Geometry(spec, config.input_shape, config.latent_dim)
        hidden = list(reversed(config.hidden_sizes))
        extra = (1 + int(spec.level and spec.level_to_decoder)) if spec.shift_to_decoder else 0
        n_content = g.n_content
        self.n_template = g.n_log + 2 * g.margin
        if spec.decoder == "direct":
            self.columns = spec.decoder_columns(g.latent_dim, with_shift=True)
            self.body = _mlp([len(self.columns), *hidden, g.n_bins * g.n_frames])
        elif spec.decoder == "full":
            self.body = _mlp([n_content + extra, *hidden, self.n_template * g.n_frames])
        else:
            n_env = spec.envelope_latents
            n_envl = n_env if n_env else n_content
            n_spec = n_content - n_env if n_env else n_content
            self.body = _mlp([n_spec + extra, *hidden, self.n_template])
            self.envelope = _mlp([n_envl + extra, *hidden, g.n_frames])

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        spec, g = self.spec, self.geo
        gain = level_gain_db(z, spec)
        if spec.decoder == "direct":
            out = self.body(z[:, self.columns]).reshape(-1, g.n_bins, g.n_frames)
            return out * spec.input_scale + spec.input_offset + gain
        shift = [z[:, :1]] if spec.shift_to_decoder else []
        if spec.shift_to_decoder and spec.level and spec.level_to_decoder:  # brightness with loudness
            shift.append(z[:, spec.level_index : spec.level_index + 1])
        content = z[:, spec.n_geometric :]
        if spec.decoder == "full":
            template = self.body(torch.cat([*shift, content], dim=1)).reshape(-1, self.n_template, g.n_frames)
        else:
            n_env = spec.envelope_latents
            spectral = content[:, : content.shape[1] - n_env] if n_env else content
            temporal = content[:, content.shape[1] - n_env :] if n_env else content
            spectrum = self.body(torch.cat([*shift, spectral], dim=1))
            envelope = self.envelope(torch.cat([*shift, temporal], dim=1))
            if spec.envelope_reference_frame is not None:
                ref = spec.envelope_reference_frame
                envelope = envelope - envelope[:, ref : ref + 1]
            template = spectrum[:, :, None] + envelope[:, None, :]
        if spec.warp:
            stiffness = z[:, 1] * g.warp_scale
            template = warp_rows(template, stiffness, g.margin + g.warp_origin, float(spec.bins_per_octave or 0))
        shifted = translate_rows(template, z[:, 0] * g.shift_scale, g.n_log, float(g.margin))
        out = shifted * spec.input_scale + spec.input_offset + gain
        if spec.top_db is not None:
            floor = out.flatten(1).amax(dim=1) - spec.top_db
            out = torch.maximum(out, floor[:, None, None])
        return out

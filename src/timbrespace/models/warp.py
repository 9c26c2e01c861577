"""Inharmonicity as a geometric latent: a stiff-string warp of relative log-frequency.

A stiff string (Fletcher 1964) puts partial ``n`` at ``f_n = n f0 sqrt(1 + B n^2)``
(the additive model's ``inharmonicity`` ``B``, :func:`timbrespace.synths.additive.
partial_frequencies`). On a log-frequency view with ``b`` bins per octave and the
fundamental at row ``o``, write ``u`` for the rows above ``o`` and ``r = 4^(u / b) =
(f / f0)^2``. A harmonic partial has ``r = n^2``; stiffness ``B`` moves it to
``r (1 + B r)``. The **warp** ``W_B`` moves every row that way::

    W_B: r -> r (1 + B r),  i.e.  u -> u + (b / 2) log2(1 + B 4^(u / b)).

It turns a harmonic spectrum into one of stiffness ``B`` exactly; on a spectrum of
stiffness ``B1`` it gives ``B1 + B`` to first order (the partials' own ``B1 n^2`` adds
``B B1 n^4`` terms). As resampling, ``W_B x`` reads ``x`` at the inverse map
``r = 2 r' / (1 + sqrt(1 + 4 B r'))`` (:func:`warp_rows`); ``W_B^-1 x`` reads it at the
forward map (``inverse=True``).

The **warp head** (:class:`WarpHead`) is the shift head's construction moved from
translations to warps: it unwarps the aligned, time-averaged spectrum by every
stiffness ``B_k`` of a grid, scores each unwarped copy with one small network (1-D
convolutions over rows, one linear output), and returns the soft-argmax ``sum_k
softmax(s)_k B_k``. Warping the input by ``Δ`` moves the score curve by ``Δ`` along
the grid whatever the network's weights, so the head is trained only by warp
equivariance — ``B̂(W_Δ x) - B̂(x) = Δ`` (:meth:`WarpHead.equivariance_loss`), the
analogue of SPICE's relative-pitch loss (Gfeller et al. 2020) — and needs no labels.
Its last layer starts at zero, so every item starts at the grid's centre ``B̂ = 0``.
The shift decoder warps its relative template by the same latent before translating
it (:class:`timbrespace.models.shift.ShiftDecoder`).

References
----------
Fletcher, "Normal vibration frequencies of a stiff piano string", JASA 36, 1964.
Gfeller et al., "SPICE: self-supervised pitch estimation", IEEE/ACM TASLP 2020.
Research record: ``docs/results/models_that_learn.md`` ("Inharmonicity as a warp").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["resample_rows", "translate_rows", "warp_rows", "WarpHead"]

UPSAMPLE = 4
COMB_GAIN = 10.0
REFINE_ROWS = 3


def resample_rows(x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` read at fractional positions ``pos`` by linear interpolation.

    ``out[b, k, ...] = x[b, pos[b, k], ...]``, zero outside ``x`` (linearly fading to zero
    over the last row step); differentiable in ``x`` and ``pos``.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, n_rows, ...)]
    pos : torch.Tensor [shape=(n, n_out)]
        Row positions to read, in rows of ``x``.

    Returns
    -------
    torch.Tensor [shape=(n, n_out, ...)]
    """
    n, n_rows = x.shape[:2]
    n_out = pos.shape[1]
    i0 = torch.floor(pos)
    tail = [1] * (x.dim() - 2)
    w = (pos - i0).reshape(n, n_out, *tail)
    i0 = i0.long()
    padded = F.pad(x.movedim(1, -1), (1, 1)).movedim(-1, 1)  # rows -1 and n_rows are zero
    shape = (n, n_out, *x.shape[2:])
    lo = torch.clamp(i0 + 1, 0, n_rows + 1).reshape(n, n_out, *tail).expand(shape)
    hi = torch.clamp(i0 + 2, 0, n_rows + 1).reshape(n, n_out, *tail).expand(shape)
    return (1.0 - w) * torch.gather(padded, 1, lo) + w * torch.gather(padded, 1, hi)


def translate_rows(x: torch.Tensor, shift: torch.Tensor, n_out: int, offset: float) -> torch.Tensor:
    """Rows ``offset - shift .. offset - shift + n_out`` of ``x`` by linear interpolation.

    ``out[b, k, ...] = x[b, k + offset - shift[b], ...]``, zero outside ``x``;
    differentiable in ``x`` and ``shift``.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, n_rows, ...)]
    shift : torch.Tensor [shape=(n,)]
        Translation in rows (positive moves the content to higher rows).
    n_out : int
        Rows of the output.
    offset : float
        Row of ``x`` read by output row 0 when ``shift`` is 0.

    Returns
    -------
    torch.Tensor [shape=(n, n_out, ...)]
    """
    pos = torch.arange(n_out, dtype=x.dtype, device=x.device)[None, :] + offset - shift[:, None]
    return resample_rows(x, pos)


def warp_rows(
    x: torch.Tensor,
    stiffness: torch.Tensor,
    origin: float | torch.Tensor,
    bins_per_octave: float,
    *,
    inverse: bool = False,
) -> torch.Tensor:
    """The stiff-string warp ``W_B x`` (or ``W_B^-1 x``) of log-frequency rows.

    A partial at ``u`` rows above ``origin`` in ``x`` (frequency ratio ``sqrt(r)``,
    ``r = 4^(u / bins_per_octave)``) is at ``r (1 + B r)`` in the output, so a harmonic
    pattern (partial ``n`` at ``bins_per_octave * log2(n)``) becomes the stiff string's
    ``n sqrt(1 + B n^2)``. ``inverse=True`` undoes it.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, n_rows, ...)]
        Log-frequency rows (anything may follow the row axis).
    stiffness : torch.Tensor [shape=(n,)]
        ``B`` per item (dimensionless, the additive model's ``inharmonicity``); negative
        values compress, and the warp is clamped where ``1 + 4 B r`` would be negative.
    origin : float or torch.Tensor [shape=(n,)]
        Row of the fundamental (one for all items, or one per item).
    bins_per_octave : float
        Rows per octave of ``x``.
    inverse : bool
        Apply ``W_B^-1`` (unwarp) instead of ``W_B``.

    Returns
    -------
    torch.Tensor [shape=x.shape]
        Zero where the warp reads outside ``x``.

    References
    ----------
    Fletcher, "Normal vibration frequencies of a stiff piano string", JASA 36, 1964.
    """
    n_rows = x.shape[1]
    rows = torch.arange(n_rows, dtype=x.dtype, device=x.device)[None, :]
    origin = torch.as_tensor(origin, dtype=x.dtype, device=x.device).reshape(-1, 1)
    r = torch.exp2(2.0 * (rows - origin) / bins_per_octave)
    b = stiffness.to(x.dtype)[:, None]
    if inverse:  # read where the output row's partial sits when stiff: r (1 + B r)
        read = r * torch.clamp(1.0 + b * r, min=1e-3)
    else:  # read the row that the warp carries here: the root of r0 (1 + B r0) = r
        # clamped above 0: the square root's gradient at 0 is infinite (NaN through the clamp)
        read = 2.0 * r / (1.0 + torch.sqrt(torch.clamp(1.0 + 4.0 * b * r, min=1e-3)))
    pos = origin + 0.5 * bins_per_octave * torch.log2(read)
    return resample_rows(x, pos)


def _upsample(y: torch.Tensor) -> torch.Tensor:
    """Rows ``(n, n_rows)`` upsampled ``UPSAMPLE`` times by cubic interpolation (row ``k`` to ``UPSAMPLE k``)."""
    fine = (y.shape[1] - 1) * UPSAMPLE + 1
    return F.interpolate(y[:, None, None, :], size=(1, fine), mode="bicubic", align_corners=True)[:, 0, 0]


class WarpHead(nn.Module):
    """Soft-argmax over a stiffness grid of a learned inharmonic comb's scores.

    The score of grid stiffness ``B_k`` is ``sum_n a_n y(origin + b log2(n sqrt(1 + B_k
    n^2)))``: the detrended spectrum ``y`` read where partial ``n`` of a string of
    stiffness ``B_k`` would be (a harmonic sum, Hermes 1988, with stiff-string
    partials; equivalently the harmonic comb read on ``W_{B_k}^-1 x``), ``y`` upsampled
    ``UPSAMPLE`` times by cubic interpolation so that the comb resolves sub-bin shifts.
    The weights ``a_n = COMB_GAIN * θ_n`` start at zero (every score 0: every item at
    ``B̂ = 0``) and are learned by warp equivariance alone; the gain lets Adam's steps
    of about the learning rate in ``θ`` reach a sharp score curve within a few hundred
    steps (gain 1 left the soft-argmax 4 times too flat after 750 steps).

    Parameters
    ----------
    n_rows : int
        Rows of the spectrum it reads.
    origin : float
        Row of the fundamental in that spectrum.
    bins_per_octave : float
        Rows per octave.
    stiffness_max : float
        The grid is ``n_candidates`` values of ``B`` evenly in ``±stiffness_max``.
    n_candidates : int
        Grid size (odd, so that ``B = 0`` is on it).
    detrend_rows : int
        Odd width of the moving average subtracted from the spectrum (a spectral slope in
        dB is a linear trend along log-frequency: the comb should see the partials'
        positions, not their levels).

    References
    ----------
    Hermes, "Measurement of pitch by subharmonic summation", JASA 83, 1988 (the comb);
    Gfeller et al., "SPICE: self-supervised pitch estimation", IEEE/ACM TASLP 2020 (the
    relative loss); Finn et al., "Deep spatial autoencoders for visuomotor learning",
    ICRA 2016 (the soft-argmax).
    """

    def __init__(
        self,
        n_rows: int,
        origin: float,
        bins_per_octave: float,
        *,
        stiffness_max: float,
        n_candidates: int,
        detrend_rows: int,
    ) -> None:
        super().__init__()
        self.origin = float(origin)
        self.bins_per_octave = float(bins_per_octave)
        self.detrend_rows = int(detrend_rows)
        grid = torch.linspace(-stiffness_max, stiffness_max, n_candidates, dtype=torch.float64)
        self.register_buffer("grid", grid.float(), persistent=False)
        self.step = 2.0 * stiffness_max / (n_candidates - 1)
        n_partials = max(1, int(2.0 ** ((n_rows - 1 - origin) / bins_per_octave)))  # partials inside the view
        n = torch.arange(1, n_partials + 1, dtype=torch.float64)[None, :]
        stretch = 1.0 + grid[:, None] * n**2
        valid = stretch > 0.1  # a compressed comb folds back on itself beyond this
        pos = origin + bins_per_octave * (torch.log2(n) + 0.5 * torch.log2(torch.clamp(stretch, min=0.1)))
        self.register_buffer("comb_rows", pos.float().flatten(), persistent=False)
        self.register_buffer("comb_valid", valid.float(), persistent=False)
        self.weight = nn.Parameter(torch.zeros(n_partials))

    def fundamental(self, spectrum: torch.Tensor) -> torch.Tensor:
        """Row of each spectrum's peak from half an octave below ``origin`` to ``REFINE_ROWS`` above.

        The comb is read from there: the shift head's position varies with the spectral
        slope by a few tenths of a bin, which a comb of two or three partials would read
        as stiffness, and on shallow slopes it can sit several rows above the fundamental
        (seed 3, 518 Hz, slope -2 dB/octave: 3 to 8 rows). The fundamental is the lowest
        partial and the next one is an octave above it, so the highest row between half an
        octave below and ``REFINE_ROWS`` above the head's row is the fundamental's whichever
        way the head errs. The fraction of a row is the vertex of the parabola through that
        row and its two neighbours, in dB (quadratic interpolation of a spectral peak, Smith
        & Serra 1987), clamped to half a row (a flat top puts the vertex anywhere). The
        rows themselves are used, not the cubic upsampling the comb reads: on a peak three
        rows wide (518 Hz) the upsampled top went flat when the view was translated by half
        a row, and its argmax jumped between the two ends, 0.9 rows apart, which the comb
        read as one or two levels of stiffness. No gradient. Shape ``(n,)``.

        References
        ----------
        Smith & Serra, "PARSHL: an analysis/synthesis program for non-harmonic sounds
        based on a sinusoidal representation", ICMC 1987.
        """
        with torch.no_grad():
            lo = max(math.ceil(self.origin - self.bins_per_octave / 2.0), 1)
            hi = min(math.ceil(self.origin + REFINE_ROWS), spectrum.shape[1] - 1)
            j = spectrum[:, lo:hi].argmax(dim=1, keepdim=True) + lo
            a, b, c = (torch.gather(spectrum, 1, j + k)[:, 0] for k in (-1, 0, 1))
            curvature = a - 2.0 * b + c
            vertex = torch.where(curvature < 0, 0.5 * (a - c) / torch.where(curvature < 0, curvature, -1.0), 0.0)
            return j[:, 0] + torch.clamp(vertex, -0.5, 0.5)

    def scores(self, spectrum: torch.Tensor, origin: torch.Tensor) -> torch.Tensor:
        """Scores ``(n, n_candidates)`` of spectra ``(n, n_rows)``: the comb of each grid stiffness
        read from the fundamentals ``origin`` ``(n,)``."""
        w = self.detrend_rows
        y = spectrum - F.avg_pool1d(spectrum[:, None], w, stride=1, padding=w // 2, count_include_pad=False)[:, 0]
        rows = self.comb_rows[None, :] + (origin - self.origin)[:, None]
        read = resample_rows(_upsample(y), UPSAMPLE * rows)
        comb = COMB_GAIN * self.weight * self.comb_valid
        return (read.reshape(y.shape[0], *self.comb_valid.shape) * comb).sum(dim=2)

    def forward(self, spectrum: torch.Tensor) -> torch.Tensor:
        """Stiffness estimate ``B̂`` per item, shape ``(n,)``, of spectra ``(n, n_rows)``."""
        scores = self.scores(spectrum, self.fundamental(spectrum))
        return (torch.softmax(scores, dim=1) * self.grid).sum(dim=1)

    def equivariance_loss(
        self, spectrum: torch.Tensor, max_stiffness: float, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Warp equivariance: ``B̂(W_Δ x) - B̂(x)`` must be ``Δ``.

        Parameters
        ----------
        spectrum : torch.Tensor [shape=(n, n_rows)]
        max_stiffness : float
            ``Δ`` is uniform in ``±max_stiffness``, drawn from ``generator``.
        generator : torch.Generator, optional

        Returns
        -------
        torch.Tensor
            Batch mean of the Huber loss (δ = 1) of the error in grid steps.
        """
        u = torch.rand(spectrum.shape[0], generator=generator, dtype=spectrum.dtype, device=spectrum.device)
        delta = (2.0 * u - 1.0) * max_stiffness
        moved = warp_rows(spectrum, delta, self.fundamental(spectrum), self.bins_per_octave)
        error = (self(moved) - self(spectrum) - delta) / self.step
        return F.huber_loss(error, torch.zeros_like(error), delta=1.0)

"""Loss terms of the VAE family, per item (shape ``(n,)``), summed over dimensions.

The callers average over the batch (see the loss convention in
:mod:`timbrespace.models.config`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from timbrespace.errors import ParameterError

__all__ = [
    "gaussian_kl",
    "gaussian_nll",
    "bernoulli_nll",
    "hit_velocity_nll",
    "hvo_nll",
    "offset_from_logits",
    "log_normal",
    "tc_decomposition",
    "permute_dims",
    "adaptive_shared_mask",
    "average_posteriors",
    "label_loss",
    "stft_loss",
    "multi_resolution_stft_loss",
    "MultiResolutionSTFTLoss",
]

STFT_EPS = 1e-8  # auraloss's floor of the squared magnitude

_LOG_2PI = math.log(2.0 * math.pi)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, exp(logvar)) || N(0, I))`` per item, summed over latents, shape ``(n,)``.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import gaussian_kl
    >>> mu = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    >>> gaussian_kl(mu, torch.zeros(2, 2)).tolist()  # mu^2 / 2 for a unit variance
    [0.0, 2.0]
    """
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def gaussian_nll(
    x: torch.Tensor,
    mean: torch.Tensor,
    *,
    variance: float | None = None,
    logvar: torch.Tensor | None = None,
) -> torch.Tensor:
    """Gaussian negative log-likelihood per item, summed over features, shape ``(n,)``.

    With a fixed ``variance`` the constant is dropped: ``0.5 * sum((x - mean)**2) / variance``
    (variance 0.5 gives the sum of squared errors). With a learned ``logvar`` (broadcast
    against ``x``) it is the full NLL, ``0.5 * (log(2 pi) + logvar + (x - mean)**2 / exp(logvar))``.
    """
    sq = (x - mean).pow(2)
    if logvar is None:
        if variance is None:
            raise TypeError("gaussian_nll needs variance or logvar")
        return (0.5 / variance) * sq.flatten(1).sum(dim=1)
    nll = 0.5 * (_LOG_2PI + logvar + sq * torch.exp(-logvar))
    return nll.flatten(1).sum(dim=1)


def bernoulli_nll(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on logits per item, summed over features, shape ``(n,)``."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return bce.flatten(1).sum(dim=1)


def hit_velocity_nll(
    x: torch.Tensor, logits: torch.Tensor, *, velocity_variance: float = 0.5
) -> torch.Tensor:
    """Hit cross-entropy plus velocity error on the true hits, per item, shape ``(n,)``.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, *item_shape)]
        Velocities in [0, 1]; 0 means no hit.
    logits : torch.Tensor [shape=(n, 2, *item_shape)]
        Hit logits (channel 0) and velocity logits (channel 1, velocity = sigmoid).
    velocity_variance : float
        Variance of the Gaussian on velocities; 0.5 gives the squared error.

    Returns
    -------
    torch.Tensor [shape=(n,)]
        ``sum BCE(hit logits, x > 0) + 0.5 / velocity_variance * sum_{x > 0} (sigmoid(v) - x)**2``.
        Silent cells never train the velocity.

    References
    ----------
    Gillick et al., "Learning to groove with inverse sequence transformations", ICML 2019.
    """
    hits = (x > 0).to(x.dtype)
    bce = F.binary_cross_entropy_with_logits(logits[:, 0], hits, reduction="none")
    velocity = torch.sigmoid(logits[:, 1])
    sq = (velocity - x).pow(2) * hits
    return bce.flatten(1).sum(dim=1) + (0.5 / velocity_variance) * sq.flatten(1).sum(dim=1)


MAX_OFFSET_STEPS = 0.5
"""Largest micro-timing offset a groove model predicts, in steps (half a step: the nearest step)."""


def offset_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Micro-timing offsets in steps, ``0.5 * tanh(logits)``, in (-0.5, 0.5) (GrooVAE's offset output)."""
    return MAX_OFFSET_STEPS * torch.tanh(logits)


def hvo_nll(x: torch.Tensor, logits: torch.Tensor, *, variance: float = 0.5) -> torch.Tensor:
    """Hit cross-entropy plus velocity and offset errors on the true hits, per item, shape ``(n,)``.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, 2, *grid_shape)]
        Channel 0: velocities in [0, 1], 0 means no hit (H is ``x[:, 0] > 0``, V is
        ``x[:, 0]``). Channel 1: micro-timing offsets O in steps, in [-0.5, 0.5].
    logits : torch.Tensor [shape=(n, 3, *grid_shape)]
        Hit logits, velocity logits (velocity = sigmoid) and offset pre-activations
        (offset = :func:`offset_from_logits`).
    variance : float
        Variance of the Gaussians on velocities and offsets; 0.5 gives squared errors.

    Returns
    -------
    torch.Tensor [shape=(n,)]
        ``sum BCE(hit logits, H) + 0.5 / variance * sum_{H} ((sigmoid(v) - V)**2 + (offset - O)**2)``.
        Silent cells train neither velocity nor offset (GrooVAE's Magenta loss sums both
        errors over every cell, silent ones against 0).

    References
    ----------
    Gillick et al., "Learning to groove with inverse sequence transformations", ICML 2019.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import hvo_nll
    >>> x = torch.tensor([[[[0.5]], [[0.25]]]])  # one hit, velocity 0.5, a quarter step late
    >>> logits = torch.tensor([[[[20.0]], [[0.0]], [[0.0]]]])  # sure hit, velocity 0.5, on the grid
    >>> round(hvo_nll(x, logits).item(), 4)  # 0.25 ** 2 for the offset
    0.0625
    """
    hits = (x[:, 0] > 0).to(x.dtype)
    bce = F.binary_cross_entropy_with_logits(logits[:, 0], hits, reduction="none")
    sq = (torch.sigmoid(logits[:, 1]) - x[:, 0]).pow(2) + (offset_from_logits(logits[:, 2]) - x[:, 1]).pow(2)
    return bce.flatten(1).sum(dim=1) + (0.5 / variance) * (sq * hits).flatten(1).sum(dim=1)


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Element-wise log density of ``N(mu, exp(logvar))`` at ``z`` (broadcasting)."""
    return -0.5 * (_LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))


def tc_decomposition(
    z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, *, dataset_size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Index-code MI, total correlation and dimension-wise KL by minibatch-weighted sampling.

    Parameters
    ----------
    z, mu, logvar : torch.Tensor [shape=(n, latent_dim)]
        Samples and posterior parameters of one minibatch.
    dataset_size : int
        Size ``N`` of the training set.

    Returns
    -------
    mi, tc, dim_kl : torch.Tensor
        Batch means of ``log q(z|x) - log q(z)``, ``log q(z) - sum_j log q(z_j)`` and
        ``sum_j log q(z_j) - log p(z)``; they sum to the batch mean of the sampled KL.

    References
    ----------
    Chen, Li, Grosse & Duvenaud, "Isolating sources of disentanglement in variational
    autoencoders", NeurIPS 2018, eq. (S6) (minibatch-weighted sampling).

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import tc_decomposition
    >>> z = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    >>> mu, logvar = torch.zeros(64, 3), torch.zeros(64, 3)  # posterior = prior N(0, I)
    >>> mi, tc, dim_kl = tc_decomposition(z, mu, logvar, dataset_size=1000)
    >>> tuple(mi.shape), round(float(tc), 2)
    ((), 13.82)
    >>> abs(float(mi + tc + dim_kl)) < 1e-4  # they sum to a KL estimate: 0 here
    True
    """
    n = z.shape[0]
    log_qz_given_x = log_normal(z, mu, logvar).sum(dim=1)
    log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(dim=1)
    # mat[i, j, d] = log q(z_i[d] | x_j)
    mat = log_normal(z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0))
    log_norm = math.log(n * dataset_size)
    log_qz = torch.logsumexp(mat.sum(dim=2), dim=1) - log_norm
    log_prod_qzj = (torch.logsumexp(mat, dim=1) - log_norm).sum(dim=1)
    mi = (log_qz_given_x - log_qz).mean()
    tc = (log_qz - log_prod_qzj).mean()
    dim_kl = (log_prod_qzj - log_pz).mean()
    return mi, tc, dim_kl


def permute_dims(z: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    """Permute each latent dimension independently across the batch (Kim & Mnih 2018, alg. 1).

    Samples of the result follow the product of the marginals ``prod_j q(z_j)``.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import permute_dims
    >>> z = torch.arange(12.0).reshape(4, 3)
    >>> zp = permute_dims(z, generator=torch.Generator().manual_seed(0))
    >>> [sorted(zp[:, j].tolist()) == z[:, j].tolist() for j in range(3)]  # each column shuffled
    [True, True, True]
    """
    n, d = z.shape
    idx = torch.stack(
        [
            torch.randperm(n, generator=generator, device=generator.device if generator else "cpu")
            for _ in range(d)
        ],
        dim=1,
    ).to(z.device)
    return torch.gather(z, 0, idx)


def adaptive_shared_mask(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor
) -> torch.Tensor:
    """Latents taken as shared by each pair, ``(n, latent_dim)`` bool (Ada-GVAE's threshold).

    ``KL_j = KL(q(z_j | x1) || q(z_j | x2))``; latent ``j`` is shared where
    ``KL_j < (max_j KL_j + min_j KL_j) / 2`` (Locatello et al. 2020, eq. 6; as
    disentanglement_lib's ``aggregate_argmax`` threshold).
    """
    var1, var2 = logvar1.exp(), logvar2.exp()
    kl = 0.5 * (var1 / var2 + (mu2 - mu1).pow(2) / var2 - 1.0 + logvar2 - logvar1)
    threshold = 0.5 * (kl.amax(dim=1, keepdim=True) + kl.amin(dim=1, keepdim=True))
    return kl < threshold


def average_posteriors(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor, *, mode: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The pair's average posterior ``(mu, logvar)``: ``"gvae"`` arithmetic mean of means and
    variances; ``"mlvae"`` product of experts (precision-weighted mean, harmonic mean of the
    variances, as disentanglement_lib's ``MLVae``)."""
    var1, var2 = logvar1.exp(), logvar2.exp()
    if mode == "gvae":
        return 0.5 * (mu1 + mu2), torch.log(0.5 * (var1 + var2))
    var = 2.0 * var1 * var2 / (var1 + var2)
    return 0.5 * (mu1 / var1 + mu2 / var2) * var, torch.log(var)


def label_loss(mu: torch.Tensor, codes: torch.Tensor, n_levels: torch.Tensor) -> torch.Tensor:
    """Few-label term per item, shape ``(n,)``: ``sum_j BCE(sigmoid(mu_j), code_j / (n_levels_j - 1))``.

    Latent ``j`` is tied to factor ``j`` for the first ``n_factors`` latents (Locatello et
    al. 2020, "Disentangling factors of variation using few labels"); a factor with one
    level is skipped.

    Parameters
    ----------
    mu : torch.Tensor [shape=(n, latent_dim)]
    codes : torch.Tensor [shape=(n, n_factors), dtype=int64]
    n_levels : torch.Tensor [shape=(n_factors,)]
    """
    n_factors = codes.shape[1]
    target = codes.to(mu.dtype) / torch.clamp(n_levels.to(mu.dtype) - 1.0, min=1.0)
    bce = F.binary_cross_entropy_with_logits(mu[:, :n_factors], target, reduction="none")
    return (bce * (n_levels > 1).to(mu.dtype)).sum(dim=1)


def stft_loss(x: torch.Tensor, y: torch.Tensor, *, n_fft: int, hop_length: int | None = None,
              win_length: int | None = None) -> torch.Tensor:
    """Spectral convergence plus log-magnitude L1 at one STFT resolution (auraloss's ``STFTLoss``).

    ``|X| = sqrt(max(re^2 + im^2, 1e-8))`` of a Hann-windowed, centred (reflect-padded)
    STFT; ``SC = ||Y| - |X||_F / ||Y||_F`` over the whole batch and
    ``L_log = mean |ln |Y| - ln |X||``; the loss is ``SC + L_log``.

    Parameters
    ----------
    x : torch.Tensor [shape=(n, n_samples)]
        Estimated audio.
    y : torch.Tensor [shape=(n, n_samples)]
        Target audio.
    n_fft : int
        FFT size; ``n_fft // 2 < n_samples`` (the reflect padding).
    hop_length, win_length : int, optional
        Default ``n_fft // 4`` and ``n_fft``.

    Returns
    -------
    torch.Tensor
        Scalar.

    Raises
    ------
    ParameterError
        If the shapes differ or the signal is too short for ``n_fft``.
    """
    if x.shape != y.shape or x.dim() != 2:
        raise ParameterError(f"stft_loss: x {tuple(x.shape)} and y {tuple(y.shape)} must be the same (n, n_samples)")
    if n_fft // 2 >= x.shape[1]:
        raise ParameterError(f"n_fft={n_fft} is too long for {x.shape[1]} samples (n_fft // 2 must be shorter)")
    hop = hop_length or n_fft // 4
    win = win_length or n_fft
    window = torch.hann_window(win, dtype=x.dtype, device=x.device)

    def magnitude(signal: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(signal, n_fft, hop_length=hop, win_length=win, window=window, center=True,
                          pad_mode="reflect", return_complex=True)
        return torch.sqrt(torch.clamp(spec.real.square() + spec.imag.square(), min=STFT_EPS))

    x_mag, y_mag = magnitude(x), magnitude(y)
    sc = torch.linalg.vector_norm(y_mag - x_mag) / torch.linalg.vector_norm(y_mag)
    return sc + F.l1_loss(torch.log(x_mag), torch.log(y_mag))


def multi_resolution_stft_loss(x: torch.Tensor, y: torch.Tensor,
                               fft_sizes: tuple[int, ...] = (2048, 1024, 512)) -> torch.Tensor:
    """The mean of :func:`stft_loss` over ``fft_sizes`` (hop ``n_fft // 4``, Hann of ``n_fft``).

    Parameters
    ----------
    x, y : torch.Tensor [shape=(n, n_samples)]
        Estimate and target.
    fft_sizes : tuple of int

    Returns
    -------
    torch.Tensor
        Scalar; 0 for identical signals.

    References
    ----------
    Yamamoto, Song & Kim, "Parallel WaveGAN: a fast waveform generation model based on
    generative adversarial networks with multi-resolution spectrogram", ICASSP 2020.
    Steinmetz & Reiss, "auraloss: audio-focused loss functions in PyTorch", DMRN+15, 2020
    (``MultiResolutionSTFTLoss``: this is its definition with ``w_sc = w_log_mag = 1``).
    """
    return sum((stft_loss(x, y, n_fft=n) for n in fft_sizes), torch.zeros((), dtype=x.dtype)) / len(fft_sizes)


class MultiResolutionSTFTLoss(torch.nn.Module):
    """:func:`multi_resolution_stft_loss` as a module: ``loss(x, y)``, ``x`` estimated, ``y`` target.

    Parameters
    ----------
    fft_sizes : tuple of int
        Default ``(2048, 1024, 512)``.
    """

    def __init__(self, fft_sizes: tuple[int, ...] = (2048, 1024, 512)) -> None:
        super().__init__()
        self.fft_sizes = tuple(int(n) for n in fft_sizes)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return multi_resolution_stft_loss(x, y, self.fft_sizes)

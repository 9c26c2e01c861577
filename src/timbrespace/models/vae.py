"""The VAE module: encoder, decoder, likelihood, objective, optional labels and discriminator.

See :mod:`timbrespace.models.config` for the loss convention and what ``beta`` weighs
in each objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models.config import VAEConfig
from timbrespace.models.harmonic import HarmonicDecoder
from timbrespace.models.layers import ConvDecoder, ConvEncoder, MLPDecoder, MLPEncoder, mlp
from timbrespace.models.losses import (
    adaptive_shared_mask,
    average_posteriors,
    bernoulli_nll,
    gaussian_kl,
    gaussian_nll,
    hit_velocity_nll,
    hvo_nll,
    offset_from_logits,
    permute_dims,
    tc_decomposition,
)
from timbrespace.models.sequence import GRUDecoder, GRUEncoder
from timbrespace.models.shift import ShiftDecoder, ShiftEncoder

__all__ = ["VAE", "VAEOutput", "LossTerms", "build_model"]


@dataclass(frozen=True)
class VAEOutput:
    """What :meth:`VAE.forward` returns.

    Attributes
    ----------
    x_hat : torch.Tensor [shape=(n, *item_shape)]
        Mean of the likelihood (Gaussian mean, Bernoulli probabilities; for
        ``hit_velocity`` the expected velocity, hit probability × velocity; for ``hvo``
        that and the expected offset, hit probability × offset, as two channels).
    x_logits : torch.Tensor [shape=(n, *input_shape) or (n, 2 or 3, *input_shape)]
        Decoder output the loss reads: Gaussian mean (after ``output_activation``),
        Bernoulli logits, hit and velocity logits (``hit_velocity``), and offset
        pre-activations (``hvo``).
    mu, logvar, z : torch.Tensor [shape=(n, latent_dim)]
        Posterior parameters and the reparameterised sample.
    views : tuple of torch.Tensor, optional
        The shift encoder's ``(view, position)`` of the input
        (:meth:`~timbrespace.models.shift.ShiftEncoder.parts`); None for other encoders.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import VAEConfig, build_model
    >>> model = build_model(VAEConfig(input_shape=(64,), latent_dim=4, hidden_sizes=(32,)), seed=0)
    >>> out = model(torch.rand(8, 64, generator=torch.Generator().manual_seed(0)))
    >>> tuple(out.x_hat.shape), tuple(out.mu.shape), tuple(out.logvar.shape), tuple(out.z.shape)
    ((8, 64), (8, 4), (8, 4), (8, 4))
    """

    x_hat: torch.Tensor
    x_logits: torch.Tensor
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor
    views: tuple[torch.Tensor, torch.Tensor] | None = None


@dataclass(frozen=True)
class LossTerms:
    """Batch-mean loss terms (scalars).

    ``loss`` is what is minimised; ``recon`` the reconstruction NLL (summed over
    features); ``kl`` the analytic KL to the prior (summed over latents), reported for
    every objective; ``tc`` the total-correlation estimate (``tcvae``, ``factorvae``).
    ``calibration`` is what :meth:`VAE.calibrate` reads after the step, for a model whose
    decoder calibrates on its training batches (a ``harmonic`` shift decoder): the items
    and the head's positions of them, detached; None otherwise. A loss changes nothing.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import VAEConfig, build_model
    >>> model = build_model(VAEConfig(input_shape=(64,), latent_dim=4, hidden_sizes=(32,)), seed=0)
    >>> x = torch.rand(8, 64, generator=torch.Generator().manual_seed(0))
    >>> terms = model.loss(x, model(x))
    >>> terms.loss.ndim, terms.tc is None  # scalars; tc only for β-TCVAE and FactorVAE
    (0, True)
    """

    loss: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    tc: torch.Tensor | None = None
    calibration: tuple[torch.Tensor, torch.Tensor] | None = None


class VAE(nn.Module):
    """A VAE of the family described by ``config``; build it with :func:`build_model`.

    Parameters
    ----------
    config : VAEConfig
        Architecture, likelihood and objective.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import VAEConfig, build_model
    >>> model = build_model(VAEConfig(input_shape=(64,), latent_dim=4, hidden_sizes=(32,)), seed=0)
    >>> x = torch.rand(8, 64, generator=torch.Generator().manual_seed(0))
    >>> out = model(x)
    >>> tuple(out.mu.shape), tuple(out.x_hat.shape)
    ((8, 4), (8, 64))
    >>> terms = model.loss(x, out)
    >>> sorted(k for k in ("loss", "recon", "kl") if getattr(terms, k).ndim == 0)
    ['kl', 'loss', 'recon']
    """

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        self.embeddings: nn.ModuleList | None = None
        condition_dim = 0
        if config.is_conditional:
            if config.condition_encoding == "embedding":
                self.embeddings = nn.ModuleList(
                    nn.Embedding(k, config.condition_embedding_dim)
                    for k in config.condition_classes
                )
                condition_dim = config.condition_embedding_dim * len(config.condition_classes)
            else:
                condition_dim = sum(config.condition_classes)
            condition_dim += config.condition_continuous
        if config.architecture == "conv":
            self.encoder: nn.Module = ConvEncoder(config, condition_dim)
            self.decoder: nn.Module = ConvDecoder(config, condition_dim)
        elif config.architecture == "gru":
            self.encoder = GRUEncoder(config, condition_dim)
            self.decoder = GRUDecoder(config, condition_dim)
        elif config.architecture == "shift":
            self.encoder = ShiftEncoder(config, condition_dim)
            harmonic = config.shift is not None and config.shift.decoder == "harmonic"
            self.decoder = (HarmonicDecoder if harmonic else ShiftDecoder)(config, condition_dim)
        else:
            self.encoder = MLPEncoder(config, condition_dim)
            self.decoder = MLPDecoder(config, condition_dim)
        self.output_logvar: nn.Parameter | None = None
        if config.likelihood == "gaussian" and config.learn_variance:
            self.output_logvar = nn.Parameter(
                torch.full(config.input_shape, math.log(config.output_variance))
            )
        self.discriminator: nn.Sequential | None = None
        if config.objective == "factorvae":
            sizes = [config.latent_dim, *config.discriminator_hidden, 2]
            self.discriminator = mlp(sizes, "leaky_relu")

    # ------------------------------------------------------------------ labels
    def condition_vector(self, c: torch.Tensor | None) -> torch.Tensor | None:
        """Encode conditions ``c`` ``(n, n_conditions)``: labels as one-hots or embeddings,
        continuous inputs as they are.

        ``c`` holds integer labels, one column per entry of ``condition_classes``; with
        ``condition_continuous`` inputs it is a float array whose first columns are the
        (integer-valued) labels and whose last ``condition_continuous`` columns are the
        continuous values.

        Raises
        ------
        ParameterError
            If the model is conditional and ``c`` is missing or has the wrong shape.
        """
        cfg = self.config
        classes = cfg.condition_classes
        if not cfg.is_conditional:
            if c is not None:
                raise ParameterError(
                    "c was given but the model is unconditional (condition_classes=())"
                )
            return None
        if c is None:
            raise ParameterError(
                f"c is required: the model is conditioned on {len(classes)} label(s) {classes}"
                + (f" and {cfg.condition_continuous} continuous input(s)" if cfg.condition_continuous else "")
            )
        c = torch.as_tensor(c, device=self._device())
        if cfg.condition_continuous == 0:
            c = c.long()
        if c.ndim == 1:
            c = c.unsqueeze(1)
        if c.ndim != 2 or c.shape[1] != cfg.n_conditions:
            raise ParameterError(f"c has shape {tuple(c.shape)}; expected (n, {cfg.n_conditions})")
        parts: list[torch.Tensor] = []
        if classes:
            labels = c[:, : len(classes)].long()
            if self.embeddings is not None:
                parts += [emb(labels[:, i]) for i, emb in enumerate(self.embeddings)]
            else:
                parts += [F.one_hot(labels[:, i], k).float() for i, k in enumerate(classes)]
        if cfg.condition_continuous:
            parts.append(c[:, len(classes) :].float())
        return torch.cat(parts, dim=1)

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------ core
    def encode(
        self, x: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, logvar)``, each ``(n, latent_dim)``, of items ``x`` ``(n, *item_shape)``."""
        return self._posterior(x, self.condition_vector(c))

    def decode_logits(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """What the loss reads (see :class:`VAEOutput`): Gaussian mean, Bernoulli logits,
        hit and velocity logits ``(n, 2, *input_shape)``, or those and offset pre-activations
        ``(n, 3, *input_shape)`` (``hvo``)."""
        return self._decoder_output(z, self.condition_vector(c))

    def decode(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of the likelihood ``(n, *item_shape)`` given latents ``z`` ``(n, latent_dim)``."""
        return self._mean(self.decode_logits(z, c))

    def decode_condition_vector(self, z: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        """Mean of the likelihood given latents and an already encoded condition vector.

        ``condition`` ``(n, condition_dim)`` is what :meth:`condition_vector` returns, or a
        blend of such vectors: seed 002 interpolated its one-hot conditions linearly
        between two notes.
        """
        return self._mean(self._decoder_output(z, condition))

    def _posterior(
        self, x: torch.Tensor, cond: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar, _ = self._posterior_parts(x, cond)
        return mu, logvar

    def _posterior_parts(
        self, x: torch.Tensor, cond: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """``(mu, logvar, views)``; ``views`` is the shift encoder's ``(view, position)`` of ``x``, else None."""
        item_shape = self.config.item_shape
        if x.ndim < 2 or math.prod(x.shape[1:]) != math.prod(item_shape):
            raise ParameterError(
                f"x has shape {tuple(x.shape)}; expected (n, {', '.join(map(str, item_shape))})"
            )
        if self.config.likelihood == "hit_velocity":
            # GrooVAE's encoder sees where the hits are beside their velocities
            x = torch.stack([(x > 0).to(x.dtype), x], dim=1)
        elif self.config.likelihood == "hvo":
            x = x.reshape(x.shape[0], *item_shape)
            hits = (x[:, 0] > 0).to(x.dtype)
            if self.config.encoder_input == "hits":  # Humanize: a quantised bar, one velocity, on the grid
                x = torch.stack([hits, hits, torch.zeros_like(hits)], dim=1)
            else:
                x = torch.stack([hits, x[:, 0], x[:, 1]], dim=1)
        if self._standardised:
            x = (x - float(self.config.input_offset)) / float(self.config.input_scale)  # type: ignore[arg-type]
        views = None
        if isinstance(self.encoder, ShiftEncoder):
            mu, logvar, view, position = self.encoder.parts(x)
            views = (view, position)
        else:
            mu, logvar = self.encoder(x, cond)
        bounds = self.config.logvar_bounds
        if bounds is not None:
            logvar = logvar.clamp(bounds[0], bounds[1])
        return mu, logvar, views

    def _decoder_output(self, z: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        out = self.decoder(z, cond)
        out = torch.sigmoid(out) if self.config.output_activation == "sigmoid" else out
        if self._standardised:
            out = out * float(self.config.input_scale) + float(self.config.input_offset)  # type: ignore[arg-type]
        return out

    @property
    def _standardised(self) -> bool:
        """Whether the model reads standardised inputs (``VAEConfig.input_scale``; Gaussian, not shift)."""
        cfg = self.config
        return cfg.input_scale is not None and cfg.shift is None and cfg.likelihood == "gaussian"

    def _mean(self, logits: torch.Tensor) -> torch.Tensor:
        likelihood = self.config.likelihood
        if likelihood == "bernoulli":
            return torch.sigmoid(logits)
        if likelihood == "hit_velocity":
            return torch.sigmoid(logits[:, 0]) * torch.sigmoid(logits[:, 1])
        if likelihood == "hvo":
            probs = torch.sigmoid(logits[:, 0])
            return torch.stack([probs * torch.sigmoid(logits[:, 1]), probs * offset_from_logits(logits[:, 2])], dim=1)
        return logits

    def hits_and_velocities(
        self, z: torch.Tensor, c: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Hit probabilities and velocities ``(n, *input_shape)`` at latents ``z``.

        For ``hit_velocity`` and ``hvo`` both come from the decoder; for ``bernoulli`` (hits
        only) the velocities are ``None``.

        Raises
        ------
        ParameterError
            For a Gaussian likelihood (no hits to speak of).
        """
        likelihood = self.config.likelihood
        if likelihood == "gaussian":
            raise ParameterError(
                "hits_and_velocities needs likelihood 'bernoulli', 'hit_velocity' or 'hvo', not 'gaussian'"
            )
        logits = self.decode_logits(z, c)
        if likelihood == "bernoulli":
            return torch.sigmoid(logits), None
        return torch.sigmoid(logits[:, 0]), torch.sigmoid(logits[:, 1])

    def offsets(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Micro-timing offsets ``(n, *input_shape)`` in steps, in (-0.5, 0.5), at latents ``z`` (``hvo``).

        Each cell's offset is the one its hit would be played at (not weighted by the hit
        probability, unlike :meth:`decode`).

        Raises
        ------
        ParameterError
            For a likelihood other than ``hvo`` (no offsets to give).
        """
        if self.config.likelihood != "hvo":
            raise ParameterError(f"offsets needs likelihood 'hvo', not {self.config.likelihood!r}")
        return offset_from_logits(self.decode_logits(z, c)[:, 2])

    @staticmethod
    def reparameterize(
        mu: torch.Tensor, logvar: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` drawn from ``generator``."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def forward(
        self,
        x: torch.Tensor,
        c: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> VAEOutput:
        """Encode, sample ``z`` (from ``generator``), decode."""
        cond = self.condition_vector(c)
        mu, logvar, views = self._posterior_parts(x, cond)
        z = self.reparameterize(mu, logvar, generator=generator)
        logits = self._decoder_output(z, cond)
        return VAEOutput(x_hat=self._mean(logits), x_logits=logits, mu=mu, logvar=logvar, z=z, views=views)

    # ------------------------------------------------------------------ losses
    def reconstruction(self, x: torch.Tensor, out: VAEOutput) -> torch.Tensor:
        """Reconstruction NLL per item ``(n,)``, summed over features."""
        if self.config.likelihood == "bernoulli":
            return bernoulli_nll(x, out.x_logits)
        if self.config.likelihood == "hit_velocity":
            return hit_velocity_nll(
                x, out.x_logits, velocity_variance=self.config.output_variance
            )
        if self.config.likelihood == "hvo":
            x = x.reshape(x.shape[0], *self.config.item_shape)
            return hvo_nll(x, out.x_logits, variance=self.config.output_variance)
        scale = float(self.config.input_scale) if self._standardised else 1.0  # type: ignore[arg-type]
        if self.output_logvar is not None:
            return gaussian_nll(x, out.x_logits, logvar=self.output_logvar + 2.0 * math.log(scale))
        variance = self.config.output_variance * scale**2
        if self.config.shift is not None:  # the variance is on the model's normalised scale
            variance *= float(self.config.shift.input_scale) ** 2
        return gaussian_nll(x, out.x_logits, variance=variance)

    def capacity(self, step: int) -> float:
        """KL capacity ``C`` in nats after ``step`` optimiser steps (``annealed``)."""
        cfg = self.config
        return cfg.capacity_max * min(1.0, step / cfg.capacity_steps)

    def loss(
        self,
        x: torch.Tensor,
        out: VAEOutput,
        *,
        beta: float | None = None,
        step: int = 0,
        warmup: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> LossTerms:
        """The objective's loss on one batch.

        Parameters
        ----------
        x : torch.Tensor [shape=(n, *input_shape)]
            The batch that produced ``out``.
        out : VAEOutput
            ``self(x)``.
        beta : float, optional
            Weight of the objective's named term (default ``config.beta``; a β schedule
            passes its current value).
        step : int
            Optimiser steps so far (sets the capacity of ``annealed``).
        warmup : float
            Fraction of the β warm-up reached, in [0, 1]; scales ``tcvae``'s MI and
            dimension-wise KL terms like ``beta``.
        generator : torch.Generator, optional
            Draws the translations of the ``shift`` architecture's equivariance loss.

        Returns
        -------
        LossTerms
            Batch means; see the loss convention in :mod:`timbrespace.models.config`.

        References
        ----------
        Higgins et al. 2017; Burgess et al. 2018; Chen et al. 2018; Kim & Mnih 2018.
        """
        cfg = self.config
        beta = cfg.beta if beta is None else float(beta)
        recon = self.reconstruction(x, out).mean()
        kl = gaussian_kl(out.mu, out.logvar).mean()
        tc: torch.Tensor | None = None
        if cfg.objective in ("beta_vae", "ada_gvae", "ada_mlvae"):
            loss = recon + beta * kl
        elif cfg.objective == "annealed":
            loss = recon + beta * (kl - self.capacity(step)).abs()
        elif cfg.objective == "tcvae":
            if cfg.dataset_size is None:
                raise ParameterError(
                    "dataset_size=None: objective='tcvae' needs the training set size"
                )
            mi, tc, dim_kl = tc_decomposition(
                out.z, out.mu, out.logvar, dataset_size=cfg.dataset_size
            )
            loss = recon + warmup * (cfg.tc_alpha * mi + cfg.tc_gamma * dim_kl) + beta * tc
        else:
            logits = self.discriminator(out.z)  # type: ignore[misc]
            # D's logit difference estimates log q(z) / prod_j q(z_j), i.e. the TC (Kim & Mnih 2018, eq. 3).
            tc = (logits[:, 0] - logits[:, 1]).mean()
            loss = recon + kl + beta * tc
        return LossTerms(loss=loss + self.equivariance(x, generator), recon=recon, kl=kl, tc=tc,
                         calibration=self._calibration(x, out.views))

    def _calibration(self, x: torch.Tensor,
                     views: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor] | None:
        """:attr:`LossTerms.calibration` of a batch: ``(x, positions)`` detached, for a harmonic decoder."""
        if not isinstance(self.decoder, HarmonicDecoder):
            return None
        with torch.no_grad():
            positions = self.encoder.position(self.encoder.view(x)) if views is None else views[1]
        return x.detach(), positions.detach()

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, positions: torch.Tensor) -> None:
        """Update a ``harmonic`` decoder's f0 offset from a training batch (a no-op for others).

        Training calls it after each step's loss with what the loss returned
        (``LossTerms.calibration``); a loss itself changes nothing
        (:meth:`~timbrespace.models.harmonic.HarmonicDecoder.calibrate`).

        Parameters
        ----------
        x : torch.Tensor [shape=(n, *input_shape)]
            The batch's features (dB).
        positions : torch.Tensor [shape=(n,)]
            The shift head's positions of them, bins of the log view.
        """
        if isinstance(self.decoder, HarmonicDecoder):
            self.decoder.calibrate(x, positions)

    def equivariance(self, x: torch.Tensor, generator: torch.Generator | None = None, *,
                     views: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor | float:
        """The ``shift`` architecture's weighted equivariance loss on ``x`` (0 for other models).

        ``views``: the shift encoder's ``(view, position)`` of ``x``
        (:meth:`~timbrespace.models.shift.ShiftEncoder.parts`), when the caller has them.
        """
        spec = self.config.shift
        if spec is None:
            return 0.0
        view, position = (None, None) if views is None else views
        total: torch.Tensor | float = 0.0
        if spec.equivariance_weight:
            total = spec.equivariance_weight * self.encoder.equivariance_loss(
                x, generator=generator, view=view, position=position)
        if spec.warp and spec.warp_equivariance_weight:
            total = total + spec.warp_equivariance_weight * self.encoder.warp_equivariance_loss(
                x, generator=generator, view=view, position=position)
        return total

    def pair_loss(
        self,
        x1: torch.Tensor,
        x2: torch.Tensor,
        *,
        beta: float | None = None,
        generator: torch.Generator | None = None,
    ) -> LossTerms:
        """Ada-GVAE / Ada-ML-VAE loss of pairs ``(x1[i], x2[i])`` that share all factors but k.

        Parameters
        ----------
        x1, x2 : torch.Tensor [shape=(n, *input_shape)]
        beta : float, optional
            KL weight (default ``config.beta``; a β schedule passes its value).
        generator : torch.Generator, optional
            Reparameterisation noise (and the equivariance translations).

        Returns
        -------
        LossTerms
            ``loss = recon(x1) + recon(x2) + beta * (KL1 + KL2)`` (batch means, plus the
            shift architecture's equivariance term); ``recon`` and ``kl`` are per item.

        Raises
        ------
        ParameterError
            If the objective is not ``ada_gvae`` or ``ada_mlvae``, or the model is conditional.

        References
        ----------
        Locatello et al., "Weakly-supervised disentanglement without compromises", ICML 2020.
        """
        cfg = self.config
        if cfg.objective not in ("ada_gvae", "ada_mlvae"):
            raise ParameterError(f"pair_loss needs objective 'ada_gvae' or 'ada_mlvae', not {cfg.objective!r}")
        if cfg.is_conditional:
            raise ParameterError("weak supervision on pairs is for unconditional models")
        beta = cfg.beta if beta is None else float(beta)
        mu1, lv1, views1 = self._posterior_parts(x1, None)
        mu2, lv2, views2 = self._posterior_parts(x2, None)
        shared = adaptive_shared_mask(mu1, lv1, mu2, lv2)
        mu_avg, lv_avg = average_posteriors(mu1, lv1, mu2, lv2, mode=cfg.objective[4:])
        recon = kl = 0.0
        for x, mu, lv in ((x1, mu1, lv1), (x2, mu2, lv2)):
            mu, lv = torch.where(shared, mu_avg, mu), torch.where(shared, lv_avg, lv)
            z = self.reparameterize(mu, lv, generator=generator)
            logits = self._decoder_output(z, None)
            out = VAEOutput(x_hat=self._mean(logits), x_logits=logits, mu=mu, logvar=lv, z=z)
            recon = recon + self.reconstruction(x, out).mean()
            kl = kl + gaussian_kl(mu, lv).mean()
        # the shift encoder's views and head positions of both sides, read once for both losses
        views = None if views1 is None or views2 is None else (
            torch.cat([views1[0], views2[0]]), torch.cat([views1[1], views2[1]]))
        x12 = torch.cat([x1, x2])
        loss = recon + beta * kl + self.equivariance(x12, generator, views=views)
        return LossTerms(loss=loss, recon=recon / 2, kl=kl / 2, calibration=self._calibration(x12, views))

    def discriminator_loss(
        self, z: torch.Tensor, *, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """FactorVAE discriminator cross-entropy: class 0 for ``q(z)``, class 1 for permuted dims.

        ``z`` should be detached from the VAE graph.

        Raises
        ------
        ParameterError
            If the objective is not ``factorvae``.
        """
        if self.discriminator is None:
            raise ParameterError(
                f"objective={self.config.objective!r} has no discriminator (only 'factorvae')"
            )
        z_perm = permute_dims(z, generator=generator)
        logits = self.discriminator(torch.cat([z, z_perm], dim=0))
        n = z.shape[0]
        target = torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)]).to(
            z.device
        )
        return F.cross_entropy(logits, target)

    def vae_parameters(self) -> list[nn.Parameter]:
        """Parameters of everything but the discriminator (what the VAE optimiser updates)."""
        skip = (
            {id(p) for p in self.discriminator.parameters()}
            if self.discriminator is not None
            else set()
        )
        return [p for p in self.parameters() if id(p) not in skip]

    def linear_parameters(self) -> list[nn.Parameter]:
        """Parameters of the linear paths of a ``linear_skip`` model (empty otherwise)."""
        paths = [getattr(self.encoder, "skip", None), getattr(self.decoder, "skip", None)]
        return [p for path in paths if path is not None for p in path.parameters()]


def build_model(config: VAEConfig, *, seed: int | None = None) -> VAE:
    """Make the module ``config`` describes.

    Parameters
    ----------
    config : VAEConfig
        The model description.
    seed : int, optional
        Seed of the weight initialisation. The global torch RNG is forked and restored,
        so building a model never changes other code's random stream.

    Returns
    -------
    VAE
        In training mode, on the CPU; conv models in channels-last memory format.

    Raises
    ------
    ConfigError
        If ``config.input_shape`` is not set.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.models import VAEConfig, build_model
    >>> config = VAEConfig(input_shape=(64,), latent_dim=4, hidden_sizes=(32,))
    >>> a, b = build_model(config, seed=0), build_model(config, seed=0)
    >>> all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))  # same seed
    True
    >>> sum(p.numel() for p in a.parameters())  # 64 -> 32 -> (mu, logvar) -> 32 -> 64
    4616
    """
    if config.input_shape is None:
        raise ConfigError("input_shape is not set: give the shape of one item to build the model")
    if seed is None:
        model = VAE(config)
    else:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            model = VAE(config)
    if config.architecture == "conv":
        model = model.to(memory_format=torch.channels_last)
    return model

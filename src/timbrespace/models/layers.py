"""Encoders and decoders: MLP and 2-D conv, sizes from :class:`VAEConfig`.

Encoders map ``x`` (and an optional label vector) to ``(mu, logvar)``; decoders map ``z``
(and the label vector) to the raw decoder output of shape ``(n, *input_shape)`` (the
Gaussian mean or the Bernoulli logits). Conv models run in channels-last memory
format, which is faster on CPUs with oneDNN.
"""

from __future__ import annotations

import torch
from torch import nn

from timbrespace.models.config import VAEConfig

__all__ = [
    "make_activation",
    "mlp",
    "MLPEncoder",
    "MLPDecoder",
    "ConvEncoder",
    "ConvDecoder",
    "conv_shapes",
]


def make_activation(name: str) -> nn.Module:
    """Activation module by name (one of ``ACTIVATIONS``)."""
    return {
        "relu": nn.ReLU,
        "relu6": nn.ReLU6,
        "leaky_relu": lambda: nn.LeakyReLU(0.2),
        "elu": nn.ELU,
        "silu": nn.SiLU,
        "tanh": nn.Tanh,
    }[name]()


def mlp(sizes: list[int], activation: str, *, final_activation: bool = False) -> nn.Sequential:
    """Linear layers ``sizes[0] -> ... -> sizes[-1]`` with activations between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(make_activation(activation))
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Flatten, hidden layers, then one linear head giving ``(mu, logvar)``.

    With ``config.linear_skip`` a linear map of the input (``skip``) is added to the
    head's output, and the head starts at zero: the encoder starts as the linear map and
    the hidden layers learn a residual (see :func:`timbrespace.training.linear_start`).
    """

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        n_in = config.n_features * config.likelihood_channels
        sizes = [n_in + condition_dim, *config.hidden_sizes]
        self.body = mlp(sizes, config.activation, final_activation=True)
        self.head = nn.Linear(sizes[-1], 2 * config.latent_dim)
        self.skip: nn.Linear | None = None
        if config.linear_skip:
            self.skip = nn.Linear(sizes[0], 2 * config.latent_dim)
            _zero(self.head)

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.flatten(1)
        if condition is not None:
            h = torch.cat([h, condition], dim=1)
        out = self.head(self.body(h))
        if self.skip is not None:
            out = out + self.skip(h)
        mu, logvar = out.chunk(2, dim=1)
        return mu, logvar


class MLPDecoder(nn.Module):
    """Mirror of :class:`MLPEncoder`; output reshaped to ``input_shape``.

    With two values per feature (``hit_velocity``) the output is ``(n, 2, *input_shape)``.

    With ``config.linear_skip``, ``skip(z)`` is added to the output and the last layer
    starts at zero, as in the encoder.
    """

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        sizes = [
            config.latent_dim + condition_dim,
            *reversed(config.hidden_sizes),
            config.n_features * config.likelihood_channels,
        ]
        self.net = mlp(sizes, config.activation)
        channels = config.likelihood_channels
        self.output_shape = (
            config.input_shape if channels == 1 else (channels, *config.input_shape)
        )
        self.skip: nn.Linear | None = None
        if config.linear_skip:
            self.skip = nn.Linear(sizes[0], sizes[-1])
            _zero(self.net[-1])

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        out = self.net(z)
        if self.skip is not None:
            out = out + self.skip(z)
        return out.reshape(z.shape[0], *self.output_shape)


def _zero(layer: nn.Module) -> None:
    """Zero a linear layer's weight and bias (the residual branch of a linear-skip model)."""
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()


def conv_shapes(config: VAEConfig) -> list[tuple[int, int]]:
    """Spatial shape ``(height, width)`` before each conv block and after the last.

    With padding ``k // 2`` and odd ``k``, a block maps ``n`` to ``(n - 1) // s + 1``.
    """
    height, width = config.input_shape[-2:]
    shapes = [(height, width)]
    for sh, sw in config.strides:
        height, width = (height - 1) // sh + 1, (width - 1) // sw + 1
        shapes.append((height, width))
    return shapes


def _channels(config: VAEConfig) -> int:
    return config.input_shape[0] if len(config.input_shape) == 3 else 1


class ConvEncoder(nn.Module):
    """Conv blocks (conv, BatchNorm, activation), flatten, hidden layers, ``(mu, logvar)`` head."""

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        k = config.conv_kernel_size
        blocks: list[nn.Module] = []
        c_in = _channels(config)
        for c_out, stride in zip(config.conv_channels, config.strides, strict=True):
            blocks.append(
                nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=not config.batch_norm)
            )
            if config.batch_norm:
                blocks.append(nn.BatchNorm2d(c_out))
            blocks.append(make_activation(config.activation))
            c_in = c_out
        self.conv = nn.Sequential(*blocks)
        height, width = conv_shapes(config)[-1]
        sizes = [c_in * height * width + condition_dim, *config.hidden_sizes]
        self.fc = mlp(sizes, config.activation, final_activation=True)
        self.head = nn.Linear(sizes[-1], 2 * config.latent_dim)
        self.image_shape = (_channels(config), *config.input_shape[-2:])

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.reshape(x.shape[0], *self.image_shape).contiguous(memory_format=torch.channels_last)
        h = self.conv(x).flatten(1)
        if condition is not None:
            h = torch.cat([h, condition], dim=1)
        mu, logvar = self.head(self.fc(h)).chunk(2, dim=1)
        return mu, logvar


class ConvDecoder(nn.Module):
    """Mirror of :class:`ConvEncoder` with transposed convs that land on the exact input shape."""

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        k = config.conv_kernel_size
        shapes = conv_shapes(config)
        channels = [_channels(config), *config.conv_channels]
        self.start_shape = (channels[-1], *shapes[-1])
        n_start = channels[-1] * shapes[-1][0] * shapes[-1][1]
        sizes = [config.latent_dim + condition_dim, *reversed(config.hidden_sizes), n_start]
        self.fc = mlp(sizes, config.activation, final_activation=True)
        blocks: list[nn.Module] = []
        n_layers = len(config.conv_channels)
        for i in range(n_layers, 0, -1):
            stride = config.strides[i - 1]
            (h_in, w_in), (h_out, w_out) = shapes[i], shapes[i - 1]
            # output_padding picks the one output size (of ``stride`` possible) that matches the encoder input.
            padding = (
                h_out - ((h_in - 1) * stride[0] - 2 * (k // 2) + k),
                w_out - ((w_in - 1) * stride[1] - 2 * (k // 2) + k),
            )
            last = i == 1
            blocks.append(
                nn.ConvTranspose2d(
                    channels[i],
                    channels[i - 1],
                    k,
                    stride=stride,
                    padding=k // 2,
                    output_padding=padding,
                    bias=last or not config.batch_norm,
                )
            )
            if not last:
                if config.batch_norm:
                    blocks.append(nn.BatchNorm2d(channels[i - 1]))
                blocks.append(make_activation(config.activation))
        self.deconv = nn.Sequential(*blocks)
        self.input_shape = config.input_shape

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        h = (
            self.fc(z)
            .reshape(z.shape[0], *self.start_shape)
            .contiguous(memory_format=torch.channels_last)
        )
        return self.deconv(h).reshape(z.shape[0], *self.input_shape)

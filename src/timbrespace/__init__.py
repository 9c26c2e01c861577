"""timbrespace: learn disentangled latent spaces of sound.

Subpackages (see DESIGN.md): ``synths``, ``datasets``, ``features``, ``models``,
``training``, ``metrics``, ``analysis``, ``generation``, ``patterns``, ``experiments``,
``cli``.
"""

__version__ = "0.1.0"

from timbrespace.errors import (  # noqa: E402
    AudioError,
    ConfigError,
    DatasetError,
    ParameterError,
    TimbrespaceError,
    TrainingError,
)

__all__ = [
    "AudioError",
    "ConfigError",
    "DatasetError",
    "ParameterError",
    "TimbrespaceError",
    "TrainingError",
    "__version__",
]

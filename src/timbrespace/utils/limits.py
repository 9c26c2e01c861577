"""Bounds that every entry point shares: sample rates and seeds (issue 32).

One validator per quantity, called wherever a value enters (configs, library functions,
the CLI through them), so that a sample rate of 2 GHz or a seed past ``2**32`` is refused
before any work, with the same words everywhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["MAX_SAMPLE_RATE_HZ", "MAX_SEED", "MIN_SAMPLE_RATE_HZ", "check_sample_rate", "check_seed"]

MIN_SAMPLE_RATE_HZ = 1_000
MAX_SAMPLE_RATE_HZ = 384_000
"""Sample rates accepted (Hz): from below telephone audio to the highest rate audio
interfaces record; outside this a request is a typo, and at 2 GHz a second of audio is 8 GB."""

MAX_SEED = 2**32
"""Seeds are ``0 <= seed < 2**32``: what NumPy's legacy seeding, ``torch.manual_seed`` on
every platform and the ``struct`` format of our file headers all take."""


def check_sample_rate(sample_rate: Any, name: str = "sample_rate") -> int:
    """Return ``sample_rate`` as an int after checking it is a whole number of Hz in range.

    Parameters
    ----------
    sample_rate : int
        Hz, ``MIN_SAMPLE_RATE_HZ..MAX_SAMPLE_RATE_HZ`` (1000..384000).
    name : str
        How the message names it (a field, or an option such as ``--sample-rate``).

    Raises
    ------
    ParameterError
        ``"sample_rate=0 must be a positive integer (Hz)"``,
        ``"sample_rate=2000000000 Hz is out of range: allowed 1000..384000 Hz"``.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ParameterError(f"{name}={sample_rate!r} must be a positive integer (Hz)")
    if not MIN_SAMPLE_RATE_HZ <= sample_rate <= MAX_SAMPLE_RATE_HZ:
        raise ParameterError(f"{name}={sample_rate} Hz is out of range: allowed "
                             f"{MIN_SAMPLE_RATE_HZ}..{MAX_SAMPLE_RATE_HZ} Hz")
    return int(sample_rate)


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return ``seed`` as an int after checking ``0 <= seed < 2**32``.

    Raises
    ------
    ParameterError
        ``"seed=-1 is out of range: allowed 0 <= seed < 2**32 (4294967296)"``.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ParameterError(f"{name}={seed!r} must be an integer")
    if not 0 <= seed < MAX_SEED:
        raise ParameterError(f"{name}={seed} is out of range: allowed 0 <= seed < 2**32 ({MAX_SEED})")
    return int(seed)

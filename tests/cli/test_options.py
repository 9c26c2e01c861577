"""Options and option values that several commands share (``timbrespace.cli._options``)."""

from __future__ import annotations

import pytest

from timbrespace.cli._options import as_options, check_min, names, numbers
from timbrespace.errors import ConfigError, ParameterError


def test_as_options_names_the_commands_option() -> None:
    with pytest.raises(ParameterError) as info, as_options(("n_fft", "hop_length", "fmin_hz"), {"output": "--scale"}):
        raise ParameterError("output='x' is not available; n_fft=100 is smaller than win_length=200")
    assert str(info.value) == "--scale='x' is not available; --n-fft=100 is smaller than win_length=200"
    with pytest.raises(ConfigError, match=r"^--fmin-hz=5 must be"), as_options(("fmin_hz",)):
        raise ConfigError("fmin_hz=5 must be > 0")  # the class is kept
    with pytest.raises(ParameterError, match=r"^features\.n_fft=1 "), as_options((), {"n_fft": "features.n_fft"}):
        raise ParameterError("features.n_fft=1 is already a path")  # not renamed twice


def test_as_options_leaves_other_errors_alone() -> None:
    with pytest.raises(KeyError), as_options(("n_fft",)):
        raise KeyError("n_fft=3")
    with pytest.raises(ParameterError, match="^max_n_fft=3$"), as_options(("n_fft",)):
        raise ParameterError("max_n_fft=3")  # only whole field names


def test_numbers_and_names() -> None:
    assert numbers("400, 200", "--hidden", int, "400,200") == (400, 200)
    assert numbers("0,0.5", "--labelled-fraction", float, "0,0.01") == (0.0, 0.5)
    for bad in ("wide", "4.5", ",,"):
        with pytest.raises(ParameterError, match=r"--hidden=.* must be comma-separated integers, e\.g\. 400,200"):
            numbers(bad, "--hidden", int, "400,200")
    assert names(" pca, ,ica ") == ("pca", "ica")


def test_check_min() -> None:
    check_min("--workers", None, 1)  # the default
    check_min("--workers", 1, 1)
    with pytest.raises(ParameterError, match=r"^--workers=-3 must be >= 1$"):
        check_min("--workers", -3, 1)


"""Fixtures of the experiments tests: the timbre tests' synthetic notes folder."""

from tests.timbre.conftest import synthetic_notes  # noqa: F401

"""The session sandbox of user data shared by the bad-input tables."""

from __future__ import annotations

import pytest

from tests.cli.bad_inputs import build_sandbox


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, shared_data_or_none):
    return build_sandbox(tmp_path_factory.mktemp("user"), shared_data_or_none)

"""Shared fixtures: paths to the real data in ../shared/data (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

# numba's on-disk cache is not safe when two processes compile the same function at once
# (numba issues #4807, #10128: a worker crashed in librosa's peak_pick on a fresh clone). Our
# own kernels compile under a lock (timbrespace.utils.compiled); librosa's cannot, so each
# pytest-xdist worker keeps its own cache. Set before anything imports numba.
if os.environ.get("PYTEST_XDIST_WORKER") and "NUMBA_CACHE_DIR" not in os.environ:
    os.environ["NUMBA_CACHE_DIR"] = str(
        Path(__file__).resolve().parent.parent / ".numba-cache" / os.environ["PYTEST_XDIST_WORKER"]
    )

import pytest  # noqa: E402
import torch  # noqa: E402

# One intra-op thread: tiny test models are slower with more, and CI has 2 shared cores.
torch.set_num_threads(1)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``-n N``) every worker process gets one thread for OpenMP and BLAS too.

    Set here, in the controller, before it starts the workers: they inherit it, so numpy's BLAS
    and the subprocesses tests start come up on one thread and the N workers do not oversubscribe
    the cores.
    """
    if getattr(config.option, "numprocesses", None) or os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"


def _xdist_order(item: pytest.Item) -> tuple[bool, float]:
    """Sort key of ``@pytest.mark.long(SECONDS, threads=N)``: one-thread tests longest first,
    tests on more than one thread last, the rest (0 s) in between."""
    mark = item.get_closest_marker("long")
    if mark is None:
        return False, 0.0
    return int(mark.kwargs.get("threads", 1)) > 1, -float(mark.args[0] if mark.args else 0.0)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``long`` are also ``slow``; pytest-xdist sends them out first, longest first,
    and those marked ``threads=2`` last.

    A worker that draws a 50 s test near the end of the run leaves the other idle, so the long
    ones start first and the short ones fill in behind them. A test that trains on two threads
    (the README's default run) goes last, when the other worker has run out of tests: beside
    it, its threads would share two cores with a third and wait for each other at every op.
    The single-process order is kept.
    """
    for item in items:
        if item.get_closest_marker("long") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a stable sort: the same order in every worker
        items.sort(key=_xdist_order)


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_group_suffix(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` on pytest 9.2: put the ``@GROUP`` suffix on the node id again.

    pytest-xdist 3.8 tells the scheduler an item's ``xdist_group`` by appending ``@GROUP`` to
    its node id, but writes ``item._nodeid``, which pytest 9.2's structured node ids no longer
    read, so the groups are silently ignored (pytest-xdist issue #1386). This does what its
    pending fix (pull request #1388) does; it is a no-op wherever xdist's own suffix took.
    """
    if not getattr(config.option, "loadgroup", False):  # set in pytest-xdist's workers only
        return
    from _pytest.nodeid import NodeId

    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                        for m in item.iter_markers("xdist_group")})
        suffix = "@" + "_".join(names)
        if names and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)


@pytest.fixture(autouse=True)
def _one_thread():  # noqa: ANN202
    """Every test starts on one torch thread, whatever an earlier one set (``--threads``, ``num_threads``)."""
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TIMBRESPACE_SHARED_DATA", REPO.parent / "shared" / "data"))


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real data not found at {path} (set TIMBRESPACE_SHARED_DATA)")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (skips when absent, e.g. on a user's fresh clone)."""
    return _need(SHARED_DATA)


@pytest.fixture(scope="session")
def notes_dir(shared_data: Path) -> Path:
    """276 real instrument notes, NSynth-like layout."""
    return _need(shared_data / "notes")


@pytest.fixture(scope="session")
def grooves_dir(shared_data: Path) -> Path:
    """300 real MIDI drum grooves."""
    return _need(shared_data / "grooves")


@pytest.fixture(scope="session")
def drumkits_dir(shared_data: Path) -> Path:
    """Hydrogen drum kits (Audiophob, TR808EmulationKit)."""
    return _need(shared_data / "drumkits")


@pytest.fixture(scope="session")
def shared_data_or_none() -> Path | None:
    """``../shared/data/grooves`` when present, else ``None`` (for fixtures that can do without)."""
    grooves = SHARED_DATA / "grooves"
    return grooves if grooves.is_dir() else None


CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    """Debian's headless Chromium driven by Playwright (no browser download); skips, saying why,
    without either. Used by the explorer's and the report's browser tests."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()

"""Ctrl-C and SIGTERM during :func:`~timbrespace.training.fit`: stop where a resume starts.

While Lightning trains, a signal is only recorded; :class:`StopOnSignal` raises
:class:`~timbrespace.errors.Interrupted` at the end of the batch, so no checkpoint is cut
in half, and ``checkpoints/last`` (written after every epoch) is where a resume starts.
During the decoder refinement, which writes its checkpoint once at its end, the signal
raises at once. A second signal always raises at once.

Lightning's own handling is bypassed on purpose: it turns Ctrl-C into ``sys.exit(1)``
and SIGTERM into a ``SystemExit`` with code 0, both without a word, which a script or a
scheduler reads as a failure or as success.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import lightning as L

from timbrespace.errors import Interrupted

__all__ = ["SignalState", "StopOnSignal", "catch_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SignalState:
    """The first signal received (``signum``) and the epochs completed so far (``epoch``)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.epoch = 0
        self.immediate = False

    def handle(self, signum: int, frame: Any) -> None:
        again = self.signum is not None
        self.signum = self.signum or signum
        if again or self.immediate:
            raise Interrupted(signum, self.epoch)

    def check(self) -> None:
        """Raise :class:`Interrupted` when a signal came."""
        if self.signum is not None:
            raise Interrupted(self.signum, self.epoch)


class StopOnSignal(L.Callback):
    """Raises :class:`Interrupted` after the batch during which a signal came."""

    def __init__(self, state: SignalState) -> None:
        self.state = state

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._check(pl_module)

    def on_validation_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        self._check(pl_module)

    def _check(self, pl_module: L.LightningModule) -> None:
        self.state.epoch = int(getattr(pl_module, "epoch", self.state.epoch))  # epochs done = last checkpoint
        self.state.check()


@contextlib.contextmanager
def catch_signals() -> Iterator[SignalState]:
    """Install the SIGINT and SIGTERM handlers of :class:`SignalState`; restore the old ones.

    Outside the main thread (where Python cannot set handlers) nothing is installed.
    """
    state = SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    try:
        for s in _SIGNALS:
            signal.signal(s, state.handle)
        yield state
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)

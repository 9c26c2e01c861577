"""The training bar: epochs ``1..N`` with the last epoch's losses, on stderr.

Lightning's own bars count the running epoch from 0 and the Lightning batches of an
epoch, and :class:`~timbrespace.training.batches.ItemBatches` makes the whole epoch one
Lightning batch on one process: the bar showed "1/1" and a rate of 0.00 it/s. This
callback draws one bar over the epochs instead, with the seconds per epoch and the
train (and valid) loss of the last finished epoch.
"""

from __future__ import annotations

from typing import Any

import lightning as L
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["EpochBar"]


class EpochBar(L.Callback):
    """A rich bar over the epochs of :func:`~timbrespace.training.fit`, on rank 0.

    Parameters
    ----------
    total_epochs : int
        The run's epochs (a resumed run starts at the epochs it has done).
    """

    def __init__(self, total_epochs: int) -> None:
        self.total_epochs = int(total_epochs)
        self._bar: Progress | None = None
        self._task: Any = None
        self._first = 0  # epochs done before this fit (a resume)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.is_global_zero:
            return
        self._bar = Progress(
            TextColumn("[bold]train"), BarColumn(), TextColumn("epoch {task.fields[epoch]}/{task.total:.0f}"),
            TextColumn("{task.fields[rate]}"), TextColumn("{task.fields[loss]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
        )
        self._bar.start()
        done = self._first = len(getattr(pl_module, "history", []))
        self._task = self._bar.add_task("train", total=self.total_epochs, completed=done,
                                        epoch=min(done + 1, self.total_epochs), rate="", loss="")

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the module records an epoch after the callbacks' epoch-end hooks ran: read it here
        self._show(pl_module, running=True)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._show(pl_module, running=False)
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _show(self, pl_module: L.LightningModule, *, running: bool) -> None:
        if self._bar is None:
            return
        history = list(getattr(pl_module, "history", []))
        done = len(history)
        task = self._bar.tasks[0]
        fields: dict[str, Any] = {"epoch": min(done + (1 if running else 0), self.total_epochs) or 1}
        if history:
            last = history[-1]
            loss = f"loss {last.train_loss:.4g}"
            if last.val_loss is not None:
                loss += f" (valid {last.val_loss:.4g})"
            fields["loss"] = loss
            if done > self._first and task.elapsed:
                fields["rate"] = f"{task.elapsed / (done - self._first):.2g} s/epoch"
        self._bar.update(self._task, completed=done, **fields)

"""Live training curves: TensorBoard event files in each run's folder.

``tensorboard --logdir <results folder>`` shows every run of a study side by side while
they train (one point per epoch; the run's design, recipe, preset and labels as hparams).
A resumed run opens its writer with ``purge_step``, so an epoch written before an
interruption but not checkpointed is replaced, never duplicated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SCALARS = {"train_loss": "train/loss", "test_top1": "test/top1", "test_top5": "test/top5",
           "lr": "train/lr", "img_per_s": "train/img_per_s",
           "epoch_seconds": "train/epoch_seconds"}
"""History column -> TensorBoard tag."""


class Curves:
    """The event-file writer of one run (rank 0 only)."""

    def __init__(self, folder: Path, start_epoch: int, hparams: dict[str, Any] | None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step: events of this step and later, left by an interrupted earlier writer,
        # are dropped by TensorBoard's reader.
        self.writer = SummaryWriter(str(folder),
                                    purge_step=start_epoch + 1 if start_epoch else None)
        if hparams is not None and start_epoch == 0:
            self._hparams(hparams)

    def _hparams(self, values: dict[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams

        plain = {k: v if isinstance(v, (int, float, str, bool)) else str(v)
                 for k, v in values.items() if v is not None}
        for summary in hparams(plain, {"test/top1": 0.0}):
            self.writer.file_writer.add_summary(summary)

    def epoch(self, row: dict[str, float]) -> None:
        """One point per scalar at step = the epoch number (1-based), flushed at once."""
        for column, tag in SCALARS.items():
            if column in row:
                self.writer.add_scalar(tag, row[column], int(row["epoch"]))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def read_scalars(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """Tag -> [(step, value)] as TensorBoard's own reader sees the run (purges applied)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}

"""The one interface every loader serves (``BatchLoader``): batches of images and labels,
an epoch to choose the randomness, a rank's share, and the move to the device, where each
batch is normalised, the same way for in-memory tensors and for image folders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch


class BatchLoader:
    """Batches of ``(images, labels)``; ``to_device`` moves one and normalises it there.

    Subclasses yield images as 0-255 values (float or uint8) and implement ``__len__``,
    ``__iter__``, ``set_epoch`` and ``shard``. Training goes through ``steps``: each optimizer
    step's batch (this process's share) as micro-batches of ``micro_batch`` images."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], channels: int,
                 channels_last: bool) -> None:
        m = torch.tensor(mean * (channels // len(mean)) if len(mean) != channels else mean)
        s = torch.tensor(std * (channels // len(std)) if len(std) != channels else std)
        self.channel_mean = tuple(m.tolist())
        """The mean colour in [0, 1], one value per channel (what augmentations fill with)."""
        self.mean = (m * 255).view(1, -1, 1, 1)
        self.inv_std = (1.0 / (s * 255)).view(1, -1, 1, 1)
        self.channels_last = channels_last
        self._stats: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}
        self.micro_batch: int | None = None
        """Images per forward pass (None: a step's whole batch)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        raise NotImplementedError

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffling and augmentation randomness of ``epoch`` (for resumes)."""
        raise NotImplementedError

    def shard(self, rank: int, world: int) -> None:
        """Serve only this rank's share of every epoch (several processes)."""
        raise NotImplementedError

    def item_indices(self) -> torch.Tensor:
        """The data set indices of the items this (test) loader serves, in order: all of
        them in one process, this rank's share once ``shard`` split it."""
        raise NotImplementedError

    def set_micro_batch(self, images: int | None) -> None:
        """Serve each step's batch as micro-batches of ``images`` (which divides it)."""
        self.micro_batch = images

    def steps(self) -> Iterator[Iterable[tuple[torch.Tensor, torch.Tensor]]]:
        """The host micro-batches ``(images, labels)`` of each optimizer step (consume one
        step before the next): here each batch split after it is made (in memory, nothing is
        gained by making it smaller)."""
        for x, y in self:
            m = self.micro_batch
            yield list(zip(x.split(m), y.split(m))) if m and m < len(y) else [(x, y)]

    def to_device(self, x: torch.Tensor, y: torch.Tensor, device: torch.device
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """Move a batch (non-blocking; pinned where the loader pins), then normalise it on
        ``device``: ``(x - 255 mean) / (255 std)`` per channel."""
        if device not in self._stats:
            self._stats[device] = (self.mean.to(device), self.inv_std.to(device))
        mean, inv_std = self._stats[device]
        x = (x.to(device, non_blocking=True).float() - mean) * inv_std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y.to(device, non_blocking=True)

"""The data layer's vocabulary as plain data (no torch: the command line's ``--help`` reads
it): the data sets a preset can name, their channel statistics, and what loaders take from
a training recipe (``LoaderOptions``)."""

from __future__ import annotations

from dataclasses import dataclass

TRAIN_SIZES = {"fashion-mnist": 60000, "cifar10": 50000, "cifar100": 50000, "synthetic": 512}
"""Training images of the in-memory data sets (what ``train_subset=None`` means)."""

DATASETS = ("fashion-mnist", "cifar10", "cifar100", "imagefolder", "synthetic")
"""Data sets a preset can name."""
# Per-channel mean/std of the raw [0, 1] pixels (train split), used for normalisation.
STATS = {
    "fashion-mnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
    "imagefolder": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),  # ImageNet's
    "synthetic": ((0.5,), (0.25,)),
}


@dataclass(frozen=True)
class LoaderOptions:
    """What the loaders take from a training recipe (the data layer reads no recipe:
    ``Recipe.loader_options`` makes these). Runs whose ``DataSpec`` and options are equal
    share one loaded data set. Defaults: the paper recipe's."""

    batch_size: int = 4096
    eval_batch_size: int = 1024
    seed: int = 0
    """Shuffling and per-batch augmentation of in-memory data; per-image seeds of folders."""
    crop_padding: int = 0
    flip: bool = True
    channels_last: bool = True
    auto_augment: str = "rand-m9-mstd0.5-inc1"
    color_jitter: float = 0.4
    train_interpolation: str = "bicubic"
    crop_pct: float = 0.875


@dataclass(frozen=True)
class DataSpec:
    """What a run trains and evaluates on (the location, ``data_dir``, is not part of it;
    its hashed form is ``run.identity.data_dict``)."""

    dataset: str
    resolution: int
    channels: int
    train_subset: int | None = None
    eval_resolution: int | None = None
    """Evaluate at this resolution instead (a budget schedule trains smaller: ``a3``)."""

    @property
    def test_resolution(self) -> int:
        return self.eval_resolution or self.resolution

"""What a run trains and evaluates on (``DataSpec``) and the loaders that serve it
(``load_data``, configured by ``catalog.LoaderOptions``): tensors in memory
(``datasets.TensorLoader``) or image folders read by workers (``folders.FolderLoader``),
both behind ``batch_loader.BatchLoader``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from . import datasets, folders
from .catalog import DataSpec, LoaderOptions  # noqa: F401 (DataSpec: its callers' name)
from .batch_loader import BatchLoader


@dataclass
class LoadedData:
    """Loaders for one DataSpec, shared by all runs of a chain."""

    spec: DataSpec
    """What the loaders serve (resolution, channels): read from here, not from a loader."""
    train: BatchLoader
    test: BatchLoader
    num_classes: int
    train_size: int
    source: str = ""
    """Where the data were read from (recorded with every run)."""


def load_data(spec: DataSpec, data_dir: str | None, options: LoaderOptions,
              workers: int | None = None) -> LoadedData:
    """Build train/test loaders for ``spec``.

    In-memory data sets are decoded once and batched from tensors; image folders are read
    by ``workers`` DataLoader processes per loader (default: ``default_workers``).
    """
    if workers is None:
        workers = default_workers()
    o = options
    if spec.dataset == "imagefolder":
        train_set = folders.image_folder(data_dir, "train", spec.resolution, True, o)
        test_set = folders.image_folder(data_dir, "test", spec.test_resolution, False, o)
        mean, std = datasets.STATS["imagefolder"]
        if test_set.classes != train_set.classes:
            # ImageFolder numbers classes by their sorted names in each folder: other names
            # in val/ would give its images other labels than train/'s
            only_val = sorted(set(test_set.classes) - set(train_set.classes))
            only_train = sorted(set(train_set.classes) - set(test_set.classes))
            raise UserError(f"imagefolder: val/ and train/ hold different classes (only in "
                            f"val/: {', '.join(only_val[:5]) or '-'}; only in train/: "
                            f"{', '.join(only_train[:5]) or '-'}); allowed: the same class "
                            "folders in both")
        if spec.channels != 3:
            raise UserError(f"imagefolder: the images are read as RGB (3 channels) but the "
                            f"preset asks for channels={spec.channels}; add --set channels=3")
        return LoadedData(
            spec, folders.FolderLoader(train_set, mean, std, True, o, workers),
            folders.FolderLoader(test_set, mean, std, False, o, workers),
            len(train_set.classes), len(train_set), str(Path(data_dir).resolve()))
    full = datasets.load(spec.dataset, "train", data_dir)
    check_subset(spec, len(full.labels))
    train = datasets.subset(full, spec.train_subset)
    test = datasets.load(spec.dataset, "test", data_dir)
    mean, std = datasets.STATS[spec.dataset]
    loaders = [datasets.TensorLoader(datasets.prepare(part.images, resolution, spec.channels),
                                     part.labels, mean, std, is_train, o)
               for part, is_train, resolution in ((train, True, spec.resolution),
                                                  (test, False, spec.test_resolution))]
    return LoadedData(spec, loaders[0], loaders[1], train.num_classes, len(train), train.source)


def default_workers() -> int:
    """Loader workers per process: the cores this process may use (its CPU affinity, which
    SLURM's --cpus-per-task sets) shared by the processes on this machine (torchrun's
    LOCAL_WORLD_SIZE), at most 8 and at least 1."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    return max(1, min(8, cores // max(local, 1)))


def check_data_available(spec: DataSpec, data_dir: str | None) -> None:
    """Fail early, before any training, when the data of ``spec`` cannot be found."""
    datasets.check_data_dir(data_dir)
    if spec.dataset == "imagefolder":  # both splits: --plan and run refuse the same folders
        folders.image_folder(data_dir, "train", spec.resolution, train=True)
        folders.image_folder(data_dir, "val", spec.resolution, train=False)
        return
    if spec.dataset != "synthetic":
        datasets.load(spec.dataset, "test", data_dir)
    if spec.train_subset is not None:  # a subset larger than the data set: say so now
        check_subset(spec, len(datasets.load(spec.dataset, "train", data_dir).labels))


def check_subset(spec: DataSpec, available: int) -> None:
    """One ``UserError`` line if ``spec.train_subset`` asks for more images than there are."""
    if spec.train_subset is not None and spec.train_subset > available:
        raise UserError(f"preset.train_subset={spec.train_subset} is more than the "
                        f"{available} training images of {spec.dataset}; allowed: at "
                        f"most {available}, or null (all)")

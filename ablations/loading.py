"""What a run trains and evaluates on (``DataSpec``, part of its hash) and the loaders that
serve it: tensors in memory (``data``) or image folders read by workers (``folders``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import data as datasets
from . import folders
from .errors import UserError
from .recipe import Recipe


LOADER_FIELDS = ("batch_size", "crop_padding", "flip", "channels_last", "auto_augment",
                 "color_jitter", "train_interpolation", "crop_pct")
"""The recipe fields ``load_data`` reads: runs that agree on them share loaded data."""


def loader_key(spec: "DataSpec", recipe: Recipe, eval_batch_size: int, seed: int) -> tuple:
    """What makes two runs' loaders the same (``runner`` keeps one loaded data set)."""
    return (spec, eval_batch_size, seed, *(getattr(recipe, f) for f in LOADER_FIELDS))


@dataclass(frozen=True)
class DataSpec:
    """What a run trains and evaluates on (the location, ``data_dir``, is not part of it)."""

    dataset: str
    resolution: int
    channels: int
    train_subset: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for hashing; generated data add their generator's version, so that a
        new generator cannot reuse runs trained on the old images."""
        out = {"dataset": self.dataset, "resolution": self.resolution,
               "channels": self.channels, "train_subset": self.train_subset}
        if self.dataset == "synthetic":
            out["generator"] = datasets.SYNTHETIC_VERSION
        if self.dataset == "imagefolder":
            out["pipeline"] = folders.FOLDER_PIPELINE_VERSION
        return out


@dataclass
class LoadedData:
    """Loaders for one DataSpec, shared by all runs of a chain."""

    spec: DataSpec
    """What the loaders serve (resolution, channels): read from here, not from a loader."""
    train: Any
    test: Any
    num_classes: int
    train_size: int
    source: str = ""
    """Where the data were read from (recorded with every run)."""


def load_data(spec: DataSpec, data_dir: str | None, batch_size: int, eval_batch_size: int,
              seed: int, recipe: Recipe, workers: int | None = None) -> LoadedData:
    """Build train/test loaders for ``spec``.

    In-memory data sets are decoded once and batched from tensors; image folders are read
    by ``workers`` DataLoader processes (default: up to 8, one per core).
    """
    if workers is None:
        workers = min(8, os.cpu_count() or 1)
    if spec.dataset == "imagefolder":
        train_set = folders.image_folder(data_dir, "train", spec.resolution, True, recipe)
        test_set = folders.image_folder(data_dir, "test", spec.resolution, False, recipe)
        mean, std = datasets.STATS["imagefolder"]
        if spec.channels != 3:
            raise UserError(f"imagefolder: the images are read as RGB (3 channels) but the "
                            f"preset asks for channels={spec.channels}; add --set channels=3")
        return LoadedData(
            spec,
            folders.FolderLoader(train_set, batch_size, True, seed, workers, mean, std,
                                  recipe.channels_last),
            folders.FolderLoader(test_set, eval_batch_size, False, seed, workers, mean, std,
                                  recipe.channels_last),
            len(train_set.classes), len(train_set), str(Path(data_dir).resolve()))
    train = datasets.subset(datasets.load(spec.dataset, "train", data_dir), spec.train_subset)
    test = datasets.load(spec.dataset, "test", data_dir)
    mean, std = datasets.STATS[spec.dataset]
    loaders = []
    for part, is_train, bs in ((train, True, batch_size), (test, False, eval_batch_size)):
        images = datasets.prepare(part.images, spec.resolution, spec.channels)
        loaders.append(datasets.TensorLoader(
            images, part.labels, bs, mean, std, train=is_train, seed=seed,
            crop_padding=recipe.crop_padding if is_train else 0,
            flip=recipe.flip and is_train, channels_last=recipe.channels_last,
            auto_augment=recipe.auto_augment if is_train else ""))
    return LoadedData(spec, loaders[0], loaders[1], train.num_classes, len(train), train.source)

"""Image folders (ImageNet, Imagenette, ...): torchvision's ``ImageFolder`` read through the
official ConvNeXt code's timm transform by ``DataLoader`` workers, each image with its own
seed, the batches normalised on the device (``FolderLoader``)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import UserError
from .batch_loader import BatchLoader
from .datasets import seed_host_generators

if TYPE_CHECKING:
    from .catalog import LoaderOptions


# ---------------------------------------------------------------- image folders
# A change to what this pipeline feeds the model bumps run.identity.FOLDER_PIPELINE_VERSION.
class UnreadableImage(UserError):
    """An image of a folder that cannot be decoded (raised in a loader worker)."""


def folder_transform(resolution: int, train: bool, options: "LoaderOptions") -> object:
    """The official ConvNeXt code's transform, built by ``timm.data.create_transform`` with
    ``use_prefetcher=True``: the same crop, flip, RandAugment (colour jitter when it is off)
    and eval resize/crop, ending in a uint8 tensor. Normalising and random erasing, the
    official transform's last two ops, run on the training device (``BatchLoader.to_device``
    and the trainer), per image and before mixing as in the official order. ``options``:
    the recipe's loader fields (``LoaderOptions``)."""
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, create_transform

    if train:
        return create_transform(
            input_size=resolution, is_training=True, color_jitter=options.color_jitter,
            auto_augment=options.auto_augment or None, interpolation=options.train_interpolation,
            hflip=0.5 if options.flip else 0.0, mean=IMAGENET_DEFAULT_MEAN,
            std=IMAGENET_DEFAULT_STD, use_prefetcher=True)
    return create_transform(input_size=resolution, is_training=False, interpolation="bicubic",
                            crop_pct=options.crop_pct, mean=IMAGENET_DEFAULT_MEAN,
                            std=IMAGENET_DEFAULT_STD, use_prefetcher=True)


def image_folder(data_dir: str | None, split: str, resolution: int, train: bool,
                 options: "LoaderOptions | None" = None):
    """torchvision ``ImageFolder`` over ``data_dir/{train,val}`` with ``folder_transform``
    (``options``: the recipe's loader fields; default: the paper recipe's)."""
    from torchvision import datasets

    from .catalog import LoaderOptions

    if not data_dir:
        raise UserError("dataset 'imagefolder' needs --data-dir holding train/ and val/ folders")
    folder = Path(data_dir) / ("train" if split == "train" else "val")
    if not folder.is_dir():
        raise UserError(f"imagefolder: {folder} is not a folder; expected {data_dir}/train and "
                        f"{data_dir}/val with one sub-folder per class")
    tf = folder_transform(resolution, train, options or LoaderOptions())
    try:
        return _scanned_once(datasets.ImageFolder)(str(folder), transform=tf)
    except (FileNotFoundError, RuntimeError) as e:
        raise UserError(f"imagefolder: {folder}: {e}") from None


_SCANS: dict[tuple, list[tuple[str, int]]] = {}
"""Image folders scanned in this process: (folder, classes) -> its (path, class) samples."""


def _scanned_once(image_folder: type) -> type:
    """``image_folder`` (torchvision's ``ImageFolder``) whose file scan is done once per
    folder and process: run's data check and its training read the same 1.28M ImageNet
    file names, so the second scan is a copy of the first, not another walk of the disk."""

    class ScannedOnce(image_folder):
        @staticmethod
        def make_dataset(directory, class_to_idx, extensions=None, is_valid_file=None,
                         allow_empty=False):
            key = (str(Path(directory).resolve()), tuple(sorted(class_to_idx.items())),
                   extensions, is_valid_file, allow_empty)
            if key not in _SCANS:
                _SCANS[key] = image_folder.make_dataset(directory, class_to_idx, extensions,
                                                        is_valid_file, allow_empty)
            return list(_SCANS[key])

    return ScannedOnce


def write_jpeg_folder(root: str | Path, classes: int = 4, per_class: int = 32,
                      size: int = 64, val_per_class: int = 8, seed: int = 0) -> Path:
    """A small ImageFolder of generated JPEGs (``root/{train,val}/class_k/*.jpg``), for
    tests and for measuring the loader where no real folder is at hand: each class a fixed
    colour pattern plus noise, so that it can be learned."""
    from PIL import Image

    root = Path(root)
    g = np.random.default_rng(seed)
    protos = g.integers(0, 256, (classes, 8, 8, 3)).astype(np.float32)
    for split, n in (("train", per_class), ("val", val_per_class)):
        for c in range(classes):
            folder = root / split / f"class_{c}"
            folder.mkdir(parents=True, exist_ok=True)
            base = np.kron(protos[c], np.ones((size // 8 + 1, size // 8 + 1, 1)))[:size, :size]
            for i in range(n):
                img = 0.7 * base + 0.3 * g.integers(0, 256, base.shape)
                Image.fromarray(img.astype(np.uint8)).save(folder / f"{i:05d}.jpg", quality=90)
    return root


class _SeededItems(torch.utils.data.Dataset):
    """Items fetched as (index, epoch): each image's augmentation draws from its own seed,
    a function of (run seed, epoch, index), so that the stream is the same for any number
    of workers, with persistent workers, and after a resume."""

    def __init__(self, dataset, seed: int) -> None:
        self.dataset, self.seed = dataset, seed

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        index, epoch = key
        item_seed = (self.seed * 1_000_003 + epoch) * 10_000_019 + index
        seed_host_generators(item_seed)
        torch.manual_seed(item_seed)  # torchvision's flip, colour jitter
        path, target = self.dataset.samples[index]
        try:
            image = self.dataset.loader(path)
        except (OSError, ValueError, SyntaxError) as e:  # PIL's ways of saying "not an image"
            raise UnreadableImage(f"imagefolder: cannot read {path} ({type(e).__name__}); "
                                  f"allowed: image files PIL can decode") from None
        return self.dataset.transform(image), target


class _EpochSampler(torch.utils.data.Sampler):
    """(index, epoch) pairs: a seeded permutation per epoch (training) or the plain order,
    this rank's share of it (every world-th item)."""

    def __init__(self, n: int, shuffle: bool, seed: int) -> None:
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.epoch, self.rank, self.world = 0, 0, 1
        self.multiple = 1
        """Serve a multiple of this many items (training: whole steps; the rest is dropped)."""

    def __len__(self) -> int:
        # training: the same count on every rank (n // world), or the ranks would run
        # different numbers of steps and one would wait in an all-reduce for ever
        n = self.n // self.world if self.shuffle else len(range(self.rank, self.n, self.world))
        return n // self.multiple * self.multiple

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(self.n, generator=g) if self.shuffle else torch.arange(self.n)
        mine = order[self.rank::self.world][:len(self)]
        return iter([(int(i), self.epoch) for i in mine])


class FolderLoader(BatchLoader):
    """Batches of uint8 images from an ImageFolder: decoded and augmented per image in
    persistent DataLoader workers, pinned for the GPU, normalised on the device
    (``BatchLoader.to_device``).

    Training, the workers make micro-batches (``set_micro_batch``), never a whole step's
    batch, so host memory in flight is bounded by ``host_bytes_in_flight``; ``steps`` groups
    consecutive micro-batches into optimizer steps. Each image's augmentation is seeded by
    its index, so the images of a step are the same for any micro-batch size."""

    PREFETCH = 4
    """Batches each worker prepares ahead."""

    def __init__(self, dataset: Any, mean: tuple[float, ...], std: tuple[float, ...],
                 train: bool, options: "LoaderOptions", workers: int,
                 pin_memory: bool | None = None) -> None:
        super().__init__(tuple(mean), tuple(std), len(mean), options.channels_last)
        self.dataset, self.train, self.workers = dataset, train, workers
        self.batch_size = options.batch_size if train else options.eval_batch_size
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else pin_memory
        self.sampler = _EpochSampler(len(dataset), train, options.seed)
        self.sampler.multiple = self.batch_size if train else 1
        self.items = _SeededItems(dataset, options.seed)
        self._loader = None

    def shard(self, rank: int, world: int) -> None:
        """Serve this rank's share of each epoch, in batches of batch_size / world."""
        if self.train and self.batch_size % world:
            raise UserError(f"batch_size={self.batch_size} does not split over {world} "
                            f"processes; allowed: a multiple of {world}")
        self.sampler.rank, self.sampler.world = rank, world
        self.sampler.multiple = self._share() if self.train else 1
        self._loader = None

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order and augmentation the next pass serves."""
        self.sampler.epoch = epoch

    def set_micro_batch(self, images: int | None) -> None:
        """Workers make micro-batches of ``images`` (a divisor of a step's share)."""
        if images is not None and self.train and self._share() % images:
            raise UserError(f"micro-batch {images} does not divide this process's share "
                            f"{self._share()}; allowed: a divisor of {self._share()}")
        super().set_micro_batch(images)
        self._loader = None  # the workers batch anew

    def _share(self) -> int:
        return self.batch_size // self.sampler.world

    def _batch(self) -> int:
        """Images per DataLoader batch: a micro-batch (training), an eval batch (test)."""
        if not self.train:
            return self.batch_size
        return self.micro_batch or self._share()

    def __len__(self) -> int:
        """Optimizer steps per epoch (training), batches (test)."""
        n = len(self.sampler)
        return n // self._share() if self.train else -(-n // self._batch())

    def item_indices(self) -> torch.Tensor:
        """Test order: every world-th image from this rank's (the sampler's plain order)."""
        return torch.arange(self.sampler.rank, self.sampler.n, self.sampler.world)

    def host_bytes_in_flight(self, channels: int, resolution: int) -> int:
        """The most image bytes the workers hold ahead of training: workers x prefetch x
        images per batch x C x H x W (uint8), plus one pinned batch (``PREFETCH`` = 4)."""
        per_batch = self._batch() * channels * resolution * resolution
        return (max(self.workers, 1) * self.PREFETCH + 1) * per_batch

    def steps(self):
        """Per optimizer step, an iterator over its ``share / micro_batch`` consecutive
        micro-batches, read lazily (never a whole share in host memory); consume each before
        asking for the next. An incomplete last step is dropped, as ``drop_last`` does."""
        group = self._share() // self._batch()
        it = iter(self)  # the sampler serves whole steps only
        for _ in range(len(self)):
            yield itertools.islice(it, group)

    def loader(self) -> torch.utils.data.DataLoader:
        """The DataLoader, made once: its workers persist across epochs."""
        if self._loader is None:
            extra = ({"persistent_workers": True, "prefetch_factor": self.PREFETCH}
                     if self.workers > 0 else {})
            self._loader = torch.utils.data.DataLoader(
                self.items, batch_size=self._batch(), sampler=self.sampler,
                num_workers=self.workers, drop_last=self.train, pin_memory=self.pin_memory,
                **extra)
        return self._loader

    def __iter__(self):
        try:
            yield from self.loader()
        except UnreadableImage as e:  # re-raised from a worker with its traceback: one line
            line = str(e).strip().splitlines()[-1]
            raise UserError(line.split("UnreadableImage: ", 1)[-1]) from None

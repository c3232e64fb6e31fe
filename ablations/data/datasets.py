"""Named datasets behind one interface.

Small data sets (Fashion-MNIST, CIFAR, synthetic) are decoded once into uint8 tensors in
memory and served by ``TensorLoader``, which batches, resizes and augments whole batches
(no per-image Python work). Image folders (ImageNet, Imagenette, ...) are ``folders``'.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import UserError
from .batch_loader import BatchLoader
from .catalog import DATASETS, STATS, LoaderOptions  # noqa: F401 (STATS: read here by callers)

FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
_FMNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
@dataclass
class ImageSet:
    """A decoded split: uint8 images (N, C, H, W) and int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor
    num_classes: int
    name: str
    source: str = ""
    """Where the split was read from (a folder), or how it was made."""

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------- Fashion-MNIST (idx)
def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file (optionally .gz) as a numpy array, checking its header."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise UserError(f"{path}: not an idx file (bad magic number)")
    dtype_code, ndim = data[2], data[3]
    if dtype_code != 0x08:
        raise UserError(f"{path}: idx element type {dtype_code:#x} unsupported; allowed: 0x08")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise UserError(f"{path}: truncated idx file ({body.size} of {int(np.prod(dims))} values)")
    return body.reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def fashion_mnist_dirs(data_dir: str | None) -> list[Path]:
    """Folders searched for the idx files, in order: inside ``data_dir`` when the user
    named one (never anywhere else), else Debian's package folder."""
    if data_dir:
        root = Path(data_dir)
        return [root, root / "fashion-mnist", root / "FashionMNIST" / "raw"]
    return [Path(FASHION_MNIST_SYSTEM_DIR)]


def check_data_dir(data_dir: str | None) -> None:
    """A folder the user named must exist (nothing falls back to another location)."""
    if data_dir and not Path(data_dir).is_dir():
        raise UserError(f"--data-dir {data_dir}: no such folder; allowed: an existing folder "
                        "holding the data set (or no --data-dir for the default locations)")


def load_fashion_mnist(split: str, data_dir: str | None = None, download: bool = True) -> ImageSet:
    """Real Fashion-MNIST from idx(.gz) files: ``data_dir``, Debian's package folder, or
    torchvision's ``FashionMNIST/raw`` layout; downloaded by torchvision if absent and the
    machine has internet."""
    check_data_dir(data_dir)
    images_stem, labels_stem = _FMNIST_FILES[split]
    for folder in fashion_mnist_dirs(data_dir):
        img, lab = _find_idx(folder, images_stem), _find_idx(folder, labels_stem)
        if img and lab:
            x, y = read_idx(img), read_idx(lab)
            if len(x) != len(y):
                raise UserError(f"{folder}: {len(x)} images but {len(y)} labels")
            return ImageSet(torch.from_numpy(x.copy()).unsqueeze(1),
                            torch.from_numpy(y.astype(np.int64)), 10, "fashion-mnist",
                            str(folder.resolve()))
    if download:
        root = data_dir or os.path.join(os.path.expanduser("~"), ".cache", "convnext-ablations")
        try:
            from torchvision.datasets import FashionMNIST

            FashionMNIST(root, train=split == "train", download=True)
            return load_fashion_mnist(split, root, download=False)
        except Exception as e:  # no internet, or a mirror down: say how to get the data
            reason = f" (download failed: {type(e).__name__}: {e})"
    else:
        reason = ""
    raise UserError(
        "Fashion-MNIST not found in " + ", ".join(str(d) for d in fashion_mnist_dirs(data_dir))
        + reason + ". Get it with `apt-get install dataset-fashion-mnist` (Debian), or put "
        "the four idx(.gz) files in --data-dir, or run once on a machine with internet."
    )


# ---------------------------------------------------------------- CIFAR (python pickles)
def load_cifar(name: str, split: str, data_dir: str | None, download: bool = True) -> ImageSet:
    """CIFAR-10/100 in torchvision's on-disk format (``cifar-10-batches-py`` etc.)."""
    folder_name = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
    check_data_dir(data_dir)
    root = Path(data_dir or ".")
    folder = root / folder_name if (root / folder_name).is_dir() else root
    if name == "cifar10":
        files = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
        label_key, classes = b"labels", 10
    else:
        files = ["train"] if split == "train" else ["test"]
        label_key, classes = b"fine_labels", 100
    if not all((folder / f).is_file() for f in files):
        if download and data_dir:
            try:
                from torchvision import datasets

                cls = datasets.CIFAR10 if name == "cifar10" else datasets.CIFAR100
                cls(str(root), train=split == "train", download=True)
                return load_cifar(name, split, data_dir, download=False)
            except Exception as e:
                raise UserError(f"{name}: not found under {root} and download failed "
                                f"({type(e).__name__}: {e})") from None
        raise UserError(f"{name}: files {files} not found under {folder}; pass --data-dir "
                        f"holding {folder_name}/ (torchvision's format)")
    xs, ys = [], []
    for f in files:
        with open(folder / f, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")  # torchvision's own format is a pickle
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch[label_key], dtype=np.int64))
    return ImageSet(torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys)),
                    classes, name, str(folder.resolve()))


# ---------------------------------------------------------------- synthetic


def make_synthetic(split: str, n: int = 512, size: int = 32, channels: int = 1,
                   num_classes: int = 10, seed: int = 0) -> ImageSet:
    """Seeded, learnable images: each class is a fixed random pattern plus noise; 10
    classes, so that top-5 accuracy can be below 100%. A change to what this generates
    bumps ``run.identity.SYNTHETIC_VERSION``."""
    g = torch.Generator().manual_seed(seed)
    protos = torch.rand(num_classes, channels, size, size, generator=g)
    g2 = torch.Generator().manual_seed(seed + (1 if split == "train" else 2))
    labels = torch.randint(0, num_classes, (n,), generator=g2)
    noise = torch.rand(n, channels, size, size, generator=g2)
    images = (0.6 * protos[labels] + 0.4 * noise).mul(255).round().to(torch.uint8)
    return ImageSet(images, labels, num_classes, "synthetic", f"generated (seed {seed})")


def seed_host_generators(seed: int) -> None:
    """Seed Python's and NumPy's global generators, which timm's augmentations draw from
    (crop and magnitudes from ``random``, RandAugment's ops from NumPy, erasing and Mixup
    likewise)."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)


def load(name: str, split: str, data_dir: str | None = None, **synthetic_kwargs) -> ImageSet:
    """Decoded split ``split`` ('train' or 'test') of the in-memory dataset ``name``."""
    if split not in ("train", "test"):
        raise UserError(f"split {split!r} is invalid; allowed: train, test")
    if name in ("fashion-mnist", "cifar10", "cifar100"):
        return _decoded(name, split, data_dir)
    if name == "synthetic":
        return make_synthetic(split, **synthetic_kwargs)
    if name == "imagefolder":
        raise UserError("imagefolder is streamed from disk, not held in memory; load it "
                        "with ablations.data.load_data")
    raise UserError(f"dataset {name!r} is unknown; allowed: {', '.join(DATASETS)}")


@functools.lru_cache(maxsize=4)
def _decoded(name: str, split: str, data_dir: str | None) -> ImageSet:
    # Decoded once per process: run checks that the data is there (decoding it) before
    # anything starts, then trains from it; the second ask is this cache, not the disk.
    if name == "fashion-mnist":
        return load_fashion_mnist(split, data_dir)
    return load_cifar(name, split, data_dir)


# ---------------------------------------------------------------- batching
def prepare(images: torch.Tensor, resolution: int, channels: int) -> torch.Tensor:
    """Resize uint8 images to ``resolution`` once and adapt their channel count.

    Grey images are repeated to 3 channels (the 3-channel model stays the reference
    architecture); colour to 1 channel by averaging.
    """
    c = images.shape[1]
    if c != channels:
        if c == 1 and channels == 3:
            images = images.expand(-1, 3, -1, -1)
        elif c == 3 and channels == 1:
            images = images.float().mean(1, keepdim=True).round().to(torch.uint8)
        else:
            raise UserError(f"channels={channels} cannot be made from {c}-channel images; "
                            f"allowed: 1 or 3")
    if images.shape[-1] != resolution or images.shape[-2] != resolution:
        out = []
        for chunk in images.split(4096):
            out.append(F.interpolate(chunk.float(), size=(resolution, resolution),
                                     mode="bilinear", antialias=True, align_corners=False)
                       .round().clamp(0, 255).to(torch.uint8))
        images = torch.cat(out)
    return images.contiguous()


def rand_augment(policy: str, size: int, mean: tuple[float, ...]):
    """timm's RandAugment for ``policy`` with the hyper-parameters ``create_transform`` gives
    it (translation 45% of the image, fill with the mean colour, bicubic)."""
    from timm.data.auto_augment import rand_augment_transform

    from timm.data.transforms import str_to_pil_interp

    fill = tuple(min(255, round(255 * m)) for m in mean)
    hparams = {"translate_const": int(size * 0.45), "img_mean": fill if len(fill) == 3 else fill[0],
               "interpolation": str_to_pil_interp("bicubic")}
    return rand_augment_transform(policy, hparams)


class TensorLoader(BatchLoader):
    """Batches of float images (0-255) from uint8 tensors in memory, normalised on the
    device (``BatchLoader.to_device``); ``options`` give the batch size (training or
    evaluation), seed and, for training, the augmentation.

    Training batches are shuffled with a seeded generator (one permutation per epoch) and
    augmented per batch: random crop with padding and horizontal flip, both per sample,
    vectorised.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, mean: tuple[float, ...],
                 std: tuple[float, ...], train: bool, options: LoaderOptions,
                 drop_last: bool | None = None) -> None:
        super().__init__(mean, std, images.shape[1], options.channels_last)
        self.images, self.labels, self.train = images, labels, train
        self.batch_size = options.batch_size if train else options.eval_batch_size
        self.rand_augment = (rand_augment(options.auto_augment, images.shape[-1],
                                          self.channel_mean)
                             if options.auto_augment and train else None)
        self.seed = options.seed
        self.epoch = 0
        self.crop_padding = options.crop_padding if train else 0
        self.flip = options.flip and train
        self.drop_last = train if drop_last is None else drop_last
        self.rank, self.world = 0, 1

    def shard(self, rank: int, world: int) -> None:
        """Serve only this rank's part of every batch.

        Training: the rank's contiguous slice of each global batch, shuffled and augmented
        exactly as in one process, so that N ranks together see the same batches. Test: a
        strided share of the examples (every one counted once over all ranks).
        """
        if self.train and self.batch_size % world:
            raise UserError(f"batch_size={self.batch_size} does not split over {world} "
                             f"processes; allowed: a multiple of {world}")
        self.rank, self.world = rank, world

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def item_indices(self) -> torch.Tensor:
        """Test order: each batch's rank-th, (rank + world)-th, ... items (see ``shard``)."""
        n, b = len(self.labels), self.batch_size
        parts = [torch.arange(i * b, min(n, (i + 1) * b))[self.rank::self.world]
                 for i in range(len(self))]
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.long)

    def set_epoch(self, epoch: int) -> None:
        """Choose the shuffling and augmentation randomness of ``epoch`` (for resumes)."""
        self.epoch = epoch

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(n, generator=g) if self.train else torch.arange(n)
        for i in range(len(self)):
            idx = order[i * self.batch_size:(i + 1) * self.batch_size]
            x = self.images[idx].float()
            if self.train:
                x = self._augment(x, g)
                if self.rand_augment is not None:
                    x = self._rand_augment(x, g)
            y = self.labels[idx]
            if self.world > 1:
                if self.train:
                    part = slice(self.rank * len(idx) // self.world,
                                 (self.rank + 1) * len(idx) // self.world)
                else:
                    part = slice(self.rank, None, self.world)
                x, y = x[part], y[part]
            yield x, y

    def _rand_augment(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        """timm's RandAugment, image by image (PIL), on the cropped and flipped batch."""
        from PIL import Image

        seed_host_generators(int(torch.randint(2**62, (), generator=g)))
        out = []
        for img in x.round().to(torch.uint8):
            hwc = img.permute(1, 2, 0).numpy()
            pil = Image.fromarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc)
            arr = np.asarray(self.rand_augment(pil))
            out.append(torch.from_numpy(arr.reshape(*arr.shape[:2], -1).copy()).permute(2, 0, 1))
        return torch.stack(out).float()

    def _augment(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        n, _, h, w = x.shape
        p = self.crop_padding
        if p:
            padded = F.pad(x, (p, p, p, p))
            dy = torch.randint(0, 2 * p + 1, (n,), generator=g)
            dx = torch.randint(0, 2 * p + 1, (n,), generator=g)
            rows = (dy.view(n, 1) + torch.arange(h)).view(n, 1, h, 1)
            cols = (dx.view(n, 1) + torch.arange(w)).view(n, 1, 1, w)
            batch = torch.arange(n).view(n, 1, 1, 1)
            chans = torch.arange(x.shape[1]).view(1, -1, 1, 1)
            x = padded[batch, chans, rows, cols]
        if self.flip:
            flip = torch.rand(n, generator=g) < 0.5
            x = torch.where(flip.view(n, 1, 1, 1), x.flip(-1), x)
        return x


def subset(data: ImageSet, size: int | None, seed: int = 0) -> ImageSet:
    """A fixed, class-balanced random subset of ``size`` examples (all if None)."""
    if size is None or size >= len(data):
        return data
    g = torch.Generator().manual_seed(seed)
    per_class = size // data.num_classes
    keep = []
    for c in range(data.num_classes):
        idx = (data.labels == c).nonzero().flatten()
        keep.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    keep_t = torch.cat(keep).sort().values
    return ImageSet(data.images[keep_t], data.labels[keep_t], data.num_classes, data.name,
                    data.source)

"""Each dataset reader on small files generated in its real on-disk format."""

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from ablations.data import LoaderOptions
from ablations.data import datasets as data
from ablations.data import folders
from ablations.errors import UserError


def write_idx(path, array, compress):
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(blob)
    else:
        path.write_bytes(blob)


@pytest.fixture
def fmnist_dir(tmp_path):
    rng = np.random.default_rng(0)
    for split, n, compress in (("train", 30, True), ("t10k", 20, False)):
        suffix = ".gz" if compress else ""
        write_idx(tmp_path / f"{split}-images-idx3-ubyte{suffix}",
                  rng.integers(0, 256, (n, 28, 28)), compress)
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte{suffix}", np.arange(n) % 10, compress)
    return tmp_path


def test_fashion_mnist_idx_gz_and_plain(fmnist_dir):
    train = data.load("fashion-mnist", "train", str(fmnist_dir))
    test = data.load("fashion-mnist", "test", str(fmnist_dir))
    assert train.images.shape == (30, 1, 28, 28) and train.images.dtype == torch.uint8
    assert test.labels.tolist() == [i % 10 for i in range(20)]
    assert train.num_classes == 10


def test_fashion_mnist_torchvision_layout(fmnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("tv")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for f in fmnist_dir.iterdir():
        (raw / f.name).write_bytes(f.read_bytes())
    assert len(data.load("fashion-mnist", "train", str(root))) == 30


def test_truncated_idx_is_a_clear_error(tmp_path):
    write_idx(tmp_path / "x", np.zeros((4, 28, 28)), False)
    (tmp_path / "y").write_bytes((tmp_path / "x").read_bytes()[:100])
    with pytest.raises(UserError, match="truncated"):
        data.read_idx(tmp_path / "y")


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "FASHION_MNIST_SYSTEM_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(data, "fashion_mnist_dirs", lambda d: [tmp_path / "none"])
    empty = tmp_path / "empty"
    empty.mkdir()  # a named folder that exists but holds no idx files
    with pytest.raises(UserError, match="apt-get install dataset-fashion-mnist"):
        data.load_fashion_mnist("train", str(empty), download=False)


def test_cifar10_pickles(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8),
                 b"labels": [0, 1, 2, 9]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    train = data.load("cifar10", "train", str(tmp_path))
    assert train.images.shape == (20, 3, 32, 32)
    assert data.load("cifar10", "test", str(tmp_path)).labels.tolist() == [0, 1, 2, 9]


def test_cifar100_pickles(tmp_path):
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    for name in ("train", "test"):
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": np.zeros((3, 3072), np.uint8), b"fine_labels": [5, 50, 99]}, f)
    assert data.load("cifar100", "train", str(tmp_path)).num_classes == 100


def test_missing_cifar_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="cifar10"):
        data.load_cifar("cifar10", "train", str(tmp_path), download=False)


def test_imagefolder_reads_pngs(tmp_path):
    from PIL import Image

    for split in ("train", "val"):
        for cls in ("cat", "dog"):
            d = tmp_path / split / cls
            d.mkdir(parents=True)
            for i in range(2):
                Image.fromarray(np.full((40, 50, 3), 60 * i, np.uint8)).save(d / f"{i}.png")
    ds = folders.image_folder(str(tmp_path), "train", 32, train=True)
    x, y = ds[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.uint8
    assert ds.classes == ["cat", "dog"]
    val = folders.image_folder(str(tmp_path), "test", 32, train=False)
    assert len(val) == 4


def test_imagefolder_loaders_carry_their_spec(tmp_path):
    from PIL import Image

    from ablations.train.recipe import RECIPES
    from ablations.data.loading import DataSpec, load_data

    for split in ("train", "val"):
        for cls in ("cat", "dog", "emu"):
            (tmp_path / split / cls).mkdir(parents=True)
            Image.fromarray(np.full((40, 50, 3), 9, np.uint8)).save(tmp_path / split / cls / "a.png")
    spec = DataSpec("imagefolder", 48, 3)
    options = RECIPES["convnext"].replace(batch_size=2).loader_options(3, 0)
    loaded = load_data(spec, str(tmp_path), options, workers=0)
    assert loaded.spec == spec and loaded.num_classes == 3 and loaded.train_size == 3
    x, y = next(iter(loaded.test))
    assert x.shape == (3, 3, 48, 48)  # what the spec says is what the loader serves
    with pytest.raises(UserError, match="channels=1"):
        load_data(DataSpec("imagefolder", 48, 1), str(tmp_path), options)


def test_imagefolder_needs_data_dir(tmp_path):
    with pytest.raises(UserError, match="train/"):
        folders.image_folder(None, "train", 32, True)
    with pytest.raises(UserError, match="not a folder"):
        folders.image_folder(str(tmp_path), "train", 32, True)


def test_unknown_dataset_lists_allowed():
    with pytest.raises(UserError, match="allowed: fashion-mnist"):
        data.load("mnist", "train")


def test_synthetic_is_seeded_and_learnable():
    a = data.make_synthetic("train", n=64)
    b = data.make_synthetic("train", n=64)
    assert torch.equal(a.images, b.images)
    # nearest class-prototype classification is near perfect: the task is learnable
    assert a.num_classes >= 6  # top-5 accuracy is not 100% by construction
    means = torch.stack([a.images[a.labels == c].float().mean(0)
                         for c in range(a.num_classes)])
    t = data.make_synthetic("test", n=64)
    dist = ((t.images.float().unsqueeze(1) - means.unsqueeze(0)) ** 2).flatten(2).sum(-1)
    assert (dist.argmin(1) == t.labels).float().mean() > 0.9


def test_prepare_resizes_and_repeats_grey():
    x = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    y = data.prepare(x, 32, 3)
    assert y.shape == (5, 3, 32, 32) and torch.equal(y[:, 0], y[:, 2])
    with pytest.raises(UserError, match="channels"):
        data.prepare(x, 32, 2)


def test_tensor_loader_batches_are_normalised_and_seeded():
    imgs = torch.randint(0, 256, (50, 1, 8, 8), dtype=torch.uint8)
    labels = torch.arange(50)
    options = LoaderOptions(16, 16, seed=3, crop_padding=1, flip=True, channels_last=False,
                            auto_augment="")
    mk = lambda: data.TensorLoader(imgs, labels, (0.5,), (0.25,), True, options)
    a, b = mk(), mk()
    assert len(a) == 3
    xa, ya = next(iter(a))
    xb, yb = next(iter(b))
    assert torch.equal(xa, xb) and torch.equal(ya, yb)
    b.set_epoch(1)
    assert not torch.equal(next(iter(b))[1], ya)
    ev = data.TensorLoader(imgs, labels, (0.5,), (0.25,), False, options)
    assert len(ev) == 4
    raw, _ = next(iter(ev))
    assert torch.equal(raw, imgs[:16].float())  # 0-255 on the host
    x, _ = ev.to_device(raw, labels[:16], torch.device("cpu"))  # normalised on the device
    expected = (imgs[:16].float() / 255 - 0.5) / 0.25
    assert torch.allclose(x, expected, atol=1e-5)


def test_subset_is_class_balanced():
    s = data.make_synthetic("train", n=400, num_classes=4)
    sub = data.subset(s, 40)
    assert len(sub) == 40
    assert torch.bincount(sub.labels).tolist() == [10, 10, 10, 10]


def test_the_synthetic_generator_version_is_part_of_the_hash(monkeypatch):
    from ablations.data.loading import DataSpec
    from ablations.run import identity

    before = identity.data_dict(DataSpec("synthetic", 32, 1))
    real = identity.data_dict(DataSpec("fashion-mnist", 32, 3))
    monkeypatch.setattr(identity, "SYNTHETIC_VERSION", identity.SYNTHETIC_VERSION + 1)
    assert identity.data_dict(DataSpec("synthetic", 32, 1)) != before  # new images: no reuse
    assert identity.data_dict(DataSpec("fashion-mnist", 32, 3)) == real  # real data keep theirs


def test_loader_options_carry_every_recipe_field_of_their_name():
    # Runs share loaded data when their DataSpec and LoaderOptions agree; an option that
    # did not come from the recipe field of its name would let a run train on another's
    # loaders. Every option differs from its default here, so a missed field shows.
    import dataclasses

    from ablations.data.loading import LoaderOptions
    from ablations.train.recipe import Recipe

    r = Recipe(batch_size=8, crop_padding=2, flip=False, channels_last=False,
               auto_augment="rand-m5-mstd0.5", color_jitter=0.2,
               train_interpolation="bilinear", crop_pct=0.9)
    options = r.loader_options(eval_batch_size=16, seed=3)
    assert (options.eval_batch_size, options.seed) == (16, 3)
    for f in dataclasses.fields(LoaderOptions):
        if f.name not in ("eval_batch_size", "seed"):
            assert getattr(options, f.name) == getattr(r, f.name), f.name
            assert getattr(options, f.name) != f.default, f.name
    # the defaults are the paper recipe's (folders read them without a recipe)
    paper = Recipe().loader_options(LoaderOptions().eval_batch_size, 0)
    assert paper == LoaderOptions()


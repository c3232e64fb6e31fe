"""Does the loader or the model limit training? ``python -m ablations bench-data``.

Three measurements on one image folder, with the run preset's recipe (the paper's by
default: timm's transform in the workers, erasing and mixing on the device):

- ``loader``: images/s the ``FolderLoader`` delivers for each number of workers, nothing
  else running (the first batch, the workers' start, is not timed);
- ``model``: images/s of the training step alone (erasing, mixing, forward, backward,
  optimizer) on a batch already on the device: what the loader has to keep up with;
- ``train``: the two together, as ``train_run`` runs them, with the training process's own
  time per step split into waiting for the loader and host (main-thread CPU) time.

The verdict names the slower of loader and model at the largest worker count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from models.roadmap import Step

from ..system.machine import device_label, sync
from ..train.recipe import Recipe, RunPreset
from ..run.runner import plan
from ..data.loading import DataSpec, load_data
from ..train.loop import make_trainer, train_step


@dataclass(frozen=True)
class DataBench:
    """What to measure: a step at a preset's scale, a batch size, worker counts."""

    step: Step
    preset: RunPreset
    data_dir: str
    batch_size: int = 64
    workers: tuple[int, ...] = (1, 2)
    batches: int = 20
    device: str = "cpu"
    recipe_changes: tuple[tuple[str, Any], ...] = ()
    progress: bool = True


def _planned(cfg: DataBench):
    preset = cfg.preset.replace(batch_size=cfg.batch_size, micro_batch=None)
    # One timed batch of batch_size: where the preset's mix_batch does not divide it, Mixup
    # draws once per batch instead (the time is the same).
    overrides = {name: {k: v for k, v in fields.items()
                        if not (k == "mix_batch" and v and cfg.batch_size % v)}
                 for name, fields in preset.recipe_overrides.items()}
    return plan("bench-data", [cfg.step], preset.replace(recipe_overrides=overrides), [0],
                dict(cfg.recipe_changes))[0]


def _load(cfg: DataBench, recipe: Recipe, workers: int):
    spec = DataSpec("imagefolder", cfg.preset.resolution, 3)
    return load_data(spec, cfg.data_dir, recipe.loader_options(cfg.batch_size, 0),
                     workers=workers)


def _endless(loader):
    """Batches epoch after epoch (a measurement may be longer than one epoch)."""
    epoch = 0
    while True:
        loader.set_epoch(epoch)
        yield from loader
        epoch += 1


def loader_rate(cfg: DataBench, recipe: Recipe, workers: int) -> dict[str, float]:
    """Images/s of the training loader with ``workers`` workers (first batch untimed)."""
    loaded = _load(cfg, recipe, workers)
    it = _endless(loaded.train)
    t0 = time.perf_counter()
    next(it)
    first = time.perf_counter() - t0
    n, t0 = 0, time.perf_counter()
    for _, (x, _) in zip(range(cfg.batches), it):
        n += len(x)
    seconds = time.perf_counter() - t0
    return {"images_per_s": n / seconds, "first_batch_s": first, "batches": n // len(x)}


def _bar(cfg: DataBench, what: str):
    from tqdm.auto import tqdm

    return tqdm(range(cfg.batches), desc=what, leave=False, disable=not cfg.progress,
                dynamic_ncols=True)


def model_rate(cfg: DataBench, run, loaded, log=print) -> dict[str, float]:
    """Images/s of the training step alone, on a device batch made once; after the first
    warm-up step, ``log`` says how long the two step timings will take."""
    dev = torch.device(cfg.device)
    trainer = make_trainer(run.design, run.recipe, loaded, 0, dev)
    trainer.model.train()
    x, y = next(iter(loaded.train))
    x, y = loaded.train.to_device(x, y, dev)
    for i in range(2):  # warm-up (allocator, oneDNN / cuDNN choices)
        t0 = time.perf_counter()
        train_step(trainer, [trainer.augment(x.clone(), y)], run.recipe)
        sync(dev)
        if i == 1:
            step = time.perf_counter() - t0
            log(f"one training step takes {step:.2f} s: timing the step alone and with the "
                f"loader ({2 * cfg.batches + 2} steps) takes about "
                f"{step * (2 * cfg.batches + 2):.0f} s")
    t0 = time.perf_counter()
    for _ in _bar(cfg, "step alone"):
        train_step(trainer, [trainer.augment(x.clone(), y)], run.recipe)
    sync(dev)
    seconds = time.perf_counter() - t0
    return {"images_per_s": cfg.batches * len(x) / seconds,
            "ms_per_step": 1e3 * seconds / cfg.batches}


def train_rate(cfg: DataBench, run, loaded) -> dict[str, float]:
    """Loader and step together: images/s, and per step the time spent waiting for the
    loader and the main thread's CPU time (its host work: on a GPU, what launches)."""
    dev = torch.device(cfg.device)
    trainer = make_trainer(run.design, run.recipe, loaded, 0, dev)
    trainer.model.train()
    it = _endless(loaded.train)
    for _ in range(2):  # warm-up, the workers' start included
        x, y = loaded.train.to_device(*next(it), dev)
        train_step(trainer, [trainer.augment(x, y)], run.recipe)
    sync(dev)
    wait = host = 0.0
    n, steps = 0, 0
    t0 = time.perf_counter()
    for _ in _bar(cfg, "with the loader"):
        w0 = time.perf_counter()
        batch = next(it)
        w1 = time.perf_counter()
        c0 = time.thread_time()
        x, y = loaded.train.to_device(*batch, dev)
        train_step(trainer, [trainer.augment(x, y)], run.recipe)
        host += time.thread_time() - c0
        wait += w1 - w0
        n, steps = n + len(x), steps + 1
    sync(dev)
    seconds = time.perf_counter() - t0
    return {"images_per_s": n / seconds, "wait_ms_per_step": 1e3 * wait / max(steps, 1),
            "host_ms_per_step": 1e3 * host / max(steps, 1), "ms_per_step": 1e3 * seconds / max(steps, 1)}


def bench_data(cfg: DataBench, log=print) -> pd.DataFrame:
    """All three measurements as rows (kind, workers, images/s, ...) and a verdict row."""
    run = _planned(cfg)
    base = {"step": f"{cfg.step.index}:{cfg.step.name}", "resolution": cfg.preset.resolution,
            "width_multiplier": cfg.preset.width_multiplier, "batch_size": cfg.batch_size,
            "device": device_label(cfg.device), "bf16": run.recipe.bf16,
            "threads": torch.get_num_threads(),
            "augment": _augment_label(run.recipe)}
    rows = []
    for w in cfg.workers:
        r = loader_rate(cfg, run.recipe, w)
        rows.append({**base, "kind": "loader", "workers": w, **r})
        log(f"loader, {w} worker(s): {r['images_per_s']:.0f} images/s")
    loaded = _load(cfg, run.recipe, max(cfg.workers))
    m = model_rate(cfg, run, loaded, log)
    rows.append({**base, "kind": "model", "workers": 0, **m})
    log(f"model step alone: {m['images_per_s']:.0f} images/s")
    t = train_rate(cfg, run, loaded)
    rows.append({**base, "kind": "train", "workers": max(cfg.workers), **t})
    log(f"training with {max(cfg.workers)} worker(s): {t['images_per_s']:.0f} images/s "
        f"(per step: waiting {t['wait_ms_per_step']:.1f} ms, host {t['host_ms_per_step']:.1f} ms)")
    df = pd.DataFrame(rows)
    log(verdict(df))
    return df


def verdict(df: pd.DataFrame) -> str:
    """Which of loader (at the most workers) and model step limits training."""
    loader = df[df.kind == "loader"].sort_values("workers").iloc[-1]
    model = df[df.kind == "model"].iloc[0]
    train = df[df.kind == "train"].iloc[0]
    slower = "the loader" if loader.images_per_s < model.images_per_s else "the model step"
    return (f"{slower} limits training: loader {loader.images_per_s:.0f} images/s with "
            f"{int(loader.workers)} worker(s), model step {model.images_per_s:.0f}; together "
            f"{train.images_per_s:.0f} ({100 * train.images_per_s / model.images_per_s:.0f}% "
            f"of the model step alone)")


def _augment_label(recipe: Recipe) -> str:
    parts = []
    if recipe.auto_augment:
        parts.append(recipe.auto_augment)
    if recipe.random_erasing > 0:
        parts.append(f"re{recipe.random_erasing:g}-{recipe.re_mode}")
    if recipe.mixes:
        parts.append(f"mixup{recipe.mixup:g}-cutmix{recipe.cutmix:g}")
    return "+".join(parts) or "none"


def write(df: pd.DataFrame, path: Path) -> None:
    """Append ``df`` to the CSV at ``path`` (rows of earlier settings kept)."""
    from ..system.files import atomic_write_text

    path = Path(path)
    if path.exists():
        df = pd.concat([pd.read_csv(path), df], ignore_index=True)
    atomic_write_text(path, df.to_csv(index=False))


__all__ = ["DataBench", "bench_data", "loader_rate", "model_rate", "train_rate", "verdict",
           "write"]

"""One training run: (design, recipe, data, seed) -> metrics, with a checkpoint every epoch.

Everything that trains goes through ``train_run``. A run resumes from its last epoch
checkpoint; the shuffling, augmentation and global RNG are restored, so an interrupted
run ends with the same numbers as an uninterrupted one on the same machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import random
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models import Design, build, costs
from models.complexity import AnyDesign

from . import data as datasets
from .distributed import SINGLE, DistContext, check_sync_bn, micro_batches
from .augment import BatchAugment
from .curves import Curves
from .errors import UserError
from .evaluation import Predictions, evaluate
from .loading import LoadedData
from .recipe import Recipe
from .store import atomic_write


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class RunResult:
    """Final metrics of one run and its per-epoch history."""

    metrics: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    predictions: "Predictions | None" = None
    """The last epoch's test predictions (None under several processes)."""


def apply_recipe(design: AnyDesign, recipe: Recipe) -> AnyDesign:
    """The design as trained: the recipe may set stochastic depth and layer scale.

    A reference Transformer takes only what it has (Swin: stochastic depth; torchvision's
    ViT: neither), so one recipe serves a chain and its Transformer reference alike.
    """
    changes = {}
    if recipe.drop_path is not None:
        changes["drop_path"] = recipe.drop_path
    if recipe.layer_scale is not None:
        changes["layer_scale"] = recipe.layer_scale
    if not isinstance(design, Design):
        changes = {k: v for k, v in changes.items() if hasattr(design, k)}
    return design.replace(**changes) if changes else design


def param_groups(model: nn.Module, weight_decay: float, decay_1d: bool) -> list[dict]:
    """Weight decay on weights; none on norms, biases and scales unless ``decay_1d``."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 or decay_1d else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]


def make_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    """SGD with momentum or AdamW, at the recipe's scaled learning rate."""
    groups = param_groups(model, recipe.weight_decay, recipe.decay_norm_and_bias)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=recipe.scaled_lr, momentum=recipe.momentum)
    return torch.optim.AdamW(groups, lr=recipe.scaled_lr, betas=recipe.betas)


def lr_factor(recipe: Recipe, iteration: int, iters_per_epoch: int) -> float:
    """Multiplier of the peak lr at ``iteration``: linear warmup, then cosine or step."""
    total = recipe.epochs * iters_per_epoch
    warmup = int(recipe.warmup_epochs * iters_per_epoch)
    if iteration < warmup:
        return (iteration + 1) / warmup
    if recipe.schedule == "step":
        return recipe.step_gamma ** int(iteration // (recipe.step_every * iters_per_epoch))
    progress = (iteration - warmup) / max(1, total - warmup)
    floor = recipe.min_lr / recipe.scaled_lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _seed_all(seed: int) -> None:
    # torch for the model and drop path; Python's and NumPy's for timm's erasing and mixing.
    torch.manual_seed(seed)
    datasets.seed_host_generators(seed)


def _rng_state() -> dict[str, Any]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    # NumPy's state as tensors and numbers: checkpoints load with weights_only=True.
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss)}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("python") is not None:
        random.setstate(state["python"])
    if state.get("numpy") is not None:
        kind, keys, pos, has_gauss, gauss = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Trainer:
    """What one run trains with: the model, its (DDP / compiled) forward, optimizer,
    schedule, EMA, and where it stands (history, epoch, seconds)."""

    model: nn.Module
    """The network being trained (its weights are checkpointed)."""
    forward: nn.Module
    """What the step calls: the model, or its DDP / compiled wrapper."""
    optimizer: torch.optim.Optimizer
    scheduler: Any
    """Per-iteration learning-rate schedule (``lr_factor``)."""
    ema: Any
    """torch's ``AveragedModel`` (EMA) of the weights, or None."""
    accum: int
    """Micro-batches per optimizer step (gradient accumulation)."""
    iters: int
    """Optimizer steps per epoch."""
    augment: BatchAugment
    history: list[dict[str, float]] = field(default_factory=list)
    """One row of metrics per finished epoch."""
    epoch: int = 0
    """Epochs finished."""
    train_seconds: float = 0.0

    @property
    def eval_model(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.model


def make_trainer(design: AnyDesign, recipe: Recipe, data: LoadedData, seed: int,
                 dev: torch.device, dist: DistContext, batch_per_device: int | None,
                 sync_bn: bool) -> Trainer:
    """Model, optimizer, schedule and EMA of a fresh run (the order of random draws is part
    of the numerics: seed, build, then everything else)."""
    _seed_all(seed)  # the same initial weights on every rank
    model = build(design, num_classes=data.num_classes, in_chans=data.spec.channels,
                  zero_init_residual=recipe.zero_init_residual)
    if sync_bn and dist.enabled:
        check_sync_bn(sync_bn, dev.type)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(dev)
    if recipe.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, recipe)
    _, accum = micro_batches(recipe.batch_size, dist.world_size, batch_per_device)
    forward: nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        forward = DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None)
        data.train.shard(dist.rank, dist.world_size)
        data.test.shard(dist.rank, dist.world_size)
    if recipe.compile:
        forward = torch.compile(forward)
    iters = len(data.train)
    if iters == 0:
        raise UserError(f"batch_size={recipe.batch_size} is larger than the training set "
                        f"({data.train_size} images); allowed: at most {data.train_size}")
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda it: lr_factor(recipe, it, iters))
    ema = None
    if recipe.ema > 0:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(recipe.ema))
    if recipe.mixes and (recipe.batch_size // dist.world_size) % 2:
        raise UserError(f"batch_size={recipe.batch_size} over {dist.world_size} process(es) "
                        f"gives odd batches, which timm's Mixup refuses; allowed: an even "
                        f"batch per process, or mixup=0 and cutmix=0")
    augment = BatchAugment(recipe, data.num_classes, dev)
    return Trainer(model, forward, optimizer, scheduler, ema, accum, iters, augment)


def _resume(trainer: Trainer, ckpt_path: Path, dev: torch.device) -> None:
    """Load the last epoch's checkpoint into ``trainer`` (raises if it is unreadable)."""
    state = torch.load(ckpt_path, map_location=dev, weights_only=True)
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scheduler.load_state_dict(state["scheduler"])
    if trainer.ema is not None and state.get("ema") is not None:
        trainer.ema.load_state_dict(state["ema"])
    _set_rng_state(state["rng"])
    trainer.history = list(state["history"])
    trainer.epoch = int(state["epoch"])
    trainer.train_seconds = float(state.get("train_seconds", 0.0))


def _save_checkpoint(trainer: Trainer, ckpt_path: Path) -> None:
    state = {"model": trainer.model.state_dict(), "optimizer": trainer.optimizer.state_dict(),
             "scheduler": trainer.scheduler.state_dict(),
             "ema": trainer.ema.state_dict() if trainer.ema is not None else None,
             "rng": _rng_state(), "history": trainer.history, "epoch": trainer.epoch,
             "train_seconds": trainer.train_seconds}
    atomic_write(ckpt_path, "wb", lambda f: torch.save(state, f))


def train_step(trainer: Trainer, x: torch.Tensor, targets: torch.Tensor, recipe: Recipe,
               dist: DistContext = SINGLE) -> torch.Tensor:
    """One optimizer step on a device batch of (augmented) images and soft targets, in
    ``trainer.accum`` micro-batches; returns the summed loss (a device tensor, no sync)."""
    model, forward, optimizer, accum = trainer.model, trainer.forward, trainer.optimizer, \
        trainer.accum
    loss_sum = torch.zeros((), device=x.device)
    optimizer.zero_grad(set_to_none=True)
    for i, (xm, tm) in enumerate(zip(x.chunk(accum), targets.chunk(accum))):
        # DDP averages gradients over ranks once, at the last micro-batch.
        sync = (forward.no_sync() if dist.enabled and i < accum - 1
                else contextlib.nullcontext())
        with sync:
            with torch.autocast(x.device.type, torch.bfloat16, enabled=recipe.bf16):
                logits = forward(xm)
            loss = F.cross_entropy(logits.float(), tm)
            (loss / accum if accum > 1 else loss).backward()
        loss_sum += loss.detach() * len(xm)
    if recipe.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
    optimizer.step()
    trainer.scheduler.step()
    if trainer.ema is not None:
        trainer.ema.update_parameters(model)
    return loss_sum


def train_one_epoch(trainer: Trainer, data: LoadedData, recipe: Recipe,
                    dev: torch.device, dist: DistContext, bar_desc: str | None
                    ) -> tuple[float, int, float]:
    """One pass over the training data: (mean loss over all ranks, images, seconds)."""
    from tqdm.auto import tqdm

    trainer.model.train()
    loss_sum = torch.zeros((), device=dev)
    seen = 0
    t0 = time.perf_counter()
    for x, y in tqdm(data.train, total=trainer.iters, desc=bar_desc, leave=False,
                     disable=bar_desc is None, dynamic_ncols=True):
        x, y = data.train.to_device(x, y, dev)
        x, targets = trainer.augment(x, y)
        loss_sum += train_step(trainer, x, targets, recipe, dist)
        seen += len(x)
    seconds = time.perf_counter() - t0
    totals = dist.all_reduce_sum(torch.stack([loss_sum.double(),
                                              loss_sum.new_tensor(seen, dtype=torch.float64)]))
    loss_total, seen_total = totals.tolist()  # one sync per epoch
    return loss_total / max(seen_total, 1), int(seen_total), seconds


def train_run(design: AnyDesign, recipe: Recipe, data: LoadedData, seed: int, run_dir: Path,
              device: str = "cpu", progress: bool = True, desc: str = "",
              dist: DistContext = SINGLE, batch_per_device: int | None = None,
              sync_bn: bool = False, hparams: dict[str, Any] | None = None) -> RunResult:
    """Train ``design`` with ``recipe`` on ``data``; checkpoint in ``run_dir`` every epoch.

    With ``dist`` of several processes (torchrun), each rank trains on its share of every
    global batch under DistributedDataParallel (``sync_bn``: SyncBatchNorm), optionally in
    micro-batches of ``batch_per_device`` with gradient accumulation; only rank 0 writes
    the checkpoint, and evaluation counts are summed over ranks. A checkpoint in
    ``run_dir`` is resumed from; an unreadable one is moved aside and the run starts over.
    Each epoch's scalars go to TensorBoard event files in ``run_dir/tb`` (``hparams``: what
    the run is, shown beside its curves).

    Raises ``TrainingDiverged`` if the loss stops being finite.
    """
    dev = torch.device(device)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / "checkpoint.pt"
    trainer = make_trainer(design, recipe, data, seed, dev, dist, batch_per_device, sync_bn)
    if ckpt_path.exists():
        try:
            _resume(trainer, ckpt_path, dev)
        except Exception as e:  # a corrupted checkpoint is moved aside, never trusted
            bad = ckpt_path.with_suffix(".corrupt")
            os.replace(ckpt_path, bad)
            print(f"warning: checkpoint {ckpt_path} unreadable ({type(e).__name__}); moved to "
                  f"{bad.name}, training from scratch")
            trainer = make_trainer(design, recipe, data, seed, dev, dist, batch_per_device,
                                    sync_bn)  # fresh: same seed, same draws as a new run
    curves = None
    if dist.is_main:
        _log_line(run_dir, f"start at epoch {trainer.epoch}/{recipe.epochs}")
        curves = Curves(run_dir, trainer.epoch, hparams)
    try:
        predictions = _train_epochs(trainer, design, recipe, data, seed, run_dir, dev, dist,
                                    progress, desc, curves)
    finally:
        if curves is not None:
            curves.close()
    if dist.is_main:
        _log_line(run_dir, f"finished {recipe.epochs} epochs")
    return RunResult(_run_metrics(design, recipe, data, trainer, device), trainer.history,
                     predictions)


def _train_epochs(trainer: Trainer, design: AnyDesign, recipe: Recipe, data: LoadedData,
                  seed: int, run_dir: Path, dev: torch.device, dist: DistContext,
                  progress: bool, desc: str, curves: Curves | None) -> Predictions | None:
    """The epochs left to train (checkpoint and curves after each); the last predictions."""
    ckpt_path = run_dir / "checkpoint.pt"
    predictions = None
    for epoch in range(trainer.epoch, recipe.epochs):
        data.train.set_epoch(epoch)
        if dist.enabled:  # per-rank randomness (drop path, mixup), reproducible per epoch
            _seed_all(seed * 100_003 + epoch * 1_009 + dist.rank)
        bar = (f"{desc} epoch {epoch + 1}/{recipe.epochs}" if progress and dist.is_main
               else None)
        train_loss, seen, seconds = train_one_epoch(trainer, data, recipe, dev, dist, bar)
        trainer.train_seconds += seconds
        if not math.isfinite(train_loss):
            raise TrainingDiverged(f"loss is {train_loss} in epoch {epoch + 1}")
        last = epoch == recipe.epochs - 1 and not dist.enabled
        top1, top5, kept = evaluate(trainer.eval_model, data.test, dev, recipe.bf16, dist, last)
        predictions = kept if last else predictions
        trainer.history.append({
            "epoch": epoch + 1, "train_loss": train_loss, "test_top1": top1, "test_top5": top5,
            "lr": trainer.optimizer.param_groups[0]["lr"], "epoch_seconds": seconds,
            "img_per_s": seen / seconds})
        trainer.epoch = epoch + 1
        if dist.is_main:
            _save_checkpoint(trainer, ckpt_path)
            curves.epoch(trainer.history[-1])
        dist.barrier()  # nobody starts the next epoch before the checkpoint is written
    if predictions is None and not dist.enabled:  # resumed after the last epoch's checkpoint
        predictions = evaluate(trainer.eval_model, data.test, dev, recipe.bf16, dist, True)[2]
    return predictions


def _run_metrics(design: AnyDesign, recipe: Recipe, data: LoadedData, trainer: Trainer,
                 device: str) -> dict[str, Any]:
    last = trainer.history[-1]
    c = costs(design, resolution=data.spec.resolution, num_classes=data.num_classes,
              in_chans=data.spec.channels, with_fvcore=False)
    return {
        "top1": last["test_top1"], "top5": last["test_top5"], "train_loss": last["train_loss"],
        "trained_gflops": c.gflops, "trained_params_m": c.params_m,
        "train_seconds": trainer.train_seconds,
        "img_per_s": data.train_size * recipe.epochs / max(trainer.train_seconds, 1e-9),
        "peak_mem_mb": _peak_memory_mb(torch.device(device)),
        "device": device_label(device), "threads": torch.get_num_threads(),
        "data_source": data.source,
        "torch": torch.__version__, "python": platform.python_version(),
        "machine": platform.machine(),
    }


def device_label(device: str) -> str:
    """What a result row names as its device: 'cpu', or 'cuda (NVIDIA H200)' with the GPU's
    name, so that rows trained on different accelerators are never read as one machine."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(dev)})"
    return device


def _log_line(run_dir: Path, text: str) -> None:
    # runs/<hash>/train.log: one line per start, resume and finish (which process, when).
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    with open(run_dir / "train.log", "a") as f:
        f.write(f"{stamp} pid {os.getpid()} {text}\n")


def _peak_memory_mb(dev: torch.device) -> float:
    if dev.type == "cuda":
        return torch.cuda.max_memory_allocated(dev) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

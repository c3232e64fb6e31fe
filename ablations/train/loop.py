"""One training run: (design, recipe, data, seed) -> metrics, with a checkpoint every epoch.

Everything that trains goes through ``train_run``, whose epoch loop is below in one piece:
batches to the device, augmentation, ``train_step``, evaluation, checkpoint. A run resumes
from its last epoch checkpoint; the shuffling, augmentation and global RNG are restored,
so an interrupted run ends with the same numbers as an uninterrupted one on the same
machine.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import time
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from models import Design, build, costs
from models.complexity import AnyDesign

from ..data import seed_host_generators
from ..data.loading import LoadedData
from ..errors import Stopped, UserError
from ..system.files import RunPaths
from ..system.machine import cpu_capability, cpu_model, device_label, peak_memory_mb
from . import checkpoint
from .augment import BatchAugment
from .curves import Curves
from .distributed import SINGLE, DistContext, check_sync_bn, micro_batches, mix_unit
from .evaluation import Predictions, evaluate
from .optim import lr_factor, make_optimizer
from .recipe import Recipe


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class RunResult:
    """Final metrics of one run and its per-epoch history."""

    metrics: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    predictions: "Predictions | None" = None
    """The last epoch's test predictions (on rank 0 under several processes)."""


@dataclass(frozen=True)
class TrainOptions:
    """How a run is trained, not what: device, processes, micro-batches, progress bars."""

    device: str = "cpu"
    dist: DistContext = SINGLE
    """This process among the data-parallel ones (torchrun); ``SINGLE``: alone."""
    batch_per_device: int | None = None
    """Micro-batch per process (gradient accumulation makes up the global batch)."""
    sync_bn: bool = False
    """SyncBatchNorm across processes (CUDA only)."""
    progress: bool = True


@dataclass(frozen=True)
class TrainContext:
    """Everything one run is trained from: what (design, recipe, data, seed), where its
    state lives, and how."""

    design: AnyDesign
    recipe: Recipe
    data: LoadedData
    seed: int
    paths: RunPaths
    options: TrainOptions = TrainOptions()
    name: str = "run"
    """What progress bars and messages call the run, e.g. '[3] patchify-stem s0'."""
    hparams: dict[str, Any] | None = None
    """What TensorBoard shows beside the run's curves."""
    init_from: Path | None = None
    """Weights to start from (a pretraining run's ``encoder.pt``); None: a fresh init."""


def seed_all(seed: int) -> None:
    """Seed torch (the model, drop path) and Python's and NumPy's generators (timm's
    erasing and mixing)."""
    torch.manual_seed(seed)
    seed_host_generators(seed)


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
    """torch's ``AveragedModel`` (EMA) of the weights and buffers, as timm's ``ModelEma``
    of the official code, or None; evaluated beside the model each epoch."""
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



def build_for(design: AnyDesign, recipe: Recipe, num_classes: int, in_chans: int) -> nn.Module:
    """The network a recipe trains: the classifier, or for ``task='fcmae'`` the masked
    autoencoder around the design's encoder (``models.fcmae.FCMAE``)."""
    if recipe.task == "fcmae":
        from models.fcmae import FCMAE

        return FCMAE(design, in_chans=in_chans, mask_ratio=recipe.mask_ratio,
                     decoder_width=recipe.decoder_width, norm_pix_loss=recipe.norm_pix_loss,
                     encoder_masking=recipe.encoder_masking)
    return build(design, num_classes=num_classes, in_chans=in_chans,
                 zero_init_residual=recipe.zero_init_residual)


def load_pretrained(model: nn.Module, path: Path) -> None:
    """Load a pretraining run's encoder weights into a classifier of the same design. Only
    the head and GRN may differ (GRN added at fine-tuning starts as the identity; GRN
    dropped at fine-tuning leaves its weights unused); anything else is a ``UserError``."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing, unexpected = model.load_state_dict(state, strict=False)
    allowed = [k for k in (*missing, *unexpected)
               if not (k.startswith("head.") or ".grn." in k)]
    if allowed:
        raise UserError(f"pretrained weights {path}: keys {', '.join(allowed[:4])} do not "
                        f"match the design; allowed: the same design, GRN and head aside")


def make_trainer(design: AnyDesign, recipe: Recipe, data: LoadedData, seed: int,
                 dev: torch.device, options: TrainOptions = TrainOptions(),
                 init_from: Path | None = None) -> Trainer:
    """Model, optimizer, schedule and EMA of a fresh run (the order of random draws is part
    of the numerics: seed, build, then everything else); ``init_from``: pretrained weights."""
    dist = options.dist
    seed_all(seed)  # the same initial weights on every rank
    model = build_for(design, recipe, data.num_classes, data.spec.channels)
    if init_from is not None:
        load_pretrained(model, init_from)
    if options.sync_bn and dist.enabled:
        check_sync_bn(options.sync_bn, dev.type)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model = model.to(dev)
    if recipe.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, recipe)
    share, accum = micro_batches(recipe.batch_size, dist.world_size, options.batch_per_device,
                                 mix_unit(recipe))
    forward: nn.Module = model
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel

        # A channels-last 1x1 conv's weight (C, K, 1, 1) has strides that differ from its
        # gradient's only in the size-1 dimensions: the same memory, yet DDP warns per
        # backward that they "do not match"; the warning says nothing here.
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view")
        forward = DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None)
        data.train.shard(dist.rank, dist.world_size)
        data.test.shard(dist.rank, dist.world_size)
    data.train.set_micro_batch(share // accum if accum > 1 else None)
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

        # use_buffers: BatchNorm statistics averaged too, as timm's ModelEma averages the
        # whole state dict (without it the EMA keeps its initial running statistics).
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(recipe.ema),
                            use_buffers=True)
    augment = BatchAugment(recipe, data.num_classes, dev)
    return Trainer(model, forward, optimizer, scheduler, ema, accum, iters, augment)


def train_step(trainer: Trainer, batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
               recipe: Recipe, dist: DistContext = SINGLE) -> torch.Tensor:
    """One optimizer step on ``trainer.accum`` micro-batches of (augmented) device images and
    soft targets (``batches``, read one at a time: a generator keeps one on the device);
    returns the summed loss (a device tensor, no sync)."""
    model, forward, optimizer, accum = trainer.model, trainer.forward, trainer.optimizer, \
        trainer.accum
    loss_sum = None
    optimizer.zero_grad(set_to_none=True)
    for i, (xm, tm) in enumerate(batches):
        # DDP averages gradients over ranks once, at the last micro-batch.
        sync = (forward.no_sync() if dist.enabled and i < accum - 1
                else contextlib.nullcontext())
        with sync:
            with torch.autocast(xm.device.type, torch.bfloat16, enabled=recipe.bf16):
                out = forward(xm)  # logits, or FCMAE's reconstruction loss
            loss = out.float() if recipe.task == "fcmae" else F.cross_entropy(out.float(), tm)
            (loss / accum if accum > 1 else loss).backward()
        part = loss.detach() * len(xm)
        loss_sum = part if loss_sum is None else loss_sum + part
    if recipe.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
    optimizer.step()
    trainer.scheduler.step()
    if trainer.ema is not None:
        trainer.ema.update_parameters(model)
    return loss_sum


def train_run(ctx: TrainContext) -> RunResult:
    """Train ``ctx.design`` with ``ctx.recipe`` on ``ctx.data``, checkpointing every epoch
    in ``ctx.paths.checkpoint``, which is resumed from (an unreadable one is moved aside
    and the run starts over).

    With several processes (``ctx.options.dist``, torchrun), each rank trains on its share
    of every global batch under DistributedDataParallel, in micro-batches of
    ``batch_per_device`` with gradient accumulation; only rank 0 writes the checkpoint and
    the TensorBoard curves, and evaluation counts are summed over ranks.

    Raises ``TrainingDiverged`` if the loss stops being finite, ``Stopped`` (saying what is
    kept) on Ctrl-C or SIGTERM.
    """
    recipe, data, opts, dist = ctx.recipe, ctx.data, ctx.options, ctx.options.dist
    dev = torch.device(opts.device)
    if dev.type == "cuda":  # as the official main.py: cuDNN picks the fastest algorithms,
        torch.backends.cudnn.benchmark = True  # and fp32 matmuls in TF32, the default of
        torch.backends.cuda.matmul.allow_tf32 = True  # the torch (1.8) it was trained with
    trainer = _fresh_or_resumed(ctx, dev)
    curves = Curves(ctx.paths.curves, trainer.epoch, ctx.hparams) if dist.is_main else None
    _log_line(ctx, f"start at epoch {trainer.epoch}/{recipe.epochs}; {_split(ctx, trainer)}")
    predictions, first_epoch = None, trainer.epoch
    try:
        for epoch in range(trainer.epoch, recipe.epochs):
            data.train.set_epoch(epoch)
            if dist.enabled:  # per-rank randomness (drop path, mixup), reproducible per epoch
                seed_all(ctx.seed * 100_003 + epoch * 1_009 + dist.rank)
            trainer.model.train()
            loss_sum, seen, t0 = torch.zeros((), device=dev), 0, time.perf_counter()
            for step in _progress(data.train.steps(), ctx, epoch, trainer.iters):
                sizes: list[int] = []
                loss_sum += train_step(trainer, _on_device(step, trainer, data, dev, sizes),
                                       recipe, dist)
                seen += sum(sizes)
            seconds = time.perf_counter() - t0
            trainer.train_seconds += seconds
            totals = dist.all_reduce_sum(torch.stack(
                [loss_sum.double(), loss_sum.new_tensor(seen, dtype=torch.float64)]))
            loss_total, seen_total = totals.tolist()  # one sync per epoch
            train_loss = loss_total / max(seen_total, 1)
            if not math.isfinite(train_loss):
                raise TrainingDiverged(f"loss is {train_loss} in epoch {epoch + 1}")
            last = epoch == recipe.epochs - 1
            if recipe.task == "fcmae":  # no labels: the held-out reconstruction loss
                top1, top5, kept = math.nan, math.nan, None
                tested = {"test_loss": reconstruction_loss(trainer.model, data.test, dev)}
            else:
                top1, top5, kept = evaluate(trainer.model, data.test, dev, recipe.bf16,
                                            dist, last)
                tested = {}
                if trainer.ema is not None:  # the official --model_ema_eval: both printed
                    e1, e5, _ = evaluate(trainer.ema.module, data.test, dev, recipe.bf16, dist)
                    tested = {"ema_top1": e1, "ema_top5": e5}
            predictions = kept if last else predictions
            trainer.history.append({
                "epoch": epoch + 1, "train_loss": train_loss, "test_top1": top1,
                "test_top5": top5, **tested,
                "lr": max(g["lr"] for g in trainer.optimizer.param_groups),
                "epoch_seconds": seconds, "img_per_s": int(seen_total) / seconds})
            trainer.epoch = epoch + 1
            if dist.is_main:
                checkpoint.save(trainer, ctx.paths.checkpoint)
                curves.epoch(trainer.history[-1])
            # what a bar over several runs counts (run.progress.EPOCH_DONE): its estimate
            # of the time left starts after the first epoch, not the first whole run
            _log_line(ctx, f"epoch {epoch + 1}/{recipe.epochs} done ({seconds:.0f} s)")
            dist.barrier()  # nobody starts the next epoch before the checkpoint is written
    except KeyboardInterrupt as e:  # Ctrl-C / SIGTERM: say what is kept, then stop
        kept = (f"its checkpoint after epoch {trainer.epoch}/{recipe.epochs} is kept"
                if trainer.epoch else "it had no finished epoch")
        raise Stopped(getattr(e, "code", 130),
                      f"{ctx.name} was in flight, {kept} ({ctx.paths.folder}); finished runs "
                      "are kept; rerun the same command to resume") from None
    finally:
        if curves is not None:
            curves.close()
    if first_epoch == recipe.epochs and recipe.task != "fcmae":  # resumed after the last epoch
        predictions = evaluate(trainer.model, data.test, dev, recipe.bf16, dist, True)[2]
    if recipe.task == "fcmae" and dist.is_main:  # what fine-tuning runs start from
        torch.save(trainer.model.encoder_state(), ctx.paths.encoder)
    _log_line(ctx, f"finished {recipe.epochs} epochs")
    return RunResult(_run_metrics(ctx, trainer), trainer.history, predictions)


def _on_device(step: Iterable[tuple[torch.Tensor, torch.Tensor]], trainer: Trainer,
               data: LoadedData, dev: torch.device, sizes: list[int]
               ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """A step's host micro-batches moved, normalised and augmented one at a time (their
    image counts appended to ``sizes``)."""
    for x, y in step:
        sizes.append(len(y))
        yield trainer.augment(*data.train.to_device(x, y, dev))


TEST_LOSS_IMAGES = 2000
"""Test images the held-out FCMAE loss is measured on each epoch (the first ones)."""


def reconstruction_loss(model: nn.Module, loader: Any, dev: torch.device) -> float:
    """FCMAE's loss on the first ``TEST_LOSS_IMAGES`` test images under fixed masks (seed 0;
    the training random streams are left as they were)."""
    model.eval()
    total, seen = 0.0, 0
    with torch.no_grad(), torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        torch.manual_seed(0)
        for x, y in loader:
            x, _ = loader.to_device(x, y, dev)
            total += float(model(x)) * len(x)
            seen += len(x)
            if seen >= TEST_LOSS_IMAGES:
                break
    return total / max(seen, 1)


def _fresh_or_resumed(ctx: TrainContext, dev: torch.device) -> Trainer:
    """A new trainer, resumed from the run's checkpoint where one is (and readable).

    Under several processes every rank reads the checkpoint, the ranks agree whether all of
    them could, and only then does rank 0 alone move an unreadable one aside while the others
    wait: all ranks start fresh together, none finds the file gone under it."""
    dist = ctx.options.dist
    ctx.paths.folder.mkdir(parents=True, exist_ok=True)
    trainer = make_trainer(ctx.design, ctx.recipe, ctx.data, ctx.seed, dev, ctx.options,
                           ctx.init_from)
    path = ctx.paths.checkpoint
    exists = path.exists()
    dist.barrier()  # every rank has looked before anyone may move it
    if not exists:
        return trainer
    error: Exception | None = None
    try:
        checkpoint.resume(trainer, path, dev)
    except Exception as e:  # a corrupted checkpoint is moved aside, never trusted
        error = e
    failed = dist.all_reduce_sum(torch.tensor(float(error is not None), device=dev))
    if float(failed) == 0:
        return trainer
    if dist.is_main:
        bad = checkpoint.move_aside(path)
        why = type(error).__name__ if error is not None else "unreadable on another rank"
        print(f"warning: checkpoint {path} unreadable ({why}); moved to {bad.name}, "
              "training from scratch")
    dist.barrier()
    # fresh: same seed, same draws as a new run
    return make_trainer(ctx.design, ctx.recipe, ctx.data, ctx.seed, dev, ctx.options,
                        ctx.init_from)


def _progress(loader: Any, ctx: TrainContext, epoch: int, total: int) -> Any:
    """``loader`` with a progress bar for this epoch (rank 0, when bars are on)."""
    from tqdm.auto import tqdm

    show = ctx.options.progress and ctx.options.dist.is_main
    return tqdm(loader, total=total, desc=f"{ctx.name} epoch {epoch + 1}/{ctx.recipe.epochs}",
                leave=False, disable=not show, dynamic_ncols=True)


def _run_metrics(ctx: TrainContext, trainer: Trainer) -> dict[str, Any]:
    last, data = trainer.history[-1], ctx.data
    c = costs(ctx.design, resolution=data.spec.resolution, num_classes=data.num_classes,
              in_chans=data.spec.channels, with_fvcore=False)
    extra = {"test_loss": last["test_loss"]} if "test_loss" in last else {}
    if ctx.recipe.task == "classify":
        extra.update(_best_epochs(trainer.history))
    return {
        "top1": last["test_top1"], "top5": last["test_top5"], "train_loss": last["train_loss"],
        **extra,
        "trained_gflops": c.gflops, "trained_params_m": c.params_m,
        "train_seconds": trainer.train_seconds,
        "micro_batch": _micro_batch(ctx, trainer), "accumulation": trainer.accum,
        "processes": ctx.options.dist.world_size,
        "img_per_s": data.train_size * ctx.recipe.epochs / max(trainer.train_seconds, 1e-9),
        "peak_mem_mb": peak_memory_mb(torch.device(ctx.options.device)),
        "device": device_label(ctx.options.device), "threads": torch.get_num_threads(),
        "data_source": data.source,
        "torch": torch.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "cpu_model": cpu_model(),
        "cpu_capability": cpu_capability(),
    }


def _best_epochs(history: list[dict[str, float]]) -> dict[str, float]:
    """The best epoch's top-1 beside the last (the official code's "Max accuracy"), and the
    EMA's last and best where it ran. The best epoch is chosen on the test set itself, so it
    reads high; the statistics use the last epoch."""
    out: dict[str, float] = {}
    for key, prefix in (("test_top1", ""), ("ema_top1", "ema_")):
        rows = [row for row in history if key in row and not math.isnan(row[key])]
        if not rows:
            continue
        best = max(rows, key=lambda row: row[key])  # the first of equal bests
        out[f"best_{prefix}top1"], out[f"best_{prefix}epoch"] = best[key], int(best["epoch"])
        if prefix:
            out["ema_top1"], out["ema_top5"] = history[-1]["ema_top1"], history[-1]["ema_top5"]
    return out


def _micro_batch(ctx: TrainContext, trainer: Trainer) -> int:
    return ctx.recipe.batch_size // ctx.options.dist.world_size // trainer.accum


def _split(ctx: TrainContext, trainer: Trainer) -> str:
    """How a step's batch is trained, e.g. 'batch 4096 = 1 process x 32 micro-batches of
    128'."""
    world = ctx.options.dist.world_size
    return (f"batch {ctx.recipe.batch_size} = {world} process{'es' if world > 1 else ''} x "
            f"{trainer.accum} micro-batch{'es' if trainer.accum > 1 else ''} of "
            f"{_micro_batch(ctx, trainer)}")


def _log_line(ctx: TrainContext, text: str) -> None:
    # The run's log: one line per start, resume, epoch and finish (which process, when);
    # rank 0.
    if ctx.options.dist.is_main:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        with open(ctx.paths.log, "a") as f:
            f.write(f"{stamp} pid {os.getpid()} {text}\n")

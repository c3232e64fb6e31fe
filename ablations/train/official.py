"""The official ConvNeXt-T training command, argument by argument, beside what sets it here.

facebookresearch/ConvNeXt's TRAINING.md trains ConvNeXt-T on ImageNet-1K with
``TRAINING_MD_CONVNEXT_T`` (quoted exactly), every other argument at its default in
``main.py``. ``OFFICIAL_CONVNEXT_T`` lists each argument that changes what is trained;
``ours(field)`` reads the value our ``paper`` preset gives the field that sets it, and a test
checks every row (``tests/test_paper_recipe.py``). The README's table is ``markdown_table()``.

Two of TRAINING.md's flags the roadmap runs leave off, as the paper's roadmap did (its
appendix: EMA severely hurts models with BatchNorm, which 12 of the 16 steps have):
``--model_ema true`` (set ``recipe.ema`` to ``OFFICIAL_EMA_DECAY`` to turn it on) and so
``--model_ema_eval true`` (with EMA on, both the model and its EMA are evaluated every epoch
and stored, as that flag does). The official code prints the best epoch's top-1 ("Max
accuracy") beside the last; a result here stores both (``best_top1``, ``best_epoch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


TRAINING_MD_CONVNEXT_T = """python run_with_submitit.py --nodes 4 --ngpus 8 \\
--model convnext_tiny --drop_path 0.1 \\
--batch_size 128 --lr 4e-3 --update_freq 1 \\
--model_ema true --model_ema_eval true \\
--data_path /path/to/imagenet-1k \\
--job_dir /path/to/save_results"""
"""TRAINING.md's ConvNeXt-T command (4 nodes x 8 GPUs); its single-machine form is
``torch.distributed.launch --nproc_per_node=8 main.py`` with ``--update_freq 4``."""

OFFICIAL_EMA_DECAY = 0.9999
"""``main.py``'s ``--model_ema_decay`` default (timm's ``ModelEma``, one update per step)."""


@dataclass(frozen=True)
class OfficialArg:
    """One argument of the official command and the field of ours that sets it."""

    flag: str
    value: Any
    """The official value, in our field's units."""
    field: str
    """``recipe.<name>`` (the ``paper`` preset's convnext recipe), ``design.<name>`` (the
    chain's last step, ConvNeXt-T), ``preset.<name>``, or one of ``data.mean``, ``data.std``,
    ``optimizer.eps`` (what the trainer builds)."""
    note: str = ""


OFFICIAL_CONVNEXT_T = (
    OfficialArg("--model convnext_tiny", "convnext_tiny", "design", "the chain's last step"),
    OfficialArg("--epochs 300", 300, "preset.epochs"),
    OfficialArg("--batch_size 128 x --update_freq 1 x 32 GPUs", 4096, "recipe.batch_size"),
    OfficialArg("--batch_size 128 (per GPU and forward pass)", 128, "preset.micro_batch",
                "gradient accumulation makes up 4096 on fewer GPUs, as --update_freq"),
    OfficialArg("Mixup drawn once per GPU batch", 128, "recipe.mix_batch",
                "32 draws per 4096-image step, on any number of GPUs"),
    OfficialArg("--lr 4e-3 (for a total batch of 4096)", 4e-3, "recipe.lr",
                "at recipe.base_batch 4096; scaled linearly for other batches"),
    OfficialArg("--min_lr 1e-6", 1e-6, "recipe.min_lr"),
    OfficialArg("--warmup_epochs 20", 20.0, "recipe.warmup_epochs", "per-step linear warmup"),
    OfficialArg("cosine schedule (per step)", "cosine", "recipe.schedule"),
    OfficialArg("--opt adamw", "adamw", "recipe.optimizer"),
    OfficialArg("--opt_eps 1e-8", 1e-8, "optimizer.eps"),
    OfficialArg("--opt_betas None (AdamW's 0.9, 0.999)", (0.9, 0.999), "recipe.betas"),
    OfficialArg("--weight_decay 0.05", 0.05, "recipe.weight_decay"),
    OfficialArg("no decay on 1-d parameters and biases", False, "recipe.decay_norm_and_bias",
                "norms, biases, layer scales"),
    OfficialArg("--clip_grad None", 0.0, "recipe.grad_clip"),
    OfficialArg("--drop_path 0.1", 0.1, "design.drop_path"),
    OfficialArg("--layer_scale_init_value 1e-6", 1e-6, "design.layer_scale"),
    OfficialArg("--head_init_scale 1.0 (trunc. normal init)", "trunc-normal", "design.init",
                "head weights not rescaled"),
    OfficialArg("--model_ema true --model_ema_eval true (TRAINING.md); off in the roadmap's runs",
                0.0, "recipe.ema",
                f"`--recipe-set ema={OFFICIAL_EMA_DECAY}` turns it on: model and EMA are then "
                "both evaluated each epoch, last and best epoch stored"),
    OfficialArg("--use_amp false", False, "recipe.bf16"),
    OfficialArg("--input_size 224", 224, "preset.resolution"),
    OfficialArg("--imagenet_default_mean_and_std true", (0.485, 0.456, 0.406), "data.mean"),
    OfficialArg("(ImageNet std)", (0.229, 0.224, 0.225), "data.std"),
    OfficialArg("--color_jitter 0.4", 0.4, "recipe.color_jitter",
                "timm skips it while RandAugment is on"),
    OfficialArg("--aa rand-m9-mstd0.5-inc1", "rand-m9-mstd0.5-inc1", "recipe.auto_augment"),
    OfficialArg("--train_interpolation bicubic", "bicubic", "recipe.train_interpolation"),
    OfficialArg("hflip 0.5 (timm's default)", True, "recipe.flip"),
    OfficialArg("--smoothing 0.1", 0.1, "recipe.label_smoothing"),
    OfficialArg("--reprob 0.25", 0.25, "recipe.random_erasing"),
    OfficialArg("--remode pixel", "pixel", "recipe.re_mode"),
    OfficialArg("--recount 1", 1, "recipe.re_count"),
    OfficialArg("--mixup 0.8", 0.8, "recipe.mixup"),
    OfficialArg("--cutmix 1.0", 1.0, "recipe.cutmix"),
    OfficialArg("--mixup_prob 1.0", 1.0, "recipe.mixup_prob"),
    OfficialArg("--mixup_switch_prob 0.5", 0.5, "recipe.mixup_switch_prob"),
    OfficialArg("--mixup_mode batch", "batch", "recipe.mixup_mode"),
    OfficialArg("--crop_pct None (224 / 256)", 0.875, "recipe.crop_pct",
                "eval: resize 256 bicubic, center crop 224"),
)


def ours(field: str) -> Any:
    """The value the ``paper`` preset gives ``field`` (see ``OfficialArg.field``)."""
    from models import named_design
    from models.roadmap import DEFAULT_CHAIN, chain

    from ..data import datasets as data
    from .recipe import recipe, run_preset

    preset = run_preset("paper")
    kind, _, name = field.partition(".")
    last = chain(DEFAULT_CHAIN)[-1].design
    if kind == "design":
        return getattr(last, name) if name else (
            "convnext_tiny" if last == named_design("convnext_tiny") else "another design")
    if kind == "preset":
        return getattr(preset, name)
    if kind == "recipe":
        return getattr(preset.scale_recipe(recipe("convnext")), name)
    if kind == "data":
        mean, std = data.STATS["imagefolder"]
        return {"mean": mean, "std": std}[name]
    if field == "optimizer.eps":
        import torch

        from .loop import make_optimizer

        opt = make_optimizer(torch.nn.Linear(2, 2), preset.scale_recipe(recipe("convnext")))
        return opt.param_groups[0]["eps"]
    raise KeyError(field)


def markdown_table() -> str:
    """The README's table: official argument, its value, our field, note."""
    lines = ["| official argument | value | our field (`paper` preset) | note |",
             "|---|---|---|---|"]
    for a in OFFICIAL_CONVNEXT_T:
        lines.append(f"| `{a.flag}` | {a.value} | `{a.field}` | {a.note} |")
    return "\n".join(lines)

"""Feature collapse, measured as the ConvNeXt V2 paper does, on trained runs of a store.

The V2 paper (Sec. 3.2, Fig. 4) shows that ConvNeXt V1's wide hidden layers collapse: many
channels are dead or copies of each other. Its measure is the *feature cosine distance*
of one layer: with X_i the map of channel i (H*W values),

    distance = 1 / C^2 * sum_i sum_j (1 - cos(X_i, X_j)) / 2,

averaged over images; low distance = redundant channels. ``block_feature_stats`` computes
it for the hidden (expanded) activations of every block of a trained model, with the share
of dead channels (RMS below 1% of the layer's largest channel RMS), and ``collapse_table`` does so for the
finished runs of a store, reading their checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from models import Block, Design, build

from ..data import datasets
from ..data.catalog import LoaderOptions
from ..errors import UserError
from ..run.store import Store


def _hidden_layer(block: nn.Module) -> nn.Module:
    # The layer the ConvNeXt V2 paper measures: the expanding 1x1 conv with its activation
    # (and GRN in V2). In a ResNet bottleneck that is the reducing 1x1 conv with its ReLU.
    return block.unit("to_hidden")


def block_feature_stats(model: nn.Module, images: torch.Tensor) -> pd.DataFrame:
    """Per block (in order): feature cosine distance and dead-channel share of the hidden
    activations after the block's activation (and GRN), on ``images`` (normalised)."""
    blocks = [m for m in model.modules() if isinstance(m, Block)]
    if not blocks:
        raise UserError("feature statistics need a ConvNet of the design space (no blocks)")
    feats: dict[int, list[torch.Tensor]] = {i: [] for i in range(len(blocks))}
    hooks = [_hidden_layer(b).register_forward_hook(
        lambda m, i, o, k=k: feats[k].append(o.detach().float()))
        for k, b in enumerate(blocks)]
    model.eval()
    try:
        with torch.no_grad():
            for chunk in images.split(256):
                model(chunk)
    finally:
        for h in hooks:
            h.remove()
    rows = []
    for k in range(len(blocks)):
        f = torch.cat(feats[k])  # (N, C, H, W)
        flat = F.normalize(f.flatten(2), dim=2)  # unit vector per (image, channel)
        cos = flat @ flat.transpose(1, 2)  # (N, C, C)
        distance = ((1 - cos) / 2).mean().item()
        energy = f.pow(2).mean(dim=(0, 2, 3)).sqrt()  # RMS of each channel over everything
        dead = (energy < 0.01 * energy.max()).float().mean().item()
        rows.append({"block": k + 1, "channels": f.shape[1], "resolution": f.shape[-1],
                     "cosine_distance": round(distance, 4), "dead_share": round(dead, 4)})
    return pd.DataFrame(rows)


def _test_images(spec: dict, data_dir: str | None, n: int) -> torch.Tensor:
    data = spec["data"]
    part = datasets.load(data["dataset"], "test", data_dir)
    images = datasets.prepare(part.images[:n], data["resolution"], data["channels"])
    # The test loader of training: the same normalisation the model was evaluated with.
    loader = datasets.TensorLoader(images, part.labels[:n], *datasets.STATS[data["dataset"]],
                                   train=False, options=LoaderOptions(n, n, channels_last=False))
    return loader.to_device(*next(iter(loader)), torch.device("cpu"))[0]


def _measure(store: Store, run_hash: str, state: dict, images_of: dict[str, torch.Tensor],
             data_dir: str | None, images: int) -> pd.DataFrame:
    """``block_feature_stats`` of the run ``run_hash``'s design holding ``state`` (a
    classifier's, or a pretrained encoder's without head), on the first ``images`` test
    images of its data (read once per data spec into ``images_of``)."""
    spec = store.spec(run_hash)
    design = Design.from_dict(spec["design"], stored=True)
    head = state.get("head.fc.weight")
    model = build(design, num_classes=head.shape[0] if head is not None else 1,
                  in_chans=spec["data"]["channels"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.startswith("head.") for k in missing):
        raise UserError(f"run {run_hash}: its weights do not fit its design "
                        f"({(unexpected or missing)[0]}); allowed: a run of this code")
    key = json.dumps(spec["data"], sort_keys=True)
    if key not in images_of:
        images_of[key] = _test_images(spec, data_dir, images)
    return block_feature_stats(model, images_of[key])


def _labelled(stats: pd.DataFrame, label: str, step_name: str, seed: int) -> pd.DataFrame:
    """``stats`` with the model's label, step name and seed as its first columns."""
    stats.insert(0, "seed", int(seed))
    stats.insert(0, "step_name", step_name)
    stats.insert(0, "model", label)
    return stats


def collapse_table(out: str | Path, steps: dict[str, str], data_dir: str | None = None,
                   images: int = 256) -> pd.DataFrame:
    """Feature statistics of every finished run of ``steps`` (label -> step name) in the
    store ``out`` that still has its checkpoint (or kept weights); one row per run and
    block."""
    store = Store(out)
    table = store.table()
    rows = []
    images_of: dict[str, torch.Tensor] = {}  # the test images, read once per data spec
    for label, step_name in steps.items():
        runs = table[(table.step_name == step_name) & (table.status == "ok")]
        runs = runs.drop_duplicates("config_hash")  # one design may be in several studies
        if runs.empty:
            raise UserError(f"no finished run of step {step_name!r} in {out}")
        for run in runs.itertuples():
            spec = store.spec(run.config_hash)
            if "model" in spec["design"]:
                continue  # a Transformer: no blocks to measure
            state = trained_weights(store, run.config_hash)
            if state is None:
                continue
            stats = _measure(store, run.config_hash, state, images_of, data_dir, images)
            rows.append(_labelled(stats, label, step_name, run.seed))
    if not rows:
        raise UserError(f"no checkpoints of {', '.join(steps.values())} in {out}")
    return pd.concat(rows, ignore_index=True)




def trained_weights(store: Store, run_hash: str) -> dict | None:
    """A finished run's model weights: its ``weights.pt``, else its checkpoint's model."""
    kept = store.paths(run_hash).weights
    if kept.exists():
        return _read_weights(kept, None)
    ckpt = store.paths(run_hash).checkpoint
    if ckpt.exists():
        return _read_weights(ckpt, "model")
    return None


def _read_weights(path: Path, key: str | None) -> dict:
    """The state dict in ``path`` (``[key]`` of it); a truncated or foreign file is one
    ``UserError`` line naming it."""
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        return state[key] if key is not None else state
    except (RuntimeError, EOFError, KeyError, TypeError, OSError, pickle.UnpicklingError) as e:
        raise UserError(f"{path}: unreadable weights ({type(e).__name__}: truncated or not a "
                        "checkpoint); expected: a file `run` wrote in full (delete it to "
                        "measure the other runs, or train the run again)") from None


def keep_weights(out: str | Path, steps: list[str]) -> list[Path]:
    """Write ``weights.pt`` (model weights alone) beside the checkpoint of every finished run
    of ``steps`` in the store ``out``, so that a clone without checkpoints can still measure
    them; the files written."""
    store = Store(out)
    table = store.table()
    written = []
    for run in table[table.step_name.isin(steps)].drop_duplicates("config_hash").itertuples():
        path = store.paths(run.config_hash).weights
        state = trained_weights(store, run.config_hash)
        if state is not None and not path.exists():
            torch.save(state, path)
            written.append(path)
    return written


FCMAE_MODELS = {"FCMAE V1 (pretrained)": ("v1-fcmae", "pretrained"),
                "FCMAE V2 (pretrained)": ("v2-fcmae", "pretrained"),
                "supervised V1": ("v1-supervised", "trained"),
                "supervised V2": ("v2-supervised", "trained")}
"""The collapse figure of the FCMAE study (the V2 paper's Fig. 4): label -> (cell, which
weights: its pretraining run's encoder or its own trained ones)."""


def fcmae_collapse_table(out: str | Path, data_dir: str | None = None,
                         images: int = 1000) -> pd.DataFrame:
    """Feature statistics per block of the FCMAE study's pretrained encoders (each
    ``v1-fcmae`` / ``v2-fcmae`` row's pretraining run, ``encoder.pt``) and of its supervised
    V1 / V2 runs (their checkpoints), on ``images`` test images; one row per run and block."""
    store = Store(out)
    table = store.table()
    rows = []
    images_of: dict[str, torch.Tensor] = {}
    for label, (cell, weights) in FCMAE_MODELS.items():
        runs = table[(table.step_name == cell) & (table.status == "ok")]
        for run in runs.drop_duplicates("config_hash").itertuples():
            source = run.pretrain_hash if weights == "pretrained" else run.config_hash
            if weights == "pretrained":
                path = store.paths(source).encoder
                state = torch.load(path, map_location="cpu", weights_only=True) \
                    if path.exists() else None
            else:
                state = trained_weights(store, source)
            if state is None:
                continue
            stats = _measure(store, source, state, images_of, data_dir, images)
            rows.append(_labelled(stats, label, cell, run.seed))
    if not rows:
        raise UserError(f"no FCMAE study runs with weights in {out}")
    return pd.concat(rows, ignore_index=True)

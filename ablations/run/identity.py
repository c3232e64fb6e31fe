"""A run's identity, in one place: what its hash is made of (``run_spec``), the hash
(``config_hash``), every version constant that enters it, the names fields are stored
under, and the file names of a run's folder (which only the ``Store`` spells out).

A run is the hash of (design, recipe, data, seed, numerics version): a design already
trained, in any study under any label, is never trained again, and a stored result that
today's code would not reproduce is never reused. Fields at their default are left out of
the spec, so that a new toggle whose default keeps the old behaviour invalidates nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from typing import TYPE_CHECKING

from models.design import STORED_NAMES, Design

from ..train.recipe import Recipe

if TYPE_CHECKING:  # reading a store (labels, file names) needs no torch
    from models.complexity import AnyDesign

    from ..data.loading import DataSpec

# Bump whenever a change to the code changes what a spec trains to (a different number
# for the same config, seed, machine and thread count). tests/test_numerics.py fails on
# such a change until this is bumped and tests/numerics_fingerprint.json is renewed, on the
# machines whose fingerprint is recorded there (elsewhere it skips: numbers differ by CPU).
#   1: up to commit 3828115.
#   2: Design.init (the chain holds torchvision's init until its last step), in-place
#      residual add, test predictions stored.
NUMERICS_VERSION = 2

AUGMENTATION_VERSION = 2
"""Version of the per-image augmentation and mixing code, in the hash of every run that
uses them. 2: timm's RandAugment, RandomErasing and Mixup, per image before mixing
(1: torchvision's RandAugment after mixing)."""
SYNTHETIC_VERSION = 2
"""Version of the generated images (``data.make_synthetic``), in a synthetic run's hash.
2: 10 classes (were 4, which made top-5 accuracy 100% by construction)."""
FOLDER_PIPELINE_VERSION = 2
"""Version of the image-folder pipeline (``data.folders``), in a folder run's hash. 2: timm's
``create_transform`` (bicubic, RandAugment and erasing as the official code), uint8 batches
normalised on the device, per-sample seeds (1: torchvision bilinear crop, host normalising)."""

STORED_DESIGN_NAMES = {new: old for old, new in STORED_NAMES.items()}
"""Design fields renamed since runs were stored keep their old names in specs (and so in
hashes): ``activation_count`` is stored as ``activations``, ``norm_count`` as ``norms``."""


class RunFiles:
    """The file names of a run's folder ``runs/<hash>/`` (spelled here, used by the Store)."""

    SPEC = "spec.json"
    """Everything that defines the run (what the hash is made of) and its labels."""
    RESULT = "result.json"
    """Final metrics, written last: its presence means "finished"."""
    HISTORY = "history.csv"
    """Per-epoch train loss, test top-1/top-5, lr, time."""
    PREDICTIONS = "predictions.npz"
    """Per test image: true class, predicted class, p(true class)."""
    CHECKPOINT = "checkpoint.pt"
    """The last epoch's state, for resuming."""
    LOG = "train.log"
    """One line per start, resume and finish (which process, when)."""
    CURVES = "tb"
    """TensorBoard event files."""
    CLAIM = ".claim"
    """An OS lock held by the process training the run."""
    ENCODER = "encoder.pt"
    """A pretraining run's encoder weights (FCMAE), what its fine-tuning runs start from."""
    WEIGHTS = "weights.pt"
    """A finished run's model weights alone (no optimizer): small enough to commit, read
    where the checkpoint is gone (``collapse --keep-weights`` writes it)."""


def design_dict(design: AnyDesign) -> dict[str, Any]:
    """The design as stored: ``to_dict`` under the stored field names (a Transformer's
    dict names its family, ``model``, so it never hashes like a ``Design``)."""
    return {STORED_DESIGN_NAMES.get(k, k): v for k, v in design.to_dict().items()}


def recipe_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as stored: the augmentation policy under its stored name ``randaugment``
    (off is [0, 0], as before timm's policy strings), so that every stored run without
    RandAugment keeps its hash."""
    d = recipe.to_dict()
    policy = d.pop("auto_augment")
    d["randaugment"] = policy if policy else [0, 0]
    return d


def data_dict(spec: DataSpec) -> dict[str, Any]:
    """The data as stored; generated data and folders add their pipeline's version, so
    that a new generator or pipeline cannot reuse runs made with the old one."""
    out = {"dataset": spec.dataset, "resolution": spec.resolution, "channels": spec.channels,
           "train_subset": spec.train_subset}
    if spec.eval_resolution is not None:
        out["eval_resolution"] = spec.eval_resolution
    if spec.dataset == "synthetic":
        out["generator"] = SYNTHETIC_VERSION
    if spec.dataset == "imagefolder":
        out["pipeline"] = FOLDER_PIPELINE_VERSION
    return out


def run_spec(design: AnyDesign, recipe: Recipe, data: DataSpec, seed: int) -> dict[str, Any]:
    """What a run's hash is made of (labels such as chain and step names are not)."""
    stored = _non_default(recipe_dict(recipe), recipe_dict(Recipe()))
    if recipe.augments_per_image or recipe.mixes:
        # Runs that augment or mix name the code that did it: never reused across it.
        stored["augmentation_version"] = AUGMENTATION_VERSION
    return {"design": _non_default(design_dict(design), design_dict(Design())),
            "recipe": stored, "data": data_dict(data), "seed": seed}


def config_hash(spec: dict[str, Any]) -> str:
    """Stable short hash of a run spec and ``NUMERICS_VERSION`` (canonical JSON)."""
    blob = json.dumps({"spec": spec, "code_version": NUMERICS_VERSION}, sort_keys=True,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _non_default(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in defaults or defaults[k] != v}

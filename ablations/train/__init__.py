"""The training layer: one run, ``(design, recipe, data, seed) -> metrics``.

``recipe`` (recipes and run presets as data), ``loop`` (``train_run``: the epoch loop and
``train_step``), ``optim`` (optimizer and schedule), ``augment`` (erasing and Mixup on the
device), ``evaluation``, ``checkpoint`` (resume exactly), ``curves`` (TensorBoard),
``distributed`` (torchrun ranks, micro-batches), ``official`` (the official code's
arguments). Imports data and system only.
"""

from .. import lazy_exports

_WHERE = {
    "RunPaths": "loop", "RunResult": "loop", "TrainContext": "loop", "Trainer": "loop",
    "TrainingDiverged": "loop", "TrainOptions": "loop", "apply_recipe": "recipe",
    "make_trainer": "loop", "seed_all": "loop", "train_run": "loop", "train_step": "loop",
    "lr_factor": "optim", "make_optimizer": "optim", "param_groups": "optim",
    "RECIPES": "recipe", "RUN_PRESETS": "recipe", "Recipe": "recipe", "RunPreset": "recipe",
    "run_preset": "recipe",
}
__getattr__ = lazy_exports(__name__, _WHERE)
__all__ = sorted(_WHERE)

"""The experiment side of the toolkit, in layers; each imports only from those below it
(``pyproject.toml``'s import contracts, checked by the test suite)::

    cli/        parse, validate, call the library, print; one module per command
    figures/    draw what analysis computed
    analysis/   read result tables: statistics, verdicts, contexts, scale gaps, collapse
    measure/    costs and speed of designs, loaders, resolutions          (beside analysis)
    studies/    what to train: chain, one-at-a-time, leave-one-out, sweeps, scale cells
    run/        planned runs -> stored results: identity, store, backends, workers, jobs
    train/      one run: recipe, epoch loop, optimizer, augmentation, evaluation, checkpoints
    data/       data sets and loaders behind one interface
    system/     files written whole, threads, device facts

``errors`` and ``defaults`` are shared by all. It builds ``models.Design`` objects with
``models.build``; besides ``models``' own names it imports from the submodules
``models.roadmap`` (chains as data), ``models.complexity``, ``models.named``,
``models.design``, ``models.blocks``, ``models.fast_conv`` and ``models.fcmae``, and never
from a model's internals (the classifier's weight is read by its state-dict key in
``analysis.collapse``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from its submodule
    ``where[name]`` on first use (so that ``--help`` imports no torch)."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


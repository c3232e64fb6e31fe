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
``models.build`` and reads models only through their public API (``models.Block.unit`` to
find a block's conv unit by what it does; the classifier's weight by its state-dict key
in ``analysis.collapse``).

The modules of 0.2 (``ablations.store``, ``ablations.runner``, ...) still import, with a
``FutureWarning`` naming their new place, until 0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

MOVED = {
    "agreement": ("analysis.agreement",), "augment": ("train.augment",),
    "bench": ("measure.bench",), "bench_data": ("measure.bench_data",),
    "bench_settings": ("measure.bench_settings",),
    "collapse": ("analysis.collapse", "figures.collapse"),
    "compare": ("analysis.compare", "figures.compare"), "contexts": ("analysis.contexts",),
    "costs": ("measure.costs",), "curves": ("train.curves",),
    "designs": ("studies.designs",), "diagram": ("figures.diagram",),
    "distributed": ("train.distributed",), "evaluation": ("train.evaluation",),
    "folders": ("data.folders",), "launch": ("run.jobs",), "loading": ("data.loading",),
    "machine": ("system.machine",), "official": ("train.official",),
    "paper": ("analysis.paper",), "parallel": ("run.workers",),
    "plot": ("figures.chain", "figures.common"), "plot_bench": ("figures.bench",),
    "plot_studies": ("figures.studies",), "recipe": ("train.recipe",),
    "report": ("analysis.summary",), "reproduce": ("analysis.reproduce",),
    "runner": ("run.runner",), "scale": ("studies.scale", "analysis.scale"),
    "scaling": ("measure.scaling", "figures.scaling"), "stats": ("analysis.stats",),
    "store": ("run.store", "run.identity", "system.files"),
}
"""Module of 0.2 -> where its contents live now (``data``, ``train`` and ``studies`` are
packages of the same name that export what those modules did)."""


def lazy_exports(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from its submodule
    ``where[name]`` on first use (so that ``--help`` imports no torch)."""

    def __getattr__(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class _MovedModule(types.ModuleType):
    """An old module path: attributes are looked up in the new modules, in order."""

    def __getattr__(self, name: str) -> Any:
        for target in self.__dict__["_targets"]:
            module = importlib.import_module(f"{__name__}.{target}")
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``ablations.<old>`` for the modules of 0.2 and warns where they went."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        package, _, old = fullname.rpartition(".")
        if package != __name__ or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        module = _MovedModule(spec.name)
        module._targets = MOVED[old]
        new = " and ".join(f"ablations.{t}" for t in MOVED[old])
        warnings.warn(f"ablations.{old} moved to {new}; the old path goes in 0.3",
                      FutureWarning, stacklevel=3)
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
    sys.meta_path.append(_MovedFinder())

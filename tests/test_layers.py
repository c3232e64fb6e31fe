"""The architecture holds: layers checked by import-linter (and a wrong-way import refused),
no loose modules in ablations/, small signatures, old import paths still working."""

import ast
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = {"__init__.py", "__main__.py", "errors.py", "defaults.py"}


def _lint(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(folder)}  # the copy's packages, not the installed
    lint = "from importlinter.cli import lint_imports_command as c; c()"
    return subprocess.run([sys.executable, "-c", lint, "--no-cache"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_import_contracts_are_kept():
    p = _lint(ROOT)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "3 kept, 0 broken" in p.stdout


def test_a_lower_layer_importing_a_higher_one_is_refused(tmp_path):
    for name in ("ablations", "models"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    loader = tmp_path / "ablations" / "data" / "batch_loader.py"
    loader.write_text(loader.read_text() + "\n\ndef _up():\n    from ..run import store  # noqa\n")
    p = _lint(tmp_path)
    assert p.returncode != 0
    assert "BROKEN" in p.stdout and "ablations.data.batch_loader -> ablations.run.store" in p.stdout


def test_models_importing_ablations_is_refused(tmp_path):
    for name in ("ablations", "models"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    design = tmp_path / "models" / "design.py"
    design.write_text(design.read_text() + "\n\nfrom ablations import errors  # noqa\n")
    p = _lint(tmp_path)
    assert p.returncode != 0 and "models knows torch.nn only" in p.stdout


def test_ablations_has_no_loose_modules():
    loose = {p.name for p in (ROOT / "ablations").glob("*.py")} - SHARED
    assert not loose, f"modules outside a layer: {sorted(loose)}"


def _functions():
    for path in sorted((ROOT / "ablations").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(ROOT), node


def test_no_function_takes_more_than_seven_parameters():
    wide = []
    for path, fn in _functions():
        a = fn.args
        names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs
                 if x.arg not in ("self", "cls")]
        if len(names) > 7:
            wide.append(f"{path}:{fn.lineno} {fn.name} ({len(names)})")
    assert not wide, "use an options object: " + ", ".join(wide)


def test_nan_is_tested_with_isnan_not_self_comparison():
    # `x == x` / `x != x` as a NaN test reads as a typo; math.isnan / pd.isna say it.
    found = []
    for path in sorted((ROOT / "ablations").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and len(node.ops) == 1 and \
                    isinstance(node.ops[0], (ast.Eq, ast.NotEq)) and \
                    ast.dump(node.left) == ast.dump(node.comparators[0]):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


@pytest.mark.parametrize("old", ["store", "runner", "scale", "plot", "recipe", "costs"])
def test_the_module_paths_of_0_2_are_gone(old):
    # pre-1.0: the finder that mapped 0.2's paths (with a warning) went in 0.3
    proc = subprocess.run([sys.executable, "-c", f"import ablations.{old}"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert f"No module named 'ablations.{old}'" in proc.stderr


@pytest.mark.parametrize("package, module, names", [
    ("ablations.data", "ablations.data.datasets", ["TensorLoader", "load"]),
    ("ablations.train", "ablations.train.loop", ["train_run", "train_step"]),
    ("ablations.studies", "ablations.studies.names", ["alone", "study_id"]),
])
def test_the_packages_export_their_api_lazily(package, module, names):
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning on the way
        exported = importlib.import_module(package)
        for name in names:  # the very object of the module that defines it
            assert getattr(exported, name) is getattr(importlib.import_module(module), name)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nope'"):
        getattr(exported, "nope")


def test_each_command_has_its_module_and_the_entry_point_only_dispatches():
    main = (ROOT / "ablations" / "__main__.py").read_text()
    assert "add_argument" not in main  # options live beside their handlers in ablations/cli
    from ablations.cli import COMMANDS

    for name in COMMANDS:
        text = (ROOT / "ablations" / "cli" / f"{name}.py").read_text()
        assert "def add_parser(" in text and "def handle(" in text, name
        assert text.count("sub.add_parser(") == 1, name  # one command per module


def test_the_default_chain_is_written_once():
    hits = [str(p.relative_to(ROOT)) for folder in ("models", "ablations")
            for p in sorted((ROOT / folder).rglob("*.py"))
            if '"resnet50-to-convnext-t"' in p.read_text()]
    assert hits == ["models/roadmap.py"], hits


def test_only_the_store_spells_the_run_folder_files():
    from ablations.run.identity import RunFiles

    names = [v for k, v in vars(RunFiles).items() if k.isupper()]
    spelled = []
    for p in sorted((ROOT / "ablations").rglob("*.py")):
        if p.relative_to(ROOT).as_posix() == "ablations/run/identity.py":
            continue
        text = p.read_text()
        spelled += [f"{p.relative_to(ROOT)}: {n}" for n in names
                    if f'"{n}"' in text or f"'{n}'" in text]
    assert not spelled, spelled

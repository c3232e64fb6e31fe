"""A run's identity: every field of what is trained enters its hash, and today's plans still
find every committed run (so a replay of seeds 1-4 trains nothing new)."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from ablations.data.loading import DataSpec
from ablations.run import identity
from ablations.run.runner import plan
from ablations.studies.steps import select_steps, study_steps
from ablations.studies.scale import cell_of, plan_scale
from ablations.train.recipe import Recipe, run_preset
from models import FIELDS, Design, DesignError
from models.named import MODEL_NAMES, named_design
from models.roadmap import CHAINS, chain

ROOT = Path(__file__).resolve().parent.parent
CHAIN = "resnet50-to-convnext-t"
RECIPE_CHOICES = {"name": "x", "optimizer": "sgd", "schedule": "step", "mixup_mode": "pair",
                  "re_mode": "rand", "train_interpolation": "bilinear", "auto_augment": "",
                  "betas": (0.8, 0.95), "drop_path": 0.3, "layer_scale": 0.5,
                  "task": "fcmae", "mix_batch": 128}


def _hash(design=Design(), recipe=Recipe(), data=DataSpec("synthetic", 32, 1), seed=0):
    return identity.config_hash(identity.run_spec(design, recipe, data, seed))


def _other_value(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2 if value else 0.1
    raise TypeError(type(value))


def test_every_recipe_field_enters_the_hash():
    base = _hash()
    for f in dataclasses.fields(Recipe):
        default = getattr(Recipe(), f.name)
        value = RECIPE_CHOICES[f.name] if f.name in RECIPE_CHOICES else _other_value(default)
        assert _hash(recipe=Recipe().replace(**{f.name: value})) != base, f.name


def _design_values() -> dict[str, list]:
    """Every value each field takes in the roadmaps and named models (valid by construction)."""
    designs = [s.design for c in CHAINS for s in chain(c, branches=True)]
    designs += [named_design(n) for n in MODEL_NAMES if isinstance(named_design(n), Design)]
    values: dict[str, list] = {f: [] for f in FIELDS}
    for d in designs:
        for f in FIELDS:
            if getattr(d, f) not in values[f]:
                values[f].append(getattr(d, f))
    return values


def test_every_design_field_enters_the_hash():
    base_design = chain(CHAIN)[-1].design
    base = _hash(design=base_design)
    tried = set()
    for f, candidates in _design_values().items():
        default = getattr(base_design, f)
        others = [v for v in candidates if v != default]
        if not others:  # a field no roadmap varies
            others = ([1e-5] if default is None else [1, 2] if f == "stem_stride"
                      else [_other_value(default)])
        for v in others:
            try:
                changed = base_design.replace(**{f: v})
            except (DesignError, ValueError):
                continue  # not valid on this design; another value may be
            assert _hash(design=changed) != base, f
            tried.add(f)
            break
    assert tried == set(FIELDS), sorted(set(FIELDS) - tried)


def test_every_data_field_the_seed_and_the_numerics_version_enter_the_hash(monkeypatch):
    base = _hash()
    for changed in (DataSpec("fashion-mnist", 32, 1), DataSpec("synthetic", 48, 1),
                    DataSpec("synthetic", 32, 3), DataSpec("synthetic", 32, 1, 100)):
        assert _hash(data=changed) != base, changed
    assert _hash(seed=1) != base
    monkeypatch.setattr(identity, "NUMERICS_VERSION", identity.NUMERICS_VERSION + 1)
    assert _hash() != base


def test_labels_do_not_enter_the_hash():
    steps = chain(CHAIN)[1:3]
    a = plan(CHAIN, steps, run_preset("smoke"), [0])
    b = plan("another-study", steps, run_preset("smoke"), [0])
    assert [r.hash for r in a] == [r.hash for r in b]


def _planned(study: str, preset_name: str, seeds: list[int], names: list[str]) -> set[str]:
    """The hashes today's code plans for a committed (study, preset) group (``names``: its
    step names; a scale cell may hold the whole chain, as `run --study scale --steps`)."""
    kind, _, subject = study.partition(":")
    base = run_preset("quick")
    if kind == "scale":
        settings = cell_of(preset_name, base)
        grid = [{axis: [value] for axis, value in settings.items()}] if settings else []
        _, steps = select_steps("scale", subject, names)
        runs = plan_scale(subject, steps, base, grid, seeds)
        return {r.hash for r in runs if r.preset.name == preset_name}
    if kind == "custom":
        grn = ROOT / "examples" / "convnext_v2_grn.yaml"
        label, steps = study_steps("custom", CHAIN, custom=str(grn))
    elif study in CHAINS:
        label, steps = study_steps("chain", study)
    else:
        label, steps = study_steps(kind, subject)
    assert label == study
    return {r.hash for r in plan(study, steps, base, seeds)}


@pytest.mark.parametrize("folder", ["results/quick", "results/quick-gpu"])
def test_todays_plans_find_every_committed_run(folder):
    table = pd.read_csv(ROOT / folder / "results.csv")
    assert len(table) > 20
    for (study, preset), rows in table.groupby(["study", "preset"]):
        seeds = sorted(int(s) for s in rows.seed.unique())  # Python ints, as the CLI plans
        planned = _planned(study, preset, seeds, sorted(rows.step_name.unique()))
        committed = set(rows.config_hash)
        # every stored run is one today's plan asks for (a study still training has fewer)
        assert committed <= planned, (study, preset, len(committed - planned))
        if study == CHAIN:  # complete: a replay of its seeds trains nothing new
            assert committed == planned and len(seeds) == 5
        for h in committed:  # and each stored spec still hashes to its folder's name
            spec = pd.read_json(ROOT / folder / "runs" / h / "spec.json", typ="series").to_dict()
            spec.pop("labels", None)
            assert identity.config_hash(spec) == h, (study, preset, h)


def test_the_constraints_pin_what_the_committed_runs_were_trained_with():
    import tomllib

    pins = dict(line.strip().split("==") for line in (ROOT / "constraints.txt").read_text()
                .splitlines() if "==" in line and not line.startswith("#"))
    rows = pd.read_csv(ROOT / "results" / "quick" / "results.csv")
    trained = set(rows[rows.device == "cpu"].torch.str.split("+").str[0])
    assert trained == {pins["torch"]}
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch_req = next(d for d in deps if d.startswith("torch") and not d.startswith("torchvision"))
    assert "==" not in torch_req and ">=" in torch_req  # the package keeps a range

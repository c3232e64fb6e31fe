"""Every study as a list of steps (``study_steps``) for the same runner and store: the chain
(``models.roadmap``) and

- one-at-a-time: the chain's modern-recipe ResNet plus each single change alone (and
  compute-matched: each variant's widths rescaled to the base's GFLOPs);
- leave-one-out: the chain's last design minus each single change;
- custom chains: a user-written ordered list of changes (Python, YAML or TOML);
- sweeps: one toggle over a list of values;
- transformers: the chain's last design beside the Transformers the paper compares it with
  (its target line first), torchvision's own models trained with the same recipe;
- scale: ResNet-50 (modern recipe) and ConvNeXt-T over a grid of run-preset cells
  (``studies.scale``).

Every study reuses ``models.roadmap.Step``, so the runner, the store's cache (a design
trained in any study is not trained again) and the plots treat them alike.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from models import FIELDS, Design, named_design
from models.roadmap import DEFAULT_CHAIN, Step, chain, find_step, get_chain

from ..errors import UserError, check_file_name
from .names import alone, removed, study_id, sweep_subject

STUDIES = ("chain", "one-at-a-time", "one-at-a-time-matched", "leave-one-out", "custom",
           "sweep", "transformers", "scale", "fcmae")
MATCH_TOLERANCE = 0.05
"""A compute-matched variant's GFLOPs (224 px) are within this fraction of its context's."""


def _step(paper: Step | None, **fields: Any) -> Step:
    """A study's step: ``fields`` (index, name, title, design, recipe, changes, source) with
    the phase of the chain step it stands for (``paper``), and the paper's GFLOPs only where
    it is that step's own design (a variant that borrows a change is not); on no branch."""
    own = paper is not None and paper.design == fields["design"]
    return Step(phase=paper.phase if paper else "study", paper_top1=None, paper_top1_std=None,
                paper_gflops=paper.paper_gflops if own else None, **fields)


def _changes_of(step: Step) -> dict[str, Any]:
    return {f: getattr(step.design, f) for f in step.changes if f != "recipe"}


def one_at_a_time(chain_name: str = DEFAULT_CHAIN, match_flops: bool = False) -> list[Step]:
    """The modern-recipe ResNet, then each later main step's change applied to it alone.

    A change that cannot stand alone (the design it gives is invalid) is left out. With
    ``match_flops`` every variant's widths are rescaled (the paper's own compensation, as
    ResNeXt-ify widens) until its GFLOPs at 224 px are within ``MATCH_TOLERANCE`` of the
    base's; a change of the widths themselves is left out (matching would undo it).
    """
    steps = chain(chain_name)
    base = steps[1]
    source = "one-at-a-time-matched" if match_flops else "one-at-a-time"
    out = [_step(base, index=0, name=base.name, title=base.title, design=base.design,
                 recipe=base.recipe, changes=(), source=source)]
    target = _gflops(base.design)
    for s in steps[2:]:
        try:
            design = base.design.replace(**_changes_of(s))
        except ValueError:
            continue
        title = f"only: {s.title}"
        if match_flops:
            if "widths" in s.changes:
                continue
            design, m = matched_widths(design, target)
            title += f" (widths x{m:.2f})"
        out.append(_step(s, index=s.index, name=alone(s.name), title=title, design=design,
                         recipe=base.recipe, changes=s.changes, source=source))
    return out


@functools.lru_cache(maxsize=256)
def _gflops(design: Design) -> float:
    from models import costs

    return costs(design, with_fvcore=False).gflops


def matched_widths(design: Design, target_gflops: float) -> tuple[Design, float]:
    """``design`` with every width scaled by the multiplier that brings its GFLOPs (224 px)
    closest to ``target_gflops``, and that multiplier; a ``UserError`` where rounding the
    widths cannot come within ``MATCH_TOLERANCE``."""
    m, best = 1.0, (abs(_gflops(design) / target_gflops - 1), 1.0, design)
    for _ in range(6):  # FLOPs grow about as the square of the widths
        g = _gflops(design.scaled(m))
        m *= (target_gflops / g) ** 0.5
        candidate = design.scaled(m)
        miss = abs(_gflops(candidate) / target_gflops - 1)
        if miss < best[0]:
            best = (miss, m, candidate)
        if miss < MATCH_TOLERANCE / 5:
            break
    if best[0] > MATCH_TOLERANCE:
        raise UserError(f"no width multiplier brings {_gflops(design):.2f} GFLOPs within "
                        f"{MATCH_TOLERANCE:.0%} of {target_gflops:.2f}")
    return best[2], best[1]


def leave_one_out(chain_name: str = DEFAULT_CHAIN) -> list[Step]:
    """The chain's last design, then that design with each single change undone."""
    steps = chain(chain_name)
    last = steps[-1]
    out = [_step(last, index=0, name=last.name, title=last.title, design=last.design,
                 recipe=last.recipe, changes=(), source="leave-one-out")]
    for prev, s in zip(steps[1:-1], steps[2:]):
        undo = {f: getattr(prev.design, f) for f in s.changes if f != "recipe"}
        try:
            design = last.design.replace(**undo)
        except ValueError:
            continue
        if design == last.design:
            continue
        out.append(_step(s, index=s.index, name=removed(s.name), title=f"without: {s.title}",
                         design=design, recipe=last.recipe, changes=s.changes,
                         source="leave-one-out"))
    return out


def transformers(chain_name: str = DEFAULT_CHAIN) -> list[Step]:
    """The chain's last design (index 0), then each reference Transformer of the chain
    (Swin-T, the target line, first), all with the chain's modern recipe.

    The first step has the chain's last design, recipe and so config hash: runs of the
    chain are reused, and the Transformers' seeds pair with the chain's seeds.
    """
    c = get_chain(chain_name)
    last = c.steps[-1]
    paper_last = next(s for s in reversed(c.steps) if s.paper_top1 is not None)
    out = [Step(0, last.name, last.title, "reference", last.design, last.recipe, (),
                paper_last.paper_top1, None, last.paper_gflops, "transformers", last.note)]
    for i, ref in enumerate(c.references, start=1):
        out.append(Step(i, ref.model, ref.title, "reference", named_design(ref.model), last.recipe,
                        ("model",), ref.paper_top1, None, ref.paper_gflops, "transformers",
                        "target line" if ref.target else "comparison model"))
    return out


def custom_chain(spec: dict[str, Any]) -> list[Step]:
    """An ordered chain from plain data::

        {"name": "my-chain", "start": "resnet50" | {field: value, ...},
         "recipe": "convnext",
         "steps": [{"name": "gelu-first", "changes": {"activation": "gelu"}}, ...]}

    Unknown keys, unknown toggles and invalid values raise ``UserError`` naming them.
    """
    if not isinstance(spec, dict):
        raise UserError("custom chain: expected a mapping with keys name, start, steps")
    allowed = {"name", "start", "recipe", "steps"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise UserError(f"custom chain: unknown key(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(sorted(allowed))}")
    name = str(spec.get("name", "custom"))
    check_file_name(name, "custom chain: name")
    start = spec.get("start", "resnet50")
    try:
        design = named_design(start) if isinstance(start, str) else Design.from_dict(dict(start))
    except (ValueError, TypeError) as e:
        raise UserError(f"custom chain {name!r}: start: {e}") from None
    recipe = str(spec.get("recipe", "convnext"))
    steps_data = spec.get("steps")
    if not isinstance(steps_data, list) or not steps_data:
        raise UserError(f"custom chain {name!r}: 'steps' must be a non-empty list")
    out = [_step(None, index=0, name="start",
                 title=f"start: {start if isinstance(start, str) else 'custom'}", design=design,
                 recipe=recipe, changes=(), source=f"custom:{name}")]
    for i, item in enumerate(steps_data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("changes"), dict):
            raise UserError(f"custom chain {name!r}: step {i} must be a mapping with a "
                            f"'changes' mapping")
        bad = sorted(set(item["changes"]) - set(FIELDS))
        if bad:
            raise UserError(f"custom chain {name!r}: step {i}: unknown toggle(s) "
                            f"{', '.join(bad)}; allowed: {', '.join(FIELDS)}")
        try:
            before, design = design, design.replace(**item["changes"])
        except ValueError as e:
            raise UserError(f"custom chain {name!r}: step {i}: {e}") from None
        step_name = str(item.get("name", f"step-{i}"))
        taken = [s.name for s in out]
        if step_name in taken:  # one row per name in the results: a finished run would be lost
            raise UserError(f"custom chain {name!r}: step {i}: name {step_name!r} is used twice "
                            f"(step {taken.index(step_name)}); allowed: a name unique in the "
                            "chain")
        if design == before:
            raise UserError(f"custom chain {name!r}: step {i} ({step_name}) changes nothing: "
                            f"{item['changes']} is already the design of the step before; "
                            "allowed: changes that differ from the step before")
        out.append(_step(None, index=i, name=step_name, title=str(item.get("title", step_name)),
                         design=design, recipe=recipe,
                         changes=tuple(item["changes"]),
                         source=f"custom:{name}"))
    return out


def load_custom_chain(path: str | Path) -> list[Step]:
    """A custom chain from a YAML (safe loader) or TOML file."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"custom chain file {p} does not exist")
    text = p.read_text()
    try:
        if p.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as e:  # any parse error is the user's file: one line, no traceback
        raise UserError(f"custom chain file {p}: cannot parse ({type(e).__name__}: "
                        f"{str(e).splitlines()[0]})") from None
    return custom_chain(data)


def sweep(field: str, values: list[Any], base: Design | str = "convnext_tiny",
          recipe: str = "convnext") -> list[Step]:
    """``base`` with ``field`` set to each of ``values`` (e.g. kernel size 3..11); its study
    id names the field and the base (``sweep:kernel_size@convnext_tiny``; ``@custom`` for a
    design that is not a named model), so sweeps over different bases stay apart."""
    if field not in FIELDS:
        raise UserError(f"sweep: unknown toggle {field!r}; allowed: {', '.join(FIELDS)}")
    design = named_design(base) if isinstance(base, str) else base
    study = study_id("sweep", sweep_subject(field, base if isinstance(base, str) else "custom"))
    out = []
    for i, v in enumerate(values):
        try:
            d = design.replace(**{field: v})
        except ValueError as e:
            raise UserError(f"sweep {field}: {e}") from None
        label = "-".join(str(x) for x in v) if isinstance(v, (tuple, list)) else str(v)
        out.append(_step(None, index=i, name=f"{field}={label}", title=f"{field} = {v}", design=d,
                         recipe=recipe, changes=(field,), source=study))
    return out


def parse_sweep(text: str) -> tuple[str, list[Any]]:
    """'kernel_size=3,5,7' or 'depths=3-3-9-3,3-3-27-3' -> (field, values)."""
    if "=" not in text:
        raise UserError(f"--sweep {text!r}: expected FIELD=V1,V2,... (e.g. kernel_size=3,5,7)")
    field, _, raw = text.partition("=")
    values: list[Any] = []
    for item in raw.split(","):
        item = item.strip()
        if "-" in item and all(p.isdigit() for p in item.split("-")):
            values.append(tuple(int(p) for p in item.split("-")))
        elif item.lstrip("-").isdigit():
            values.append(int(item))
        else:
            try:
                values.append(float(item))
            except ValueError:
                values.append({"true": True, "false": False}.get(item.lower(), item))
    return field.strip(), values


def study_steps(study: str, chain_name: str, custom: str | None = None,
                sweep_spec: str | None = None, sweep_base: str = "convnext_tiny") -> tuple[str, list[Step]]:
    """(study label, steps) for a ``--study`` choice of the CLI."""
    if study == "chain":
        return chain_name, chain(chain_name)
    if study == "one-at-a-time":
        return study_id("one-at-a-time", chain_name), one_at_a_time(chain_name)
    if study == "one-at-a-time-matched":
        return (study_id("one-at-a-time-matched", chain_name),
                one_at_a_time(chain_name, match_flops=True))
    if study == "leave-one-out":
        return study_id("leave-one-out", chain_name), leave_one_out(chain_name)
    if study == "custom":
        if not custom:
            raise UserError("--study custom needs --custom FILE (YAML or TOML)")
        steps = load_custom_chain(custom)
        return steps[0].source, steps
    if study == "sweep":
        if not sweep_spec:
            raise UserError("--study sweep needs --sweep FIELD=V1,V2,...")
        steps = sweep(*parse_sweep(sweep_spec), sweep_base)
        return steps[0].source, steps  # "sweep:<field>", under the field's current name
    if study == "transformers":
        return study_id("transformers", chain_name), transformers(chain_name)
    if study == "scale":  # the steps; the cells (presets) are studies.scale's
        from .scale import DEFAULT_STEPS

        return study_id("scale", chain_name), [find_step(chain_name, s) for s in DEFAULT_STEPS]
    if study == "fcmae":  # the cells; their pretraining runs are studies.fcmae's
        from .fcmae import steps, study_label

        return study_label(), steps()
    raise UserError(f"--study {study!r} is unknown; allowed: {', '.join(STUDIES)}")


def select_steps(study: str, chain_name: str, keys: list[str], branches: bool = False,
                 **study_options: Any) -> tuple[str, list[Step]]:
    """(study label, the steps of ``study`` named by ``keys``, or all of them when ``keys`` is
    empty). A chain's keys may name any step or branch; a study's only its own steps.
    ``study_options`` are ``study_steps``' (custom, sweep_spec, sweep_base)."""
    if study == "chain":
        steps = ([find_step(chain_name, k) for k in keys] if keys
                 else chain(chain_name, branches=branches))
        return chain_name, steps
    label, steps = study_steps(study, chain_name, **study_options)
    if not keys:
        return label, steps
    if study == "scale":  # a cell may hold any of the chain's steps (its roadmap there)
        return label, [find_step(chain_name, k) for k in keys]
    known = {s.name for s in steps} | {str(s.index) for s in steps}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise UserError(f"--steps: {', '.join(unknown)} not in study {label!r}; allowed: "
                        f"{', '.join(s.name for s in steps)}")
    return label, [s for s in steps if s.name in keys or str(s.index) in keys]


def as_step_list(steps: list[Step]) -> list[dict[str, Any]]:
    """Plain rows describing the steps (for tables and notebooks)."""
    return [{"index": s.index, "name": s.name, "title": s.title,
             "changes": "+".join(s.changes),
             **{f: getattr(s.design, f) for f in s.changes if f in FIELDS}}
            for s in steps]


__all__ = ["STUDIES", "one_at_a_time", "leave_one_out", "transformers", "custom_chain",
           "load_custom_chain",
           "sweep", "parse_sweep", "study_steps", "select_steps", "as_step_list"]

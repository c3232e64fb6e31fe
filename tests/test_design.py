import dataclasses

import pytest

from models import FIELDS, Design, DesignError, named_design


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"kernel_size": 4}, "kernel_size"),
        ({"kernel_size": 0}, "kernel_size"),
        ({"depths": (3, 4, 6)}, "depths"),
        ({"depths": (3, 4, 6, 0)}, "depths"),
        ({"widths": (64, 128, 256, -1)}, "widths"),
        ({"widths": (64, 128, 256)}, "widths"),
        ({"stem": "conv"}, "stem"),
        ({"groups": 0}, "groups"),
        ({"groups": 7}, "groups"),
        ({"groups": "grouped"}, "groups"),
        ({"block": "mbconv"}, "block"),
        ({"expansion": 0}, "expansion"),
        ({"spatial_position": "bottom"}, "spatial_position"),
        ({"activation": "swish"}, "activation"),
        ({"activation_count": "none"}, "activation_count"),
        ({"norm_count": "two"}, "norm_count"),
        ({"norm": "group"}, "norm"),
        ({"downsample": "pool"}, "downsample"),
        ({"layer_scale": -1.0}, "layer_scale"),
        ({"drop_path": 1.0}, "drop_path"),
        ({"head_norm": "yes"}, "head_norm"),
        ({"grn": 1}, "grn"),
        ({"norm_eps": -1e-5}, "norm_eps"),
        ({"norm": "layer", "widths": (1, 128, 256, 512)}, "norm"),
    ],
)
def test_invalid_design_names_field_value_and_allowed(changes, field):
    with pytest.raises(ValueError) as err:
        Design(**changes)
    msg = str(err.value)
    assert f"Design.{field}=" in msg
    assert "allowed" in msg


def test_replace_validates():
    with pytest.raises(ValueError, match="kernel_size"):
        named_design("convnext_tiny").replace(kernel_size=6)


def test_design_is_frozen_and_hashable():
    d = Design()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.kernel_size = 5  # type: ignore[misc]
    assert hash(d) == hash(Design())
    assert d != d.replace(kernel_size=5)


def test_dict_round_trip_and_unknown_keys():
    d = named_design("convnextv2_atto")
    assert Design.from_dict(d.to_dict()) == d
    with pytest.raises(ValueError, match="kernal_size"):
        Design.from_dict({**d.to_dict(), "kernal_size": 7})


def test_lists_become_tuples():
    d = Design(depths=[3, 3, 9, 3])
    assert d.depths == (3, 3, 9, 3)


def _fields_without_docstring(source: str) -> list[str]:
    """Fields of the (first) class in ``source`` not followed by a string statement."""
    import ast
    import textwrap

    body = ast.parse(textwrap.dedent(source)).body[0].body
    missing = []
    for stmt, after in zip(body, body[1:] + [None]):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            documented = (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                          and isinstance(after.value.value, str))
            if not documented:
                missing.append(stmt.target.id)
    return missing


def test_every_field_has_a_docstring_in_the_class_source():
    import inspect

    source = inspect.getsource(Design)
    assert _fields_without_docstring(source) == []
    declared = [line.split(":")[0].strip() for line in source.splitlines()
                if line.startswith("    ") and not line.startswith("     ") and ":" in line
                and line.split(":")[0].strip() in FIELDS]
    assert sorted(set(declared)) == sorted(FIELDS)
    # The check itself can fail: the same source with one docstring removed.
    first = '    kernel_size: int = 3\n'
    assert first in source
    broken = source.replace(first + source.split(first, 1)[1].splitlines(True)[0], first)
    assert _fields_without_docstring(broken) == ["kernel_size"]


def test_renamed_fields_are_stored_under_their_old_names_and_read_only_from_specs():
    d = Design().replace(activation_count="one", norm_count="one")
    from ablations.run.identity import design_dict

    stored = design_dict(d)  # run specs keep the old names: stored hashes stay valid
    assert stored["activations"] == stored["norms"] == "one"
    assert "activation_count" not in stored and "norm_count" not in stored
    assert Design.from_dict(stored, stored=True) == d
    # Outside stored specs the old names of 0.2 are unknown fields (pre-1.0: no aliases).
    with pytest.raises(DesignError, match="unknown field.*activations"):
        Design().replace(activations="one")
    with pytest.raises(DesignError, match="unknown field.*norms"):
        Design.from_dict({"norms": "one"})
    assert not hasattr(d, "activations")


def test_committed_chain_runs_keep_their_hashes():
    # The quick replay's runs were stored before the field renames; their hashes must be
    # what today's plan computes, or every stored result would silently be retrained.
    import os

    import pandas as pd

    from ablations.studies.steps import study_steps
    from ablations.train.recipe import RUN_PRESETS
    from ablations.run.runner import plan

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stored = set(pd.read_csv(os.path.join(root, "results", "quick", "results.csv")).config_hash)
    label, steps = study_steps("chain", "resnet50-to-convnext-t")
    planned = {r.hash for r in plan(label, steps, RUN_PRESETS["quick"], [0, 1, 2, 3, 4])}
    # 16 steps x 5 seeds: the 75 runs of the 15 steps before layer scale got its own step,
    # and 5 of the new separate-downsampling step (a new design: it lost layer scale).
    assert len(planned) == 80 and planned <= stored


def test_the_old_module_of_the_named_models_is_gone():
    import importlib

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("models.presets")
    import models

    assert not hasattr(models, "preset") and not hasattr(models, "PRESETS")

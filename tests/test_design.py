import dataclasses

import pytest

from models import FIELDS, Design, preset


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
        ({"activations": "none"}, "activations"),
        ({"norms": "two"}, "norms"),
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
        preset("convnext_tiny").replace(kernel_size=6)


def test_design_is_frozen_and_hashable():
    d = Design()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.kernel_size = 5  # type: ignore[misc]
    assert hash(d) == hash(Design())
    assert d != d.replace(kernel_size=5)


def test_dict_round_trip_and_unknown_keys():
    d = preset("convnextv2_atto")
    assert Design.from_dict(d.to_dict()) == d
    with pytest.raises(ValueError, match="kernal_size"):
        Design.from_dict({**d.to_dict(), "kernal_size": 7})


def test_lists_become_tuples():
    d = Design(depths=[3, 3, 9, 3])
    assert d.depths == (3, 3, 9, 3)


def test_every_field_has_a_docstring_in_the_class_source():
    import inspect

    source = inspect.getsource(Design)
    for f in FIELDS:
        assert f"    {f}:" in source

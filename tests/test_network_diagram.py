"""Every step of both chains drawn at the network level: the parts a step's diagram marks
are exactly the parts its changed fields decide, and every architectural change is marked."""

import pytest

from ablations.figures.diagram import (BLOCK_FIELDS, NETWORK_FIELDS, changed_parts,
                                       draw_chain_changes, network_parts)
from models.roadmap import CHAINS, chain, parent_step

NOT_DRAWN = {"recipe", "init", "drop_path", "norm_eps"}
"""Changes with no part to draw (how the weights start or are trained)."""


@pytest.mark.parametrize("chain_name", list(CHAINS))
def test_each_steps_marked_parts_are_its_changed_fields(chain_name):
    for step in chain(chain_name, branches=True):
        parent = parent_step(chain_name, step)
        if parent is None:
            continue
        fields = {slot: f for slot, _, f in network_parts(step.design) + network_parts(
            parent.design)}
        marked = changed_parts(parent.design, step.design)
        changes = set(step.changes)
        for slot in marked:  # nothing is marked that the step did not change
            assert changes & set(fields[slot]), (step.name, slot, step.changes)
        drawn = changes - NOT_DRAWN
        for field in drawn:  # every architectural change is marked somewhere
            assert field in NETWORK_FIELDS + BLOCK_FIELDS + ("stem_stride",), field
            assert any(field in fields[slot] for slot in marked), (step.name, field)
        if drawn:
            assert marked, step.name
        else:
            assert not marked, step.name


def test_the_network_parts_show_depths_widths_and_downsampling():
    from models import named_design
    parts = {slot: text for slot, text, _ in network_parts(named_design("convnext_tiny"))}
    assert "9 blocks" in parts["stage3"] and "width 384" in parts["stage3"]
    assert "192 -> 384" in parts["down3"] and "down1" not in parts
    assert "LN" in parts["head"] and "patchify" in parts["stem"]
    resnet = {slot: text for slot, text, _ in network_parts(named_design("resnet50"))}
    assert not any(s.startswith("down") for s in resnet) and "max-pool" in resnet["stem"]


def test_the_chain_figure_is_drawn(tmp_path):
    paths = draw_chain_changes("resnet50-to-convnext-t", tmp_path / "changes")
    assert paths[0].stat().st_size > 10_000

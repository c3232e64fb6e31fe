from pathlib import Path

import pytest
import torch

from ablations.studies import steps as studies
from ablations.__main__ import main
from ablations.figures.diagram import describe, draw_step
from ablations.errors import UserError
from models import FIELDS, named_design
from models.roadmap import chain

CHAIN = "resnet50-to-convnext-t"


def test_one_at_a_time_applies_each_change_alone():
    steps = studies.one_at_a_time(CHAIN)
    base = chain(CHAIN)[1].design
    assert steps[0].design == base
    assert len(steps) == len(chain(CHAIN)) - 2 + 1
    for s in steps[1:]:
        diff = {f for f in FIELDS if getattr(s.design, f) != getattr(base, f)}
        assert diff == set(s.changes) - {"recipe"}, s.name


def test_leave_one_out_undoes_exactly_one_change():
    steps = studies.leave_one_out(CHAIN)
    last = chain(CHAIN)[-1].design
    assert steps[0].design == last
    for s in steps[1:]:
        diff = {f for f in FIELDS if getattr(s.design, f) != getattr(last, f)}
        assert diff == set(s.changes), s.name
    names = {s.name for s in steps}
    assert "without-gelu" in names and "without-inverted-bottleneck" in names


def test_custom_chain_from_yaml_and_toml(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("name: gelu-first\nstart: resnet50\nsteps:\n"
                 "  - {name: gelu, changes: {activation: gelu}}\n"
                 "  - {name: k5, changes: {kernel_size: 5}}\n")
    steps = studies.load_custom_chain(y)
    assert [s.name for s in steps] == ["start", "gelu", "k5"]
    assert steps[-1].design == named_design("resnet50").replace(activation="gelu", kernel_size=5)
    t = tmp_path / "c.toml"
    t.write_text('name = "t"\nstart = "resnet50"\n[[steps]]\nname = "ln"\n'
                 '[steps.changes]\nnorm = "layer"\n')
    assert studies.load_custom_chain(t)[-1].design.norm == "layer"


@pytest.mark.parametrize("text, needle", [
    ("steps:\n  - {changes: {kernal_size: 5}}\n", "kernal_size"),
    ("steps:\n  - {changes: {kernel_size: 4}}\n", "kernel_size"),
    ("foo: 1\nsteps: []\n", "foo"),
    ("steps: []\n", "non-empty"),
    ("steps: [\n", "cannot parse"),
    ("!!python/object/apply:os.system ['true']\n", "cannot parse"),
])
def test_custom_chain_errors_name_the_problem(tmp_path, text, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(UserError, match=needle):
        studies.load_custom_chain(f)


def test_sweep_and_parse():
    field, values = studies.parse_sweep("kernel_size=3,5,7")
    assert (field, values) == ("kernel_size", [3, 5, 7])
    steps = studies.sweep(field, values)
    assert [s.design.kernel_size for s in steps] == [3, 5, 7]
    assert studies.parse_sweep("depths=3-3-9-3,3-3-27-3")[1] == [(3, 3, 9, 3), (3, 3, 27, 3)]
    with pytest.raises(UserError, match="unknown toggle 'kernel'"):
        studies.sweep("kernel", [3])
    with pytest.raises(UserError, match="kernel_size"):
        studies.sweep("kernel_size", [4])


def test_cli_rejects_unknown_study_step(capsys):
    assert main(["run", "--study", "one-at-a-time", "--steps", "nope", "--preset", "smoke",
                 "--no-progress"]) == 2
    assert "nope" in capsys.readouterr().err


def test_describe_follows_the_design():
    r50 = describe(named_design("resnet50"))
    assert r50["stem"][0][0].startswith("7x7 conv")
    assert [k for _, k in r50["block"]].count("norm") == 3
    assert r50["shortcut"] and r50["after_add"]
    cnx = describe(named_design("convnext_tiny"))
    assert cnx["downsample"][1][0] == "2x2 conv /2\n96 -> 192"
    assert cnx["block"][0][0] == "7x7 depthwise conv\n192 -> 192"
    assert not cnx["shortcut"] and not cnx["after_add"]
    v2 = describe(named_design("convnextv2_atto"))
    assert ("GRN", "grn") in v2["block"]


@pytest.mark.parametrize("stage", [0, 1, 3])
def test_diagram_shortcuts_match_the_built_blocks(stage):
    # The diagram draws a projection shortcut exactly where the builder made one.
    from models import build
    from models.roadmap import chain

    for step in chain("resnet50-to-convnext-t"):
        design = step.design.replace(widths=tuple(w // 16 for w in step.design.widths))
        with torch.device("meta"):
            first_block = build(design).stages[stage].blocks[0]
        drawn = describe(design, stage)["shortcut"]
        assert bool(drawn) == (first_block.shortcut is not None), (step.name, stage)


def test_diagram_cli_writes_png(tmp_path):
    assert main(["diagram", "--step", "gelu", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "diagram_gelu.png").read_bytes()[:4] == b"\x89PNG"
    # --out is a folder written in every command; the image format is an option, never
    # guessed, and not --format (which names table formats)
    assert main(["diagram", "--step", "gelu", "--out", str(tmp_path), "--name", "k5",
                 "--image-format", "svg"]) == 0
    assert (tmp_path / "k5.svg").read_text().lstrip().startswith("<?xml")
    paths = draw_step(named_design("resnet50"), named_design("convnext_tiny"), "a", "b", tmp_path / "x.png")
    assert paths[0].stat().st_size > 5000


def test_compare_overlays_result_sets(tmp_path, capsys):
    for name, lr in (("a", "2e-3"), ("b", "1e-3")):
        assert main(["run", "--preset", "smoke", "--steps=modern-recipe,stage-ratio,patchify-stem", "--out", str(tmp_path / name),
                     "--no-progress", "--recipe-set", f"lr={lr}"]) == 0
    capsys.readouterr()
    assert main(["compare", f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}", "--out", str(tmp_path),
                 "--name", "cmp"]) == 0
    text = capsys.readouterr().out
    # steps 0-2 give two step gains: too few for a rank correlation, said per set
    assert "a: no rank correlation: 2 step gain(s)" in text and "b: no rank correlation" in text
    import pandas as pd

    table = pd.read_csv(tmp_path / "cmp.csv")
    assert {"a_top1", "b_top1", "a_gain_minus_paper"} <= set(table.columns)
    assert table.a_top1.notna().sum() == 3
    assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"


def test_a_sweep_over_an_old_field_name_is_an_unknown_toggle():
    from ablations.errors import UserError
    from ablations.studies.steps import study_steps

    with pytest.raises(UserError, match="unknown toggle 'activations'"):
        study_steps("sweep", "resnet50-to-convnext-t", sweep_spec="activations=all,one")
    label, steps = study_steps("sweep", "resnet50-to-convnext-t",
                               sweep_spec="activation_count=all,one")
    assert label == "sweep:activation_count@convnext_tiny"
    assert [s.design.activation_count for s in steps] == ["all", "one"]


def test_the_compute_matched_study_holds_every_variant_at_the_base_cost():
    from ablations.studies.steps import MATCH_TOLERANCE, one_at_a_time
    from ablations.run.runner import plan
    from ablations.train.recipe import run_preset
    from models import costs

    matched, plain = one_at_a_time(CHAIN, match_flops=True), one_at_a_time(CHAIN)
    base = costs(matched[0].design, with_fvcore=False).gflops
    by_name = {s.name: s for s in plain}
    assert "only-width-96" in by_name and "only-width-96" not in {s.name for s in matched}
    far = 0
    for s in matched[1:]:
        g = costs(s.design, with_fvcore=False).gflops
        assert abs(g / base - 1) <= MATCH_TOLERANCE, (s.name, g)
        unmatched = costs(by_name[s.name].design, with_fvcore=False).gflops
        far += abs(unmatched / base - 1) > MATCH_TOLERANCE
        assert s.changes == by_name[s.name].changes
    assert far >= 5  # the confound it removes: inverted bottleneck alone was 31.5 GFLOPs
    # a change that costs nothing keeps its design, so its stored runs are reused
    quick = run_preset("quick")
    same = [n for n in ("only-gelu", "only-bn-to-ln")
            if plan("a", [by_name[n]], quick, [0])[0].hash
            == plan("b", [next(s for s in matched if s.name == n)], quick, [0])[0].hash]
    assert same == ["only-gelu", "only-bn-to-ln"]


def test_two_sweeps_over_different_bases_stay_two_studies(tmp_path):
    from ablations.analysis.stats import all_stats
    from ablations.run.store import load

    out = str(tmp_path / "r")
    for base in ("resnet50", "convnext_tiny"):
        assert main(["run", "--preset", "smoke", "--study", "sweep", "--sweep",
                     "kernel_size=3,5", "--sweep-base", base, "--out", out,
                     "--no-progress", "--epochs", "1"]) == 0
    df = load(out)
    assert sorted(set(df.study)) == ["sweep:kernel_size@convnext_tiny",
                                     "sweep:kernel_size@resnet50"]
    assert set(all_stats(df).study) == set(df.study)
    assert main(["plot", "--results", out]) == 0
    assert {p.name for p in (tmp_path / "r").glob("sweep_*.png")} == {
        "sweep_kernel_size_on_convnext_tiny.png", "sweep_kernel_size_on_resnet50.png"}


def test_compare_pairs_the_runs_two_result_sets_share_in_any_study(tmp_path, capsys):
    import pandas as pd

    root = Path(__file__).resolve().parent.parent / "results"
    assert main(["compare", f"cpu={root / 'quick'}", f"gpu={root / 'quick-gpu'}", "--out",
                 str(tmp_path), "--name", "cmp"]) == 0
    text = capsys.readouterr().out
    shared = pd.read_csv(tmp_path / "cmp_shared.csv")
    gpu = pd.read_csv(root / "quick-gpu" / "results.csv")
    cpu = pd.read_csv(root / "quick" / "results.csv")
    keys = ["study", "preset", "step_name"]
    both = gpu[keys].drop_duplicates().merge(cpu[keys].drop_duplicates())
    assert len(shared) == len(both) >= 2  # every step the two folders share, scale cells too
    assert shared[["cpu_top1", "gpu_top1", "difference", "lo", "hi"]].notna().all().all()
    assert (shared.paired_seeds == 3).all()  # the same runs (hash, seed) on both devices
    assert "steps in every result set (2)" in text
    assert all(len(v.split(".")[-1]) <= 3 for v in
               (tmp_path / "cmp.csv").read_text().replace("\n", ",").split(",") if "." in v)


def test_a_block_diagram_of_a_later_stage_says_which_stages_it_leaves_out(tmp_path):
    """The stem joins the drawn stage through a box that names the stages left out, with
    their blocks and absolute channels (no silent jump from the stem to stage 2)."""
    import matplotlib.pyplot as plt

    from ablations.figures.diagram import draw_design

    fig, ax = plt.subplots()
    draw_design(ax, named_design("convnext_tiny"), "ConvNeXt-T", stage=2)
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    assert "stage 1: 3 blocks, 96 channels\n(not drawn)" in texts
    assert "stage 2: 3 blocks, 192 channels\n(not drawn)" in texts
    assert not any(t.startswith("stage 3:") for t in texts)
    assert any("384 -> 1536" in t for t in texts)  # the 4x expansion, in channels

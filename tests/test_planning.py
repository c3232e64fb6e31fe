"""One library API plans every study from plain values (issue 37): the command line only
parses its options into a ``StudyRequest``, so both plan the same runs (the same hashes), and
the library refuses what the command line refuses, with the same one line."""

import pytest

from ablations.__main__ import make_parser
from ablations.cli.run import request_of
from ablations.errors import UserError
from ablations.run.runner import ExecuteOptions
from ablations.studies import Launch, StudyRequest, plan_study, prepare
from ablations.studies.planning import backend_of


def _hashes(runs):
    return sorted((r.hash, r.seed, r.preset.name) for r in runs)


@pytest.mark.parametrize("argv,request_", [
    (["--preset", "lab", "--seeds", "3-4"], StudyRequest(preset="lab", seeds=(3, 4))),
    (["--study", "one-at-a-time", "--steps", "only-gelu,only-kernel-7", "--seeds", "2"],
     StudyRequest(study="one-at-a-time", steps=("only-gelu", "only-kernel-7"), seeds=(0, 1))),
    (["--study", "scale", "--grid", "train_images=7500 x regularisation=off,paper",
      "--seeds", "2"],
     StudyRequest(study="scale", grid="train_images=7500 x regularisation=off,paper",
                  seeds=(0, 1))),
    (["--study", "sweep", "--sweep", "kernel_size=3,9", "--set", "epochs=2"],
     StudyRequest(study="sweep", sweep="kernel_size=3,9", preset_changes={"epochs": 2})),
])
def test_the_cli_and_the_library_plan_the_same_runs(argv, request_):
    args = make_parser().parse_args(["run", *argv])
    from_cli = plan_study(request_of(args), estimate=False).runs
    from_library = plan_study(request_, estimate=False).runs
    assert from_cli and _hashes(from_cli) == _hashes(from_library)


def test_a_crossed_scale_grid_plans_every_combination_with_its_own_hashes():
    plan = plan_study(StudyRequest(study="scale", seeds=(0,),
                                   grid="train_images=7500 x regularisation=off,paper x "
                                        "epochs=6,24"))
    cells = {r.preset.name for r in plan.runs}
    assert cells == {"quick", "quick+train_images=7500",
                     "quick+train_images=7500+regularisation=paper",
                     "quick+train_images=7500+epochs=24",
                     "quick+train_images=7500+epochs=24+regularisation=paper"}
    assert len({r.hash for r in plan.runs}) == len(plan.runs) == 2 * len(cells)
    assert set(plan.estimate.cell) == cells  # the CPU minutes printed before training


def test_the_lab_preset_plans_its_own_eight_steps_unless_steps_are_named():
    assert len(plan_study(StudyRequest(preset="lab")).runs) == 8
    named = plan_study(StudyRequest(preset="lab", steps=("modern-recipe",))).runs
    assert [r.step.name for r in named] == ["modern-recipe"]


@pytest.mark.parametrize("launch,field", [
    (Launch(launcher="slurm"), "--partition"),
    (Launch(launcher="local", nproc=2), "--nproc"),
    (Launch(launcher="local", gpus_per_node=-1), "--gpus-per-node"),
    (Launch(launcher="cloud"), "--launcher"),
])
def test_a_launch_that_asks_two_things_or_lacks_one_is_one_error_line(launch, field):
    with pytest.raises(UserError, match=field):
        backend_of(launch)


@pytest.mark.parametrize("launch,backend", [(Launch(), "inprocess"), (Launch(jobs=2), "workers"),
                                             (Launch(nproc=2), "torchrun")])
def test_the_backend_follows_the_launch(launch, backend):
    assert backend_of(launch)[0] == backend


def test_prepare_refuses_before_anything_is_created(tmp_path):
    out = tmp_path / "never"
    with pytest.raises(UserError, match="--sync-bn"):
        prepare(StudyRequest(preset="smoke"), ExecuteOptions(out, sync_bn=True))
    with pytest.raises(UserError, match="--threads"):
        prepare(StudyRequest(preset="smoke"), ExecuteOptions(out, threads=0))
    with pytest.raises(UserError, match="not in study"):
        prepare(StudyRequest(study="leave-one-out", steps=("no-such-step",)),
                ExecuteOptions(out))
    assert not out.exists()

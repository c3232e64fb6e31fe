"""``--seeds`` takes a count, a range or a list (issue 36: each student of a class trains
other seeds, and the class pools them); bad input is one ``error:`` line."""

import pytest

from ablations.__main__ import main, make_parser
from ablations.cli.common import seed_list
from ablations.cli.run import request_of
from ablations.errors import UserError
from ablations.studies.planning import plan_study


@pytest.mark.parametrize("text,seeds", [("3", [0, 1, 2]), ("1", [0]), ("5-9", [5, 6, 7, 8, 9]),
                                        ("3,7", [3, 7]), ("7,3,3", [3, 7]), ("4-4", [4])])
def test_seeds_take_a_count_a_range_or_a_list(text, seeds):
    assert seed_list(text) == seeds


@pytest.mark.parametrize("text", ["0", "-2", "9-5", "x", "3,x", "1-2-3", "", ",", "-1,3"])
def test_bad_seeds_are_a_user_error_naming_the_option_and_its_forms(text):
    with pytest.raises(UserError, match="--seeds") as e:
        seed_list(text)
    assert "5-9" in str(e.value) and "3,7" in str(e.value)


@pytest.mark.parametrize("command", ["run", "replay"])
def test_run_preset_lab_seeds_3_to_5_plans_seeds_3_4_5(command):
    args = make_parser().parse_args([command, "--preset", "lab", "--seeds", "3-5"])
    runs = plan_study(request_of(args)).runs
    assert sorted({r.seed for r in runs}) == [3, 4, 5]
    assert len(runs) == 3 * len({r.step.name for r in runs}) == 24  # the lab's 8 steps


def test_the_default_is_seed_0_as_before():
    args = make_parser().parse_args(["run", "--preset", "lab"])
    assert seed_list(args.seeds) == [0]


@pytest.mark.parametrize("command", ["run", "replay"])
def test_bad_seeds_on_the_command_line_are_one_error_line(command, tmp_path, capsys):
    out = tmp_path / "r"
    argv = [command, "--preset", "smoke", "--seeds", "2-x", "--out", str(out), "--no-progress",
            "--device", "cpu"] + (["--reference", "none"] if command == "replay" else [])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --seeds='2-x'"), err
    assert not out.exists()  # nothing written


def test_a_range_trains_those_seeds(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "--preset", "smoke", "--steps", "separate-downsampling", "--seeds",
                 "3-4", "--out", str(out), "--no-progress", "--device", "cpu"]) == 0
    from ablations.run.store import load
    assert sorted(load(out).seed.astype(int)) == [3, 4]

"""Stored files are read as carefully as they are written: a damaged or foreign file is one
line naming it, set aside or refused, and the rest of the folder is still reported."""

import shutil

import pandas as pd
import pytest

from ablations.__main__ import main


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "r"
    assert main(["run", "--preset", "smoke", "--steps", "modern-recipe,layer-scale", "--seeds", "2", "--out",
                 str(out), "--no-progress", "--threads", "1"]) == 0
    return out


def _copy(finished, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(finished, dst)
    return dst


def test_damaged_predictions_are_set_aside_and_the_rest_is_reported(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    npz = sorted((out / "runs").glob("*/predictions.npz"))
    npz[0].write_bytes(b"not an npz")
    from ablations.run.store import StoreWarning

    with pytest.warns(StoreWarning, match="predictions.npz: unreadable predictions"):
        assert main(["stats", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "13 layer-scale - modern-recipe" in captured.out  # still reported
    assert not npz[0].exists() and npz[0].with_suffix(".corrupt").exists()


def test_a_foreign_results_table_is_one_line(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    (out / "labels.jsonl").unlink()
    (out / "results.csv").write_text("model,accuracy\nresnet,0.9\n")
    for command in ("show", "stats"):
        assert main([command, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "results.csv: not a results table" in err[0]
        assert "missing column(s)" in err[0]


def test_a_hand_edited_number_is_one_line_naming_the_row(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    (out / "labels.jsonl").unlink()
    table = pd.read_csv(out / "results.csv")
    table["top1"] = table["top1"].astype(object)
    table.loc[1, "top1"] = "ninety"
    table.to_csv(out / "results.csv", index=False)
    assert main(["show", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {out / 'results.csv'}: row 2: top1='ninety' is not a number; "
                   "allowed: a table written by `run`"]

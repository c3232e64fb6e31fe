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
        assert main(["stats", "--results", str(out)]) == 0
    captured = capsys.readouterr()
    assert "13 layer-scale - modern-recipe" in captured.out  # still reported
    assert not npz[0].exists() and npz[0].with_suffix(".corrupt").exists()


def test_a_foreign_results_table_is_one_line(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path)
    (out / "labels.jsonl").unlink()
    (out / "results.csv").write_text("model,accuracy\nresnet,0.9\n")
    for command in ("show", "stats"):
        assert main([command, "--results", str(out)]) == 2
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
    assert main(["show", "--results", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {out / 'results.csv'}: row 2: top1='ninety' is not a number; "
                   "allowed: a table written by `run`"]


@pytest.mark.parametrize("content", [b"\xff\x8a\x00 random bytes", b"[1, 2, 3]", b'"text"'])
def test_a_result_of_random_bytes_or_the_wrong_json_type_is_set_aside(tmp_path, content):
    from ablations.run.store import Store, StoreWarning

    store = Store(tmp_path)
    result = store.run_dir("abc") / "result.json"
    result.parent.mkdir(parents=True)
    result.write_bytes(content)
    with pytest.warns(StoreWarning, match="result.json: unreadable result"):
        assert store.finished("abc") is None  # not finished: trained again
    assert (result.parent / "result.corrupt").read_bytes() == content and not result.exists()


@pytest.mark.parametrize("name, content, what", [
    ("history.csv", b"", "empty"), ("history.csv", b"\x00\xff\x8a\x01" * 32, "history"),
    ("history.csv", b"a,b\n1,2\n", "no epoch column"),
    ("spec.json", b"\xff\x00not json", "not UTF-8"), ("spec.json", b"[1]", "not the run spec")])
def test_a_damaged_history_or_spec_is_one_line_naming_it(tmp_path, name, content, what):
    from ablations.errors import UserError
    from ablations.run.store import Store

    store = Store(tmp_path)
    path = store.run_dir("abc") / name
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with pytest.raises(UserError) as e:
        store.history("abc") if name == "history.csv" else store.spec("abc")
    text = str(e.value)
    assert str(path) in text and what in text and "expected" in text and "\n" not in text


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage\n", b'{"study": "x"}\n[1, 2]\n'])
def test_a_labels_table_with_foreign_bytes_or_lines_is_moved_aside(tmp_path, content):
    from ablations.errors import UserError
    from ablations.run.store import load

    (tmp_path / "labels.jsonl").write_bytes(content)
    with pytest.raises(UserError, match="labels.jsonl: line .* is not a row"):
        load(tmp_path)
    assert (tmp_path / "labels.corrupt").read_bytes() == content


def test_a_results_csv_that_is_a_folder_is_refused_before_a_run_trains(tmp_path):
    from ablations.errors import UserError
    from ablations.run.store import Store, load

    (tmp_path / "results.csv").mkdir()
    with pytest.raises(UserError, match="results.csv is a folder"):
        Store(tmp_path).check_files()
    with pytest.raises(UserError, match="results.csv is a folder"):
        load(tmp_path)


def test_files_written_whole_get_the_usual_mode_not_mkstemps_0600(tmp_path):
    import os

    from ablations.system.files import atomic_write_text

    path = tmp_path / "page.html"
    atomic_write_text(path, "<p>whole</p>")
    umask = os.umask(0)
    os.umask(umask)
    assert path.read_text() == "<p>whole</p>"
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask

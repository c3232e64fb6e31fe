"""``pool``: a class's results folders merged into one (issue 36): each (hash, seed) counted
once, a run with another top-1 reported as a conflict, another numerics version refused
with one line, and the paired verdicts printed over the union of seeds."""

import shutil

import pytest

from ablations.__main__ import main
from ablations.analysis import stats
from ablations.run.identity import NUMERICS_VERSION
from ablations.run.pool import format_seeds, pool
from ablations.run.store import Store, load

STEPS = "modern-recipe,stage-ratio"
FAST = ["--set", "epochs=1"]  # CPU is scarce: one epoch is enough to pool


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Two students' folders of the smoke preset: seeds 0-1 and 1-2 (seed 1 in both)."""
    root = tmp_path_factory.mktemp("class")
    for name, seeds in (("a", "0-1"), ("b", "1-2")):
        assert main(["run", "--preset", "smoke", "--steps", STEPS, "--seeds", seeds, *FAST,
                     "--out", str(root / name), "--no-progress", "--device", "cpu"]) == 0
    return root


def _edited_copy(src, dst, **changes):
    """A copy of the results folder ``src`` whose seed-1 modern-recipe row has ``changes``."""
    shutil.copytree(src, dst)
    store = Store(dst)
    row = next(r for r in store.table().to_dict("records")
               if r["seed"] == 1 and r["step_name"] == "modern-recipe")
    store.add_label({**{k: v for k, v in row.items() if v == v}, **changes})
    return dst


def test_the_pooled_folder_counts_each_run_once(folders, tmp_path, capsys):
    a, b = load(folders / "a"), load(folders / "b")
    assert len(a) == len(b) == 4
    out = tmp_path / "pooled"
    assert main(["pool", str(folders / "a"), str(folders / "b"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    pooled = load(out)
    assert len(pooled) == 6  # 2 steps x seeds 0, 1, 2: seed 1 once, not twice
    assert sorted(pooled.seed.astype(int).unique()) == [0, 1, 2]
    assert not pooled.duplicated(["config_hash", "seed"]).any()
    assert set(pooled.config_hash) == set(a.config_hash) | set(b.config_hash)
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(set(pooled.config_hash))
    assert "2 duplicate row(s) counted once, 0 conflict(s)" in text
    assert "seeds 0-2" in text and "paired over seeds" in text
    # the verdicts are over the union: 3 paired seeds
    assert stats.all_stats(pooled).seeds.tolist() == [3]
    # pooling again into the same folder adds nothing
    report = pool([folders / "a", folders / "b"], out)
    assert report.kept == 6 and len(load(out)) == 6


def test_a_run_with_another_top1_is_a_conflict_and_the_first_is_kept(folders, tmp_path, capsys):
    b = load(folders / "b")
    first = float(b[(b.seed == 1) & (b.step_name == "modern-recipe")].top1.iloc[0])
    other = _edited_copy(folders / "b", tmp_path / "other-cpu", top1=first + 1.5)
    out = tmp_path / "pooled"
    assert main(["pool", str(folders / "b"), str(other), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    conflicts = [line for line in text.splitlines() if line.startswith("conflict:")]
    assert len(conflicts) == 1 and f"{first:.2f}" in conflicts[0] \
        and f"{first + 1.5:.2f}" in conflicts[0], text
    pooled = load(out)
    assert len(pooled) == 4
    kept = pooled[(pooled.seed == 1) & (pooled.step_name == "modern-recipe")].top1
    assert kept.tolist() == [first]


def test_another_numerics_version_is_refused_with_one_line(folders, tmp_path, capsys):
    old = _edited_copy(folders / "b", tmp_path / "old", numerics_version=NUMERICS_VERSION - 1)
    out = tmp_path / "pooled"
    assert main(["pool", str(folders / "a"), str(old), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "numerics version" in err[0], err
    assert str(old) in err[0]
    assert not out.exists()  # refused before anything was written


def test_a_missing_folder_is_one_error_line(tmp_path, capsys):
    assert main(["pool", str(tmp_path / "nowhere"), "--out", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no results" in err[0]


def test_an_out_that_is_a_file_is_one_error_line(folders, tmp_path, capsys):
    out = tmp_path / "a-file"
    out.write_text("x")
    assert main(["pool", str(folders / "a"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a file" in err[0] and out.read_text() == "x"


def test_seeds_are_said_as_ranges():
    assert format_seeds([5, 0, 1, 2, 7, 8]) == "0-2, 5, 7-8"
    assert format_seeds([]) == "-"

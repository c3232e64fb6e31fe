"""Worker processes share a plan (--jobs): every run trained once; replay against a reference."""

import hashlib
import re
from pathlib import Path

from ablations.run import store as store_mod
from ablations.__main__ import main


def _trained_lines(out: Path) -> list[str]:
    lines = []
    for log in sorted((out / "logs").glob("worker-*.log")):
        lines += [l for l in log.read_text().splitlines() if re.search(r"top-1 [\d.]+%", l)]
    return lines


def test_two_workers_train_every_run_exactly_once(tmp_path, capsys):
    out = tmp_path / "res"
    args = ["run", "--preset", "smoke", "--steps=modern-recipe,stage-ratio,patchify-stem,separate-downsampling", "--seeds", "2", "--jobs", "2",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    trained = _trained_lines(out)
    assert len(trained) == 8 and len(set(trained)) == 8  # 4 steps x 2 seeds, none twice
    workers = {log.name for log in (out / "logs").glob("worker-*.log") if _trained_lines(out)}
    assert len(workers) == 2
    df = store_mod.load(out)
    assert len(df) == 8 and df.config_hash.is_unique and (df.status == "ok").all()
    assert main(args) == 0  # a rerun finds everything done: no new training
    assert len(_trained_lines(out)) == 8


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_replay_trains_seed_zero_beside_the_reference_seeds(tmp_path, capsys):
    ref = tmp_path / "committed"
    assert main(["run", "--preset", "smoke", "--steps=modern-recipe,stage-ratio,patchify-stem", "--seeds", "3", "--jobs", "2",
                 "--out", str(ref), "--no-progress"]) == 0
    before = _digest(ref)
    out = tmp_path / "fresh"
    capsys.readouterr()
    assert main(["replay", "--preset", "smoke", "--steps=modern-recipe,stage-ratio,patchify-stem", "--reference", str(ref),
                 "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "seeds 1, 2 from" in text and "seed(s) 0 trained here from scratch" in text
    assert "fresh replay reproduces within noise: 3/3 steps" in text
    assert "3/3 bit-identical" in text  # same machine, torch and threads as the reference
    assert len(_trained_lines(out)) == 3  # only seed 0 was trained
    assert len(store_mod.load(out)) == 9
    assert _digest(ref) == before  # the reference folder is only read
    for name in ("roadmap.png", "gain_vs_paper.png", "reproduction.csv"):
        assert (out / name).is_file()


def test_replay_with_a_missing_reference_is_an_error(tmp_path, capsys):
    assert main(["replay", "--preset", "smoke", "--steps=modern-recipe", "--reference",
                 str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "--reference" in capsys.readouterr().err

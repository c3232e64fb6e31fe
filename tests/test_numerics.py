"""Results that cannot go stale: same config -> identical numbers; numerics version in the hash."""

import hashlib
import json
import os
import platform
from pathlib import Path

import numpy as np
import pytest
import torch

from ablations.run import identity, runner
from ablations.run import store as store_mod
from ablations.__main__ import main
from ablations.train.recipe import run_preset
from models.roadmap import chain

CHAIN = "resnet50-to-convnext-t"
FINGERPRINTS = Path(__file__).with_name("numerics_fingerprint.json")


def _train(out: Path, steps=(1, -1)):
    all_steps = chain(CHAIN)
    runs = runner.plan(CHAIN, [all_steps[i] for i in steps], run_preset("smoke"), [0])
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runner.execute(runs, runner.ExecuteOptions(out, progress=False), log=lambda *_: None)
    finally:
        torch.set_num_threads(old)
    return runs


def _environment_key() -> str:
    return (f"v{identity.NUMERICS_VERSION}|synthetic v{identity.SYNTHETIC_VERSION}|torch {torch.__version__}|{platform.machine()}|"
            f"{torch.backends.cpu.get_cpu_capability()}|1 thread")


def _fingerprint(out: Path, runs) -> str:
    s = store_mod.Store(out)
    h = hashlib.sha256()
    for r in runs:
        p = s.predictions(r.hash)
        h.update(p["pred"].tobytes() + p["p_true"].tobytes())
        h.update(repr(s.finished(r.hash)["top1"]).encode())
    return h.hexdigest()[:16]


def test_two_trainings_of_one_config_are_bit_identical(tmp_path):
    runs = _train(tmp_path / "a")
    _train(tmp_path / "b")
    a, b = store_mod.Store(tmp_path / "a"), store_mod.Store(tmp_path / "b")
    for r in runs:
        ra, rb = a.finished(r.hash), b.finished(r.hash)
        assert ra["top1"] == rb["top1"] and ra["train_loss"] == rb["train_loss"]
        pa, pb = a.predictions(r.hash), b.predictions(r.hash)
        assert len(pa["pred"]) == 512  # one per test image of the smoke data
        for k in ("label", "pred", "p_true"):
            assert np.array_equal(pa[k], pb[k]), k
        assert pa["pred"].dtype == np.int16 and pa["p_true"].dtype == np.float16
        # accuracy recomputed from the stored predictions is the reported top-1
        assert 100 * np.mean(pa["pred"] == pa["label"]) == pytest.approx(ra["top1"])


def test_numerics_fingerprint_matches_the_recorded_one(tmp_path):
    """Fails when the code trains the smoke config to other numbers without a version bump.

    Fingerprints are per environment (torch, CPU kernels, threads); record this one with
    RECORD_NUMERICS_FINGERPRINT=1 after bumping ``ablations.run.identity.NUMERICS_VERSION``
    (a change of the code) or ``identity.SYNTHETIC_VERSION`` (of the generated data).
    """
    runs = _train(tmp_path)
    got = _fingerprint(tmp_path, runs)
    recorded = json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.exists() else {}
    key = _environment_key()
    if os.environ.get("RECORD_NUMERICS_FINGERPRINT"):
        recorded[key] = got
        FINGERPRINTS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    if key not in recorded:
        pytest.skip(f"no fingerprint recorded for {key}")
    assert got == recorded[key], (
        "the smoke config now trains to other numbers: bump ablations.run.identity.NUMERICS_VERSION "
        "and record the new fingerprint (RECORD_NUMERICS_FINGERPRINT=1)")


def test_a_new_numerics_version_retrains_and_old_rows_are_stale(tmp_path, monkeypatch, capsys):
    out = tmp_path / "res"
    runs = _train(out, steps=(1,))
    old_hash = runs[0].hash
    first = {p.name for p in (out / "runs").iterdir()}
    _train(out, steps=(1,))  # same version: reused, nothing new
    assert {p.name for p in (out / "runs").iterdir()} == first
    assert main(["show", "--results", str(out)]) == 0
    assert "STALE" not in capsys.readouterr().out

    new_version = identity.NUMERICS_VERSION + 1
    monkeypatch.setattr(identity, "NUMERICS_VERSION", new_version)
    assert runner.plan(CHAIN, [chain(CHAIN)[1]], run_preset("smoke"), [0])[0].hash != old_hash
    assert main(["show", "--results", str(out)]) == 0
    assert "1 STALE rows" in capsys.readouterr().out  # the table says so before a rerun
    _train(out, steps=(1,))
    new = {p.name for p in (out / "runs").iterdir()} - first
    assert len(new) == 1  # trained again under the new version
    result = json.loads((out / "runs" / new.pop() / "result.json").read_text())
    assert result["numerics_version"] == identity.NUMERICS_VERSION
    assert main(["show", "--results", str(out)]) == 0
    assert "STALE" not in capsys.readouterr().out  # the label's row now comes from the rerun

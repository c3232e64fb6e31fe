"""kill -9 in the middle of a replay loses at most the epoch in flight; the rerun ends
with exactly the numbers of a run that was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["-m", "ablations", "run", "--preset", "smoke", "--steps=modern-recipe,separate-downsampling", "--epochs", "3",
        "--threads", "1", "--no-progress", "--device", "cpu"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _run(out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *ARGS, "--out", str(out)], capture_output=True,
                          text=True, cwd=ROOT, env=ENV, timeout=600)


def _by_step(out: Path) -> dict[str, dict]:
    rows = pd.read_csv(out / "results.csv").to_dict("records")
    return {r["step_name"]: r for r in rows}


def test_sigkill_mid_epoch_then_resume_gives_the_uninterrupted_numbers(tmp_path):
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert _run(clean).returncode == 0

    proc = subprocess.Popen([sys.executable, *ARGS, "--out", str(killed)], cwd=ROOT, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait until step 0 is finished and step 12 has written its first epoch checkpoint,
    # then kill in the middle of its next epoch.
    deadline = time.monotonic() + 300
    first_result = None
    while time.monotonic() < deadline and proc.poll() is None:
        results = list(killed.glob("runs/*/result.json"))
        ckpts = list(killed.glob("runs/*/checkpoint.pt"))
        if len(results) == 1 and any(c.parent != results[0].parent for c in ckpts):
            first_result = results[0]
            break
        time.sleep(0.05)
    assert first_result is not None, "the replay did not reach step 12's first checkpoint"
    time.sleep(0.5)  # inside the second epoch of step 12
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    saved = first_result.read_text()
    in_flight = [c for c in killed.glob("runs/*/checkpoint.pt") if c.parent != first_result.parent]
    assert in_flight, "the in-flight run's checkpoint is kept"

    rerun = _run(killed)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "modern-recipe s0: top-1" not in rerun.stdout  # finished step not trained again
    assert "separate-downsampling s0: top-1" in rerun.stdout
    assert first_result.read_text() == saved  # finished result untouched

    a, b = _by_step(clean), _by_step(killed)
    assert set(a) == set(b) == {"modern-recipe", "separate-downsampling"}
    for step in a:
        for col in ("top1", "top5", "train_loss", "config_hash"):
            assert a[step][col] == b[step][col], (step, col)
        ha = pd.read_csv(clean / "runs" / a[step]["config_hash"] / "history.csv")
        hb = pd.read_csv(killed / "runs" / b[step]["config_hash"] / "history.csv")
        cols = ["epoch", "train_loss", "test_top1", "test_top5", "lr"]
        assert ha[cols].equals(hb[cols]), step
    spec = json.loads((killed / "runs" / b["separate-downsampling"]["config_hash"]
                       / "result.json").read_text())
    assert spec["status"] == "ok"

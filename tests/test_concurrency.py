"""Many processes, one results folder: each run trained once, nothing lost, clean stops."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from ablations.run import store as store_mod

ROOT = Path(__file__).resolve().parent.parent
# Small and slow enough to be caught mid-run: 8-image batches, 4 epochs of 512 images.
SMOKE = ["--preset", "smoke", "--set", "batch_size=8", "--set", "epochs=4", "--seeds", "1",
         "--threads", "1", "--no-progress"]


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and children
    # inherit that: Python then installs no Ctrl-C handler. Restore the default, as a
    # terminal would give, so that the SIGINT test tests the toolkit, not how pytest ran.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(out: Path, steps: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ablations", "run", *SMOKE, f"--steps={steps}",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


def _starts(out: Path) -> dict[str, list[str]]:
    return {d.name: (d / "train.log").read_text().splitlines()
            for d in (out / "runs").iterdir() if (d / "train.log").exists()}


def _wait_for_checkpoint_of(out: Path, pid: int, timeout: float = 60) -> Path:
    """A run folder the process ``pid`` is training, once its first checkpoint exists."""
    end = time.time() + timeout
    while time.time() < end:
        for d in (out / "runs").glob("*"):
            log = d / "train.log"
            if (log.exists() and f"pid {pid} start" in log.read_text()
                    and (d / "checkpoint.pt").exists() and not (d / "result.json").exists()):
                return d
        time.sleep(0.02)
    raise AssertionError(f"process {pid} never checkpointed a run")


def test_processes_on_one_folder_train_each_run_once(tmp_path):
    out = tmp_path / "res"
    procs = [_start(out, s) for s in ("0,1,2,3", "2,3,0,1", "1,3,0,2")]
    victim = procs[1]
    killed_run = _wait_for_checkpoint_of(out, victim.pid)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    restarted = _start(out, "2,3,0,1")
    outputs = [p.communicate(timeout=240) for p in (procs[0], procs[2], restarted)]
    codes = [p.returncode for p in (procs[0], procs[2], restarted)]
    assert codes == [0, 0, 0], outputs
    assert victim.returncode == -signal.SIGKILL
    for stdout, stderr in outputs:
        assert "Traceback" not in stderr and "Traceback" not in stdout
    starts = _starts(out)
    assert len(starts) == 4
    for name, lines in starts.items():
        from_scratch = [l for l in lines if "start at epoch 0/" in l]
        finished = [l for l in lines if "finished" in l]
        assert len(from_scratch) == 1 and len(finished) == 1, (name, lines)
    # the killed run was resumed from its checkpoint by another process, not retrained
    resumed = [l for l in starts[killed_run.name] if "start at epoch" in l and "epoch 0/" not in l]
    assert len(resumed) == 1 and f"pid {victim.pid}" not in resumed[0]
    table = store_mod.load(out)
    assert len(table) == 4 and table.config_hash.is_unique and (table.status == "ok").all()
    assert not list(out.rglob("*.tmp"))


def test_sigint_keeps_the_checkpoint_and_a_rerun_gives_the_same_numbers(tmp_path):
    calm = tmp_path / "calm"
    assert subprocess.run([sys.executable, "-m", "ablations", "run", *SMOKE, "--steps=separate-downsampling",
                           "--out", str(calm)], cwd=ROOT, capture_output=True).returncode == 0
    out = tmp_path / "stopped"
    p = _start(out, "12")
    run_dir = _wait_for_checkpoint_of(out, p.pid)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "stopped (SIGINT)" in stderr and "checkpoint after epoch" in stderr
    assert "rerun the same command to resume" in stderr
    assert (run_dir / "checkpoint.pt").exists() and not (run_dir / "result.json").exists()
    rerun = subprocess.run([sys.executable, "-m", "ablations", "run", *SMOKE, "--steps=separate-downsampling",
                            "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    lines = (run_dir / "train.log").read_text().splitlines()
    assert any("start at epoch 0/" in l for l in lines)
    assert sum("start at epoch" in l and "epoch 0/" not in l for l in lines) == 1  # resumed
    a, b = store_mod.load(calm).iloc[0], store_mod.load(out).iloc[0]
    assert a.config_hash == b.config_hash
    assert (a.top1, a.train_loss) == (b.top1, b.train_loss)
    ha = pd.read_csv(calm / "runs" / a.config_hash / "history.csv")
    hb = pd.read_csv(out / "runs" / b.config_hash / "history.csv")
    assert ha.train_loss.tolist() == hb.train_loss.tolist()


def test_sigterm_is_a_clean_stop_too(tmp_path):
    out = tmp_path / "res"
    p = _start(out, "12")
    _wait_for_checkpoint_of(out, p.pid)
    p.send_signal(signal.SIGTERM)
    _, stderr = p.communicate(timeout=60)
    assert p.returncode == 143 and "stopped (SIGTERM)" in stderr and "Traceback" not in stderr


def test_named_data_dir_that_does_not_exist_is_an_error(tmp_path, capsys):
    from ablations.__main__ import main

    rc = main(["run", "--preset", "smoke", "--dataset", "fashion-mnist", "--data-dir",
               str(tmp_path / "nonexistent"), "--out", str(tmp_path / "o")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "--data-dir" in err and "nonexistent" in err
    assert not (tmp_path / "o" / "runs").exists()


def test_named_data_dir_records_the_folder_read(tmp_path):
    # a folder with the idx files is read, and the run's record names it
    from ablations.data import datasets as data

    src = Path(data.FASHION_MNIST_SYSTEM_DIR)
    if not (src / "t10k-images-idx3-ubyte.gz").exists():
        import pytest
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    folder = tmp_path / "fm"
    folder.mkdir()
    for f in src.iterdir():
        os.symlink(f, folder / f.name)
    assert data.load("fashion-mnist", "test", str(folder)).source == str(folder.resolve())
    assert data.load("fashion-mnist", "test").source == str(src.resolve())

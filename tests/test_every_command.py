"""Every sub-command walked with bad input (issue 39): each case is one ``error:`` line on
stderr and exit code 2 (never a traceback), and writes nothing - not in the working folder,
not in the folders it names, not in the results it reads.

The table grows with the parser: every option of every command that takes a value (a path,
a number or a name) needs at least one case below (options with ``choices`` get one from
the parser itself), so a command or option added without a case fails
``test_every_option_of_every_command_has_a_case``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest

from ablations.__main__ import main, make_parser

# (command, option it tests, arguments, a piece of the error line). Placeholders: {r} a
# results folder with one finished smoke run, {f} a folder of bad files, {jpg} a small
# image folder, {csv} a bench table; {store:KIND} a fresh copy of {r} damaged as KIND says
# (see DAMAGE). The arguments follow the command's BASE arguments (later options win).
RUN_CASES = [
    ("--custom", ["--study", "custom", "--custom", "{f}/missing.yaml"], "missing.yaml"),
    ("--custom", ["--study", "custom", "--custom", "{f}/twice.yaml"], "twice"),
    ("--custom", ["--study", "custom", "--custom", "{f}/no_change.yaml"], "changes nothing"),
    ("--sweep", ["--study", "sweep", "--sweep", "nope=1,2"], "nope"),
    ("--grid", ["--study", "scale", "--grid", "nope=1"], "nope"),
    ("--grid", ["--study", "scale", "--grid", "epochs=1 x epochs=2"], "twice"),
    ("--sweep-base", ["--study", "sweep", "--sweep", "kernel_size=3,5", "--sweep-base", "nope"],
     "nope"),
    ("--seeds", ["--seeds", "0"], "must be >= 1"),
    ("--steps", ["--steps", "nope"], "nope"),
    ("--steps", ["--steps", ","], "--steps"),
    ("--dataset", ["--dataset", "nope"], "nope"),
    ("--data-dir", ["--dataset", "imagefolder", "--data-dir", "{f}/missing"], "missing"),
    ("--epochs", ["--epochs", "0"], "must be >= 1"),
    ("--set", ["--set", "nope=1"], "nope"),
    ("--recipe-set", ["--recipe-set", "auto_augment=rand-m99"], "rand-m99"),
    ("--recipe-set", ["--steps", "modern-recipe", "--recipe-set", "task=fcmae"], "FCMAE"),
    ("--out", ["--out", ""], "--out"),
    ("--out", ["--out", "{f}/a-file/sub"], "a-file"),
    ("--out", ["--out", "{store:results-csv-folder}"], "results.csv"),
    ("--device", ["--device", "tpu"], "--device"),
    ("--device", ["--device", "cuda:99"], "--device"),
    ("--threads", ["--threads", "0"], "--threads"),
    ("--jobs", ["--jobs", "0"], "must be >= 1"),
    ("--nproc", ["--nproc", "0"], "must be >= 1"),
    ("--batch-per-device", ["--batch-per-device", "0"], "must be >= 1"),
    ("--plan", ["--plan", "nope"], "--plan"),
    ("--plan", ["--plan", "a100", "--recipe-set", "mixup=0.8", "--recipe-set", "mix_batch=100"],
     "mix_batch"),
    ("--plan", ["--plan", "a100", "--steps", ","], "--steps"),
    ("--plan", ["--plan", "a100", "--dataset", "imagefolder", "--data-dir", "{f}/missing"],
     "missing"),
    ("--plan", ["--plan", "a100x\u0668"], "a100x"),  # an Arabic-Indic digit 8
    ("--plan", ["--plan", "a100", "--preset", "paper", "--dataset", "imagefolder",
                "--data-dir", "{jpg_no_val}"], "val"),
    ("--workers", ["--workers", "0"], "must be >= 1"),
    ("--workers", ["--workers", "100000"], "--workers"),
    ("--partition", ["--launcher", "slurm", "--partition", ""], "--partition"),
    ("--nodes", ["--nodes", "0"], "must be >= 1"),
    ("--gpus-per-node", ["--launcher", "local", "--gpus-per-node", "-1"], "--gpus-per-node"),
    ("--cpus-per-task", ["--cpus-per-task", "0"], "must be >= 1"),
    ("--timeout-min", ["--timeout-min", "0"], "must be >= 1"),
    ("--jobs-dir", ["--launcher", "local", "--jobs-dir", "{f}/a-file/sub"], "a-file"),
]

CASES = [
    ("costs", "--models", ["--models", "nope"], "nope"),
    ("costs", "--resolution", ["--resolution", "0"], "must be >= 1"),
    *[("run", option, argv, message) for option, argv, message in RUN_CASES],
    *[("replay", option, argv, message) for option, argv, message in RUN_CASES],
    ("replay", "--reference", ["--reference", "{f}/missing"], "--reference"),
    ("replay", "--reference", ["--reference", "{r}", "--preset", "quick"], "--reference"),
    ("replay", "--reference", ["--reference", "{store:labels-bytes}"], "labels.jsonl"),
    ("plot", "--results", ["--results", "{f}/missing"], "no results"),
    ("plot", "--results", ["--results", ""], "--results"),
    ("plot", "--results", ["--results", "{store:history-binary}"], "history.csv"),
    ("plot", "--results", ["--results", "{store:history-empty}"], "history.csv"),
    ("plot", "--image-format", ["--results", "{r}", "--style", "paper", "--image-format", "gif"],
     "--image-format"),
    ("plot", "--width", ["--results", "{r}", "--style", "paper", "--width", "0"], "--width"),
    ("plot", "--steps", ["--results", "{r}", "--style", "paper", "--steps", "nope"], "nope"),
    ("plot", "--cell", ["--results", "{r}", "--style", "paper", "--cell", "nope"], "nope"),
    ("plot", "--cell", ["--results", "{r}", "--cell", "quick"], "--style paper"),
    ("show", "--results", ["--results", "{f}/missing"], "no results"),
    ("show", "--results", ["--results", "{store:labels-bytes}"], "labels.jsonl"),
    ("show", "--results", ["--results", "{store:labels-foreign-line}"], "labels.jsonl"),
    ("show", "--results", ["--results", "{store:results-csv-folder-only}"], "results.csv"),
    ("show", "--study", ["--results", "{r}", "--study", "nope"], "nope"),
    ("stats", "--results", ["--results", "{f}/missing"], "no results"),
    ("stats", "--results", ["--results", "{store:labels-foreign-line}"], "labels.jsonl"),
    ("stats", "--results", ["--results", "{r}", "--write", "--results", "{f}/a-file"], "a-file"),
    ("compare", "results", ["{f}/missing"], "no results"),
    ("compare", "results", ["{store:labels-bytes}"], "labels.jsonl"),
    ("compare", "--out", ["{r}", "--out", "{f}/a-file"], "a-file"),
    ("compare", "--out", ["{r}", "--out", ""], "--out"),
    ("compare", "--name", ["{r}", "--name", "../x"], "--name"),
    ("diagram", "--step", ["--step", "nope"], "nope"),
    ("diagram", "--model", ["--model", "nope"], "nope"),
    ("diagram", "--model", ["--model", "swin_t"], "swin_t"),
    ("diagram", "--out", ["--out", "{f}/a-file"], "a-file"),
    ("diagram", "--out", ["--out", ""], "--out"),
    ("diagram", "--name", ["--name", "../x"], "--name"),
    ("bench", "--models", ["--models", "nope"], "nope"),
    ("bench", "--steps", ["--steps", "nope"], "nope"),
    ("bench", "--batch-size", ["--batch-size", "0"], "must be >= 1"),
    ("bench", "--resolution", ["--resolution", "0"], "must be >= 1"),
    ("bench", "--dtype", ["--dtype", "float8"], "--dtype"),
    ("bench", "--mode", ["--mode", "fly"], "--mode"),
    ("bench", "--device", ["--device", "tpu"], "--device"),
    ("bench", "--device", ["--device", "cuda:99"], "--device"),
    ("bench", "--threads", ["--threads", "0"], "--threads"),
    ("bench", "--windows", ["--windows", "0"], "must be >= 1"),
    ("bench", "--min-window-s", ["--min-window-s", "-1"], "--min-window-s"),
    ("bench", "--tag", ["--tag", "../x"], "--tag"),
    ("bench", "--out", ["--out", "{f}/a-file"], "a-file"),
    ("bench", "--out", ["--out", ""], "--out"),
    ("bench-plot", "--from-csv", ["--from-csv", "{f}/missing.csv"], "missing.csv"),
    ("bench-plot", "--from-csv", ["--from-csv", "{f}/foreign.csv"], "foreign.csv"),
    ("bench-plot", "--from-csv", ["--from-csv", "{f}/binary.csv"], "binary.csv"),
    ("bench-plot", "--out", ["--from-csv", "{csv}", "--out", "{f}/a-file"], "a-file"),
    ("cost-vs-resolution", "--models", ["--models", "nope"], "nope"),
    ("cost-vs-resolution", "--resolutions", ["--resolutions", "x"], "--resolutions"),
    ("cost-vs-resolution", "--resolutions", ["--resolutions", "0"], "--resolutions"),
    ("cost-vs-resolution", "--time-resolutions", ["--time-resolutions", "x"], "--time-resolutions"),
    ("cost-vs-resolution", "--device", ["--device", "tpu"], "--device"),
    ("cost-vs-resolution", "--threads", ["--threads", "0"], "--threads"),
    ("cost-vs-resolution", "--repeats", ["--repeats", "0"], "must be >= 1"),
    ("cost-vs-resolution", "--tag", ["--tag", "../x"], "--tag"),
    ("cost-vs-resolution", "--out", ["--out", "{f}/a-file"], "a-file"),
    ("cost-vs-resolution", "--from-csv", ["--from-csv", "{f}/missing.csv"], "missing.csv"),
    ("cost-vs-resolution", "--from-csv", ["--from-csv", "{f}/foreign.csv"], "foreign.csv"),
    ("collapse", "--results", ["--results", "{f}/missing"], "no results"),
    ("collapse", "--results", ["--results", "{store:checkpoint-truncated}", "--steps", "s=" + "{step}"],
     "checkpoint.pt"),
    ("collapse", "--results", ["--results", "{store:spec-damaged}", "--steps", "s={step}"], "spec.json"),
    ("collapse", "--steps", ["--results", "{r}", "--steps", "nope"], "nope"),
    ("collapse", "--images", ["--images", "0"], "must be >= 1"),
    ("collapse", "--data-dir", ["--results", "{r}", "--steps", "s={step}", "--data-dir",
                                "{f}/missing"], "missing"),
    ("bench-data", "--data-dir", ["--data-dir", "{f}/missing"], "missing"),
    ("bench-data", "--step", ["--step", "nope"], "nope"),
    ("bench-data", "--set", ["--set", "nope=1"], "nope"),
    ("bench-data", "--recipe-set", ["--recipe-set", "auto_augment=rand-m99"], "rand-m99"),
    ("bench-data", "--batch-size", ["--batch-size", "0"], "must be >= 1"),
    ("bench-data", "--workers", ["--workers", "-1"], "--workers"),
    ("bench-data", "--workers", ["--workers", "100000"], "--workers"),
    ("bench-data", "--batches", ["--batches", "0"], "must be >= 1"),
    ("bench-data", "--device", ["--device", "tpu"], "--device"),
    ("bench-data", "--threads", ["--threads", "0"], "--threads"),
    ("bench-data", "--append-csv", ["--append-csv", "{f}/a-file/x.csv"], "a-file"),
    ("bench-data", "--append-csv", ["--append-csv", ""], "--append-csv"),
    ("bench-data", "--append-csv", ["--append-csv", "{f}/foreign.csv"], "foreign.csv"),
    ("pool", "folders", ["{f}/missing", "--out", "p"], "missing"),
    ("pool", "folders", ["{store:labels-bytes}", "--out", "p"], "labels.jsonl"),
    ("pool", "--out", ["{r}", "--out", ""], "--out"),
    ("pool", "--out", ["{r}", "--out", "{f}/a-file"], "a-file"),
    ("report", "--results", ["--results", "{f}/missing"], "no results"),
    ("report", "--results", ["--results", "{store:history-binary}"], "history.csv"),
    ("report", "--file", ["--results", "{r}", "--file", "{f}/empty-folder"], "--file"),
    ("report", "--file", ["--results", "{r}", "--file", ""], "--file"),
]

BASE = {
    "run": ["--preset", "smoke", "--out", "o", "--device", "cpu", "--no-progress"],
    "replay": ["--preset", "smoke", "--out", "o", "--device", "cpu", "--no-progress",
               "--reference", "none"],
    "bench": ["--models", "resnet50", "--device", "cpu", "--windows", "1",
              "--min-window-s", "0.01", "--no-references", "--no-plot", "--out", "o"],
    "bench-data": ["--data-dir", "{jpg}", "--device", "cpu", "--batches", "1",
                   "--no-progress", "--workers", "0"],
    "cost-vs-resolution": ["--models", "resnet50", "--resolutions", "32", "--time-resolutions", "",
                "--device", "cpu", "--no-memory", "--out", "o"],
    "collapse": ["--images", "8"],
    "diagram": ["--out", "o"],
    "compare": ["--out", "o"],
}
"""Arguments in front of each case's: small, CPU, written inside the case's folder."""

ENV_CASES = [
    (["run"], {"WORLD_SIZE": "2"}, "RANK"),
    (["replay"], {"WORLD_SIZE": "2"}, "RANK"),
    (["run", "--device", "cuda"], {"CUDA_VISIBLE_DEVICES": ""}, "--device"),
]
"""(arguments, environment, a piece of the error line): the launcher's and the device's
environment, checked before anything is created."""


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _valued_options(p: argparse.ArgumentParser) -> list[argparse.Action]:
    """The options of a command that take a value (not --help, flags or hidden aliases)."""
    return [a for a in p._actions if a.nargs != 0 and a.help != argparse.SUPPRESS
            and not isinstance(a, argparse._HelpAction)]


def _name(action: argparse.Action) -> str:
    return action.option_strings[0] if action.option_strings else action.dest


def _choice_cases() -> list[tuple]:
    """One value outside ``choices`` per option that has them (argparse's own check)."""
    return [(command, _name(a), [_name(a), "nope"], _name(a))
            for command, p in _commands().items() for a in _valued_options(p)
            if a.choices is not None]


ALL_CASES = CASES + _choice_cases()


def test_every_option_of_every_command_has_a_case():
    covered = {(command, option) for command, option, *_ in ALL_CASES}
    missing = [f"{command} {_name(a)}" for command, p in _commands().items()
               for a in _valued_options(p) if (command, _name(a)) not in covered]
    assert not missing, f"options without a bad-input case: {', '.join(missing)}"
    assert {c for c, *_ in ALL_CASES} == set(_commands())
    unknown = [(c, o) for c, o, *_ in CASES
               if o not in {_name(a) for a in _valued_options(_commands()[c])}]
    assert not unknown  # a case for an option the command no longer has


# How a copy of the smoke results folder is damaged: (path inside it, bytes or a folder).
DAMAGE = {
    "labels-bytes": ("labels.jsonl", b"\xff\xfe\x00garbage\x80\n"),
    "labels-foreign-line": ("labels.jsonl", b'{"study": "x"}\n[1, 2, 3]\n'),
    "history-binary": ("runs/*/history.csv", b"\x00\xff\x8a\x01" * 64),
    "history-empty": ("runs/*/history.csv", b""),
    "spec-damaged": ("runs/*/spec.json", b"\xff\x00not json"),
    "checkpoint-truncated": ("runs/*/checkpoint.pt", "truncate"),
    "results-csv-folder": ("results.csv", "folder"),
    "results-csv-folder-only": ("results.csv", "folder-only"),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A results folder with one finished smoke run, the bad files, an image folder."""
    from ablations.data import folders

    root = tmp_path_factory.mktemp("world")
    _finished_store(root / "r")
    f = root / "f"
    f.mkdir()
    (f / "twice.yaml").write_text(
        "name: c\nstart: resnet50\nsteps:\n  - {name: s, changes: {kernel_size: 7}}\n"
        "  - {name: s, changes: {kernel_size: 5}}\n")
    (f / "no_change.yaml").write_text(
        "name: c\nstart: resnet50\nsteps:\n  - {name: s, changes: {kernel_size: 7}}\n"
        "  - {name: t, changes: {kernel_size: 7}}\n")
    (f / "foreign.csv").write_text("a,b\n1,2\n")
    (f / "binary.csv").write_bytes(b"\x00\xff\x8a\x01" * 64)
    (f / "a-file").write_text("not a folder")
    (f / "empty-folder").mkdir()
    jpg = Path(folders.write_jpeg_folder(root / "jpg", classes=2, per_class=2, size=32))
    shutil.copytree(jpg / "train", root / "jpg-no-val" / "train")
    csv = root / "bench_cpu.csv"
    csv.write_text("mode,dtype,model,images_per_s\ninfer,float32,resnet50,10\n")
    step = json.loads(next((root / "r" / "runs").glob("*/spec.json")).read_text())
    return {"root": root, "r": root / "r", "f": f, "jpg": jpg, "csv": csv,
            "jpg_no_val": root / "jpg-no-val",
            "step": step["labels"]["step_name"]}


def _finished_store(out: Path) -> None:
    """A results folder holding one finished smoke run of separate-downsampling, written
    through the store as ``run`` writes it (its spec, an untrained model's checkpoint, a
    history, predictions, its row), without the seconds of training."""
    import numpy as np
    import torch
    from models import build
    from models.roadmap import DEFAULT_CHAIN, find_step

    from ablations.run import identity, runner
    from ablations.run.store import Store
    from ablations.train.recipe import run_preset

    run = runner.plan(DEFAULT_CHAIN, [find_step(DEFAULT_CHAIN, "separate-downsampling")],
                      run_preset("smoke"), [0])[0]
    store = Store(out)
    store.begin(run.hash, {**run.spec, "labels": runner._identity(run)})
    model = build(run.design, num_classes=10, in_chans=run.data.channels)
    torch.save({"model": model.state_dict()}, store.paths(run.hash).checkpoint)
    result = {"config_hash": run.hash, "status": "ok", "reason": "", "gflops": 4.46,
              "params_m": 28.6, "wall_seconds": 1.0, "git_commit": "test",
              "numerics_version": identity.NUMERICS_VERSION, "top1": 50.0, "top5": 90.0,
              "device": "cpu", "train_seconds": 1.0}
    store.finish(run.hash, result, [{"epoch": 1, "train_loss": 2.0, "test_top1": 50.0,
                                     "test_top5": 90.0, "lr": 1e-3, "epoch_seconds": 1.0}],
                 {"label": np.arange(8) % 10, "pred": np.zeros(8, int),
                  "p_true": np.full(8, 0.1, np.float32)})
    store.add_label(runner._table_row(run, result))


def _damaged_copy(world: dict, kind: str, into: Path) -> Path:
    target = into / kind
    shutil.copytree(world["r"], target)
    where, what = DAMAGE[kind]
    for path in target.glob(where):
        if what == "truncate":
            path.write_bytes(path.read_bytes()[:1000])
        elif what in ("folder", "folder-only"):
            path.unlink()
            path.mkdir()
            if what == "folder-only":
                (target / "labels.jsonl").unlink()
        else:
            path.write_bytes(what)
    return target


def _argv(world: dict, command: str, args: list[str], here: Path) -> list[str]:
    values = {k: str(world[k]) for k in ("r", "f", "jpg", "jpg_no_val", "csv", "step")}

    def fill(a: str) -> str:
        if a.startswith("{store:"):
            return str(_damaged_copy(world, a[len("{store:"):-1], here / "stores"))
        return a.format(**values).replace("{step}", values["step"]) if "{" in a else a

    return [command, *[fill(a) for a in BASE.get(command, []) + args]]


def _snapshot(*folders: Path) -> dict[str, bytes]:
    out = {}
    for folder in folders:
        for p in sorted(Path(folder).rglob("*")):
            if p.is_file() and p.name not in (".lock", ".claim"):
                out[str(p)] = p.read_bytes()
            elif p.is_dir():  # a new folder (a run's, holding only its .claim) is caught
                out[str(p) + "/"] = b""
    return out


class WorkStarted(Exception):
    """Raised where a refused command would have begun its work (training, timing)."""


WORK = ("ablations.run.runner.train_run", "ablations.run.backends.launch",
        "ablations.run.backends.run_workers", "ablations.run.backends._torchrun",
        "ablations.measure.bench_settings.run_settings", "ablations.measure.resolution_costs.scaling_table",
        "ablations.measure.bench_data.bench_data")
"""Where each command's work begins: a bad input must be refused before any of them."""


@pytest.fixture(autouse=True)
def no_work(request, monkeypatch):
    """Bad input must be refused before work starts: starting it fails the case at once
    (instead of training for minutes)."""
    import importlib

    if "world" not in request.fixturenames or request.node.name.startswith("test_the_walk"):
        return
    request.getfixturevalue("world")  # the fixture's own run trains, before the guard

    def started(*_a, **_k):
        raise WorkStarted("work started before the bad input was refused")

    for target in WORK:
        module, _, name = target.rpartition(".")
        monkeypatch.setattr(importlib.import_module(module), name, started)


def _check(world: dict, argv: list[str], message: str, capsys, here: Path) -> None:
    before = _snapshot(here, world["root"])
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert message in lines[0], err
    after = _snapshot(here, world["root"])
    moved = {p for p in set(before) - set(after)  # set aside (damaged), kept byte for byte
             if after.get(str(Path(p).with_suffix(".corrupt"))) == before[p]}
    new = sorted(set(after) - set(before) - {str(Path(p).with_suffix(".corrupt")) for p in moved})
    assert not new, f"left behind: {new}"
    assert not sorted(set(before) - set(after) - moved), "deleted"
    changed = [p for p in before if p in after and before[p] != after[p]]
    assert not changed, f"changed: {changed}"


@pytest.mark.parametrize("command, option, args, message", ALL_CASES,
                         ids=[f"{c} {' '.join(a)}"[:70] for c, _, a, _ in ALL_CASES])
def test_bad_input_is_one_line_and_writes_nothing(world, command, option, args, message,
                                                  capsys, tmp_path, monkeypatch):
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    argv = _argv(world, command, args, tmp_path)
    _check(world, argv, message, capsys, here)


@pytest.mark.parametrize("args, env, message", ENV_CASES, ids=[str(e) for _, e, _ in ENV_CASES])
def test_a_half_set_launcher_or_missing_device_is_refused_before_anything(
        world, args, env, message, capsys, tmp_path, monkeypatch):
    import torch

    if "CUDA_VISIBLE_DEVICES" in env:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    _check(world, _argv(world, args[0], args[1:], tmp_path), message, capsys, tmp_path)


def test_a_read_only_folder_is_refused_before_work(world, capsys, tmp_path, monkeypatch):
    # report, stats --write, plot, compare, diagram on a read-only folder (issue 39): root
    # writes through permissions, so there the read-only folder is simulated by os.access
    locked = tmp_path / "locked"
    shutil.copytree(world["r"], locked)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != locked
                            and real(p, mode, **kw))
    else:
        locked.chmod(0o555)
    monkeypatch.chdir(tmp_path)
    try:
        for command, args in [("report", ["--results", str(locked)]),
                              ("stats", ["--results", str(locked), "--write"]),
                              ("plot", ["--results", str(locked)]),
                              ("compare", [str(world["r"]), "--out", str(locked)]),
                              ("diagram", ["--out", str(locked)])]:
            _check(world, _argv(world, command, args, tmp_path), "not writable", capsys,
                   tmp_path)
    finally:
        locked.chmod(0o755)


def test_the_walk_can_fail(world, capsys, tmp_path, monkeypatch):
    # A command that succeeds (writes a file, exits 0) is caught by the walk's checks.
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError):
        _check(world, ["diagram", "--out", str(tmp_path)], "", capsys, tmp_path)


@pytest.mark.parametrize("argv, message", [
    (["diagram", "--model", "swin_t", "--out", "o"], "swin_t"),
    (["run", "--preset", "smoke", "--device", "tpu", "--out", "o"], "--device"),
    (["cost-vs-resolution", "--from-csv", "missing.csv"], "missing.csv")])
def test_a_sample_as_real_subprocesses(tmp_path, argv, message):
    # the console entry point as a user runs it: one line, exit 2, nothing written
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "ablations", *argv], capture_output=True,
                          text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert [line for line in proc.stderr.splitlines() if "error:" in line] == [
        line for line in proc.stderr.splitlines() if line.strip()]
    assert message in proc.stderr and not any(tmp_path.iterdir())


PLAN_CASES = [(option, args, message) for option, args, message in RUN_CASES
              if option != "--plan"]


@pytest.mark.parametrize("option, args, message", PLAN_CASES,
                         ids=[" ".join(a)[:60] for _, a, _ in PLAN_CASES])
def test_plan_refuses_what_run_refuses(world, option, args, message, capsys, tmp_path,
                                       monkeypatch):
    # one validation path (issue 39): every bad input of `run` is refused by `--plan` too,
    # with the same line, before anything is priced
    here = tmp_path / "cwd"
    here.mkdir()
    monkeypatch.chdir(here)
    _check(world, _argv(world, "run", [*args, "--plan", "a100"], tmp_path), message, capsys,
           here)

"""Bad input through the real CLI: one clear error line, exit code != 0, results untouched."""

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ablations.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A results folder with one finished smoke run, and some bad input files."""
    out = tmp_path_factory.mktemp("res")
    assert main(["run", "--preset", "smoke", "--steps=separate-downsampling", "--out", str(out / "r"),
                 "--no-progress", "--device", "cpu"]) == 0
    files = out / "files"
    files.mkdir()
    (files / "unknown_toggle.yaml").write_text(
        "name: c\nstart: resnet50\nsteps:\n  - {name: s, changes: {kernal_size: 7}}\n")
    (files / "unknown_key.yaml").write_text(
        "name: c\nstart: resnet50\ncolour: red\nsteps:\n  - {name: s, changes: {kernel_size: 7}}\n")
    (files / "code.yaml").write_text("!!python/object/apply:os.system ['touch /tmp/pwned']\n")
    (files / "bad_value.yaml").write_text(
        "name: c\nstart: resnet50\nsteps:\n  - {name: s, changes: {kernel_size: 4}}\n")
    (files / "escape.yaml").write_text(
        "name: ../../etc\nstart: resnet50\nsteps:\n  - {name: s, changes: {kernel_size: 7}}\n")
    (files / "not_yaml.yaml").write_text("steps: [unclosed\n")
    (files / "bad.toml").write_text("name = \n")
    from ablations.data import folders
    jpg = folders.write_jpeg_folder(files / "jpg-mismatch", classes=2, per_class=2, size=32)
    val = sorted((Path(jpg) / "val").iterdir())
    val[-1].rename(val[-1].with_name("a-class-train-lacks"))
    half = files / "half-fashion"
    half.mkdir()
    with gzip.open(half / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + (10000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
                + b"\x00" * 1000)  # header promises 10,000 images; 1,000 bytes follow
    with gzip.open(half / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x01" + (10000).to_bytes(4, "big") + b"\x00" * 10000)
    (files / "empty-folder").mkdir()
    (files / "a-file").write_text("not a folder")
    return out


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != ".lock":
            h.update(str(p.relative_to(folder)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


# (argv, a piece of the message that must be in the error line). {r}: the results folder,
# {f}: the folder of bad files.
CASES = [
    (["run", "--chain", "nope"], "invalid choice: 'nope'"),
    (["run", "--preset", "nope"], "invalid choice: 'nope'"),
    (["run", "--steps", "nope"], "'nope'"),
    (["run", "--steps=99"], "99"),
    (["run", "--dataset", "nope"], "nope"),
    (["run", "--set", "nope=1"], "unknown field(s) nope"),
    (["run", "--set", "epochs"], "expected key=value"),
    (["run", "--set", "width_multiplier=-1"], "width_multiplier"),
    (["run", "--recipe-set", "optimizer=adam"], "recipe.optimizer='adam'"),
    (["run", "--recipe-set", "lr=-1"], "lr"),
    (["run", "--recipe-set", "lr=fast"], "recipe.lr='fast'"),
    (["run", "--recipe-set", "nope=1"], "unknown field(s) nope"),
    (["run", "--study", "nope"], "invalid choice: 'nope'"),
    (["run", "--study", "custom"], "--custom"),
    (["run", "--study", "custom", "--custom", "{f}/missing.yaml"], "missing.yaml"),
    (["run", "--study", "custom", "--custom", "{f}/unknown_toggle.yaml"], "kernal_size"),
    (["run", "--study", "custom", "--custom", "{f}/unknown_key.yaml"], "colour"),
    (["run", "--study", "custom", "--custom", "{f}/code.yaml"], "code.yaml"),
    (["run", "--study", "custom", "--custom", "{f}/bad_value.yaml"], "kernel_size"),
    (["run", "--study", "custom", "--custom", "{f}/escape.yaml"], "name='../../etc'"),
    (["run", "--study", "custom", "--custom", "{f}/not_yaml.yaml"], "not_yaml.yaml"),
    (["run", "--study", "custom", "--custom", "{f}/bad.toml"], "bad.toml"),
    (["run", "--study", "sweep", "--sweep", "nope=1,2"], "nope"),
    (["run", "--study", "sweep", "--sweep", "kernel_size=4,6"], "kernel_size"),
    (["run", "--study", "sweep"], "--sweep"),
    (["run", "--seeds", "0"], "0 must be >= 1"),
    (["run", "--epochs", "-1"], "-1 must be >= 1"),
    (["run", "--threads", "0"], "--threads=0"),
    (["run", "--sync-bn", "--device", "cpu"], "--sync-bn needs GPUs"),
    (["run", "--nproc", "2", "--launcher", "local"], "--nproc and --launcher"),
    (["run", "--recipe-set", "mixup=0.8", "--recipe-set", "mix_batch=100"],
     "recipe.mix_batch=100"),
    (["run", "--recipe-set", "mixup=0.8", "--recipe-set", "mix_batch=16",
      "--batch-per-device", "8"], "--batch-per-device=8"),
    (["run", "--launcher", "slurm"], "--partition"),
    (["run", "--dataset", "imagefolder", "--data-dir", "{f}/empty-folder"], "empty-folder"),
    (["run", "--dataset", "fashion-mnist", "--data-dir", "{f}/half-fashion"], "half-fashion"),
    (["run", "--out", "{f}/a-file/sub"], "not writable"),
    (["show", "--results", "{f}/nowhere"], "no results"),
    (["plot", "--results", "{f}/nowhere"], "no results"),
    (["costs", "--models", "nope"], "nope"),
    (["costs", "--resolution", "0"], "0 must be >= 1"),
    (["diagram", "--step", "nope", "--out", "{f}/o"], "nope"),
    (["diagram", "--model", "nope", "--out", "{f}/o"], "nope"),
    (["compare", "{f}/nowhere", "--out", "{f}/o"], "no results"),
    (["bench", "--mode", "fly"], "--mode='fly'"),
    (["bench", "--models", "nope"], "nope"),
    (["bench", "--tag", "../../x"], "--tag='../../x'"),
    (["bench", "--device", "cuda"], "no CUDA device"),
    (["bench-plot", "--from-csv", "{f}/nowhere.csv"], "no such file"),
    (["run", "--recipe-set", "warmup_epochs=1e9"], "recipe.warmup_epochs=1e+09 is more than"),
    (["run", "--set", "train_subset=100000"], "train_subset=100000 is more than the 512"),
    (["run", "--dataset", "imagefolder", "--data-dir", "{f}/jpg-mismatch"],
     "val/ and train/ hold different classes"),
]


@pytest.mark.parametrize("argv,message", CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_gives_one_clear_line(results, argv, message, capsys):
    r, f = results / "r", results / "files"
    argv = [a.format(r=r, f=f) for a in argv]
    if argv[0] == "run" and "--out" not in argv:
        argv += ["--out", str(r), "--preset", "smoke"] if "--preset" not in argv else ["--out", str(r)]
    before = _tree_digest(r)
    try:
        code = main(argv + (["--no-progress"] if argv[0] == "run" else []))
    except SystemExit as e:  # argparse's own errors
        code = e.code
    err = capsys.readouterr().err
    assert code == 2  # the README's promise for bad input (argparse's own errors too)
    assert "Traceback" not in err
    lines = [line for line in err.strip().splitlines() if line.startswith(("error", "python -m"))
             or "error:" in line]
    assert len(lines) == 1, err
    assert message in lines[0], err
    assert _tree_digest(r) == before  # finished results untouched
    assert not os.path.exists("/tmp/pwned")


def test_a_corrupted_results_table_is_moved_aside_not_overwritten(results, capsys):
    r = results / "corrupt"
    shutil.copytree(results / "r", r)
    labels = r / "labels.jsonl"
    broken = labels.read_text()[:-20]  # a half-written last line
    labels.write_text(broken)
    assert main(["show", "--results", str(r)]) == 2
    err = capsys.readouterr().err
    assert "moved to labels.corrupt" in err and "Traceback" not in err
    assert (r / "labels.corrupt").read_text() == broken  # kept, byte for byte
    assert all((p / "result.json").exists() for p in (r / "runs").iterdir())


@pytest.mark.parametrize("argv,message", CASES[::6], ids=[" ".join(c[0])[:60] for c in CASES[::6]])
def test_a_sample_of_cases_as_real_subprocesses(results, argv, message):
    r, f = results / "r", results / "files"
    argv = [a.format(r=r, f=f) for a in argv]
    if argv[0] == "run" and "--out" not in argv:
        argv += ["--out", str(r), "--preset", "smoke"] if "--preset" not in argv else ["--out", str(r)]
    proc = subprocess.run([sys.executable, "-m", "ablations", *argv], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and message in proc.stderr


def test_an_internal_error_keeps_its_traceback_and_exits_1(tmp_path):
    # A bug (here: a ValueError injected deep in the costs code) is not bad input: it must
    # not be dressed up as one line and exit 2.
    code = ("import sys, models.complexity as c\n"
            "def broken(*a, **k):\n    raise ValueError('injected internal bug')\n"
            "c.count_gflops = broken\n"
            "from ablations.__main__ import main\n"
            "sys.exit(main(['costs', '--models', 'resnet50', '--no-fvcore']))\n")
    env = {**os.environ, "CONVNEXT_ABLATIONS_CACHE": "off"}  # counted now, not read back
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "injected internal bug" in proc.stderr


def test_help_answers_without_importing_torch_pandas_or_scipy():
    # what makes it fast (its time is measured in scripts/bench_read_commands.sh, not here:
    # a shared machine fails a timed test for reasons that are not the code's)
    code = ("import sys\nfrom ablations.__main__ import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(m for m in ('torch', 'pandas', 'scipy') "
            "if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stderr
    assert "cost-vs-resolution" in proc.stdout and "collapse" in proc.stdout


def test_a_real_subprocess_prints_no_traceback(results):
    # The console entry point as a user runs it, not only main() in-process.
    proc = subprocess.run([sys.executable, "-m", "ablations", "run", "--preset", "smoke",
                           "--recipe-set", "optimizer=adam", "--out", str(results / "r")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: recipe.optimizer='adam'; allowed: sgd, adamw"]


@pytest.mark.parametrize("argv", [
    ["run", "--design", "one-at-a-time"], ["bench", "--preset", "swin_t"],
    ["diagram", "--out", "o", "--preset", "resnet50"], ["costs", "--preset", "resnet50"],
    ["bench-plot", "--csv", "x.csv"], ["bench-data", "--data-dir", "d", "--csv", "x.csv"],
])
def test_the_old_option_spellings_of_0_2_are_gone(argv, capsys):
    # pre-1.0: no deprecated spellings kept; --preset means the run preset only
    from ablations.__main__ import make_parser

    with pytest.raises(SystemExit) as e:
        make_parser().parse_args(argv)
    assert e.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert make_parser().parse_args(["run", "--preset", "smoke"]).preset == "smoke"


def test_warnings_are_one_line_from_every_entry_point():
    # main() sets the format itself, so the installed `convnext-ablations` script (which
    # calls main, not the `if __name__ == "__main__"` block) prints one line too.
    code = ("import warnings\nfrom ablations.__main__ import main\n"
            "main(['paper-table'])\nwarnings.warn('a damaged file was moved aside')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.stderr.splitlines() == ["warning: a damaged file was moved aside (UserWarning)"]

"""Command line: ``python -m ablations <command> ...`` (also installed as ``convnext-ablations``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .errors import Stopped, UserError, check_file_name, raise_stopped
from models.design import DesignError

from .argv import without_option


def _costs(args: argparse.Namespace) -> None:
    from .costs import chain_costs, model_costs

    if args.models:
        df = model_costs(_comma_list(args.models), args.resolution, not args.no_fvcore)
    else:
        df = chain_costs(args.chain, args.resolution, not args.no_branches, not args.no_fvcore)
    _print_table(df, args.format)
    convnets = df[df.attention_gflops == 0] if "attention_gflops" in df else df
    if not args.no_fvcore and convnets.fvcore_gflops.isna().any():
        print(f"note: fvcore's count is left out at {args.resolution} px (its real forward "
              "pass would need over half of this machine's memory); the paper-convention "
              "counts run on the meta device and are exact", file=sys.stderr)
    if "attention_gflops" in df and (df.attention_gflops > 0).any():
        print("note: gflops counts every multiply-add, the attention matmuls too "
              "(attention_gflops); fvcore's count is given for ConvNets only",
              file=sys.stderr)


def _labelled(items) -> dict[str, str]:
    """``[LABEL=]VALUE`` items -> {label: value}; an item without a label is its own label."""
    out = {}
    for item in items:
        label, sep, value = item.partition("=")
        out[label if sep else item] = value if sep else item
    return out


def _comma_list(text: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c'] (items stripped, empty ones dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _int_list(text: str, option: str) -> list[int]:
    try:
        return [int(v) for v in _comma_list(text)]
    except ValueError:
        raise UserError(f"{option} {text!r}: expected comma-separated integers") from None


def _scaling(args: argparse.Namespace) -> None:
    from pathlib import Path

    import pandas as pd

    from . import scaling
    from .bench import device_tag, threads

    if args.from_csv:  # redraw a committed table (e.g. one measured on a GPU)
        df = pd.read_csv(args.from_csv)
        stem = Path(args.from_csv).with_suffix("")
    else:
        models = scaling.resolve_models(_comma_list(args.models), args.chain)
        resolutions = _int_list(args.resolutions, "--resolutions")
        timed = (_int_list(args.time_resolutions, "--time-resolutions")
                 if args.time_resolutions is not None
                 else resolutions if args.device.startswith("cuda") else [224, 448, 672])
        tag = args.tag or device_tag(args.device)
        check_file_name(tag, "--tag")
        with threads(args.threads):
            df = scaling.scaling_table(models, resolutions, timed, args.device,
                                       memory=not args.no_memory, repeats=args.repeats)
        stem = Path(args.out) / f"scaling_{tag}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(stem.with_suffix(".csv"), index=False)
    fits = scaling.fit_exponents(df)
    fits.to_csv(stem.with_name(stem.name + "_exponents.csv"), index=False)
    timed = sorted(df.dropna(subset=["latency_ms"]).resolution.unique())
    title = (f"cost vs resolution, batch 1, float32, {df.device.iloc[0]} "
             f"({', '.join(str(r) for r in timed) or 'none'} px timed)")
    paths = scaling.scaling_figure(df, fits, stem, title)
    _print_table(fits, "table")
    print("wrote", stem.with_suffix(".csv"), *paths)


def _collapse(args: argparse.Namespace) -> None:
    from pathlib import Path

    from .collapse import collapse_figure, collapse_table

    steps = _labelled(_comma_list(args.steps))
    df = collapse_table(args.out, steps, args.data_dir, args.images)
    path = Path(args.out) / "collapse.csv"
    df.to_csv(path, index=False)
    summary = df.groupby(["model", "seed"])[["cosine_distance", "dead_share"]].mean()
    _print_table(summary.reset_index().round(4), "table")
    print("wrote", path, *collapse_figure(df, path.with_suffix("")))


def _paper_table(args: argparse.Namespace) -> None:
    from .paper import paper_reference

    _print_table(paper_reference(), args.format)


def _parse_overrides(items: list[str] | None, what: str) -> dict:
    """``key=value`` pairs; values parsed as YAML scalars/lists (safe loader)."""
    import yaml

    out = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--{what} {item!r}: expected key=value")
        key, _, value = item.partition("=")
        try:
            out[key.strip()] = float(value) if _is_float(value) else yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--{what} {item!r}: value is not valid YAML") from None
    return out


def _is_float(text: str) -> bool:
    # YAML 1.1 reads "2e-3" as a string; numbers with a dot or exponent are floats here.
    try:
        float(text)
    except ValueError:
        return False
    return any(c in text for c in ".eE") and not text.strip().isalpha()


def _select_steps(chain_name: str, spec: str | None, branches: bool):
    from models.roadmap import chain, find_step

    if not spec:
        return chain(chain_name, branches=branches)
    return [find_step(chain_name, k) for k in _comma_list(spec)]


def _plan(args: argparse.Namespace, seeds: list[int]):
    """(preset, runs) of the run/replay options for ``seeds``."""
    from . import runner
    from .recipe import run_preset

    preset = run_preset(args.preset)
    preset_changes = _parse_overrides(args.set, "set")
    if args.dataset:
        preset_changes["dataset"] = args.dataset
    if args.epochs:
        preset_changes["epochs"] = args.epochs
    if preset_changes:
        preset = preset.replace(**preset_changes)
    recipe_changes = _parse_overrides(args.recipe_set, "recipe-set")
    if args.study == "chain":
        study, steps = args.chain, _select_steps(args.chain, args.steps, args.branches)
    else:
        from .designs import study_steps

        study, steps = study_steps(args.study, args.chain, args.custom, args.sweep,
                                   args.sweep_base)
        if args.steps:
            wanted = [k.strip() for k in args.steps.split(",")]
            unknown = [k for k in wanted if k not in {s.name for s in steps}
                       and k not in {str(s.index) for s in steps}]
            if unknown:
                raise UserError(f"--steps: {', '.join(unknown)} not in study {study!r}; allowed: "
                                f"{', '.join(s.name for s in steps)}")
            steps = [s for s in steps if s.name in wanted or str(s.index) in wanted]
    if args.study == "scale":
        return preset, _plan_scale(args, steps, preset, seeds, recipe_changes)
    return preset, runner.plan(study, steps, preset, seeds, recipe_changes)


def _plan_scale(args: argparse.Namespace, steps, preset, seeds, recipe_changes):
    """The scale study's runs, cheapest cell first; prints the estimated CPU cost per cell."""
    from . import scale
    from .store import Store

    grid = scale.parse_grid(args.grid or scale.DEFAULT_GRID)
    table = Store(args.out).table()  # empty where nothing was stored yet
    measured = {}
    if not table.empty:
        base_rows = table[(table.preset == preset.name) & (table.status == "ok")]
        measured = base_rows.groupby("step_name").train_seconds.median().to_dict()
    runs = scale.plan_scale(args.chain, steps, preset, grid, seeds, recipe_changes, measured)
    if not args.no_progress:  # the parent says it once (its workers run with --no-progress)
        est = scale.estimate_table(runs, preset, measured)
        print(f"scale study: {len(runs)} runs, estimated CPU minutes per cell (one thread; "
              f"from the base cell's measured runs):\n{est.to_string(index=False)}")
    return runs


def _run(args: argparse.Namespace) -> bool:
    """Train what the options ask for; True if every run is finished when it returns and
    this is the one process that should report on them (not a rank, not a job submitter)."""
    import os

    from . import runner
    from .distributed import (RELAUNCHED, check_sync_bn, from_environment, micro_batches,
                              relaunch_with_torchrun)
    from .report import summary_table

    check_sync_bn(args.sync_bn, args.device)
    if args.launcher != "none" and args.nproc:
        raise UserError("--nproc and --launcher: choose one (a launched job sets its own "
                        "processes with --gpus-per-node)")
    if args.nproc and args.nproc > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        rc = relaunch_with_torchrun(args.nproc, without_option(args.argv, "--nproc"))
        if rc:
            raise UserError(f"torchrun with {args.nproc} processes exited with code {rc}")
        return True
    runner.set_threads(args.threads)
    preset, runs = _plan(args, list(range(args.seeds)))
    world = args.nproc or int(os.environ.get("WORLD_SIZE", "1"))
    for r in runs:  # the global batch must split exactly, checked before anything starts
        micro_batches(r.recipe.batch_size, world, args.batch_per_device)
    runner.check_data_available(preset, args.data_dir)
    if args.launcher != "none":
        from .launch import launch

        launch(runs, args)
        return bool(args.wait)  # without --wait the jobs are still queued or running
    if args.jobs > 1 and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        from .parallel import default_threads, run_workers

        run_workers(runs, args.argv, args.jobs, args.threads or default_threads(args.jobs),
                    args.seeds, args.preset, args.out, progress=not args.no_progress)
    dist = from_environment(args.device)
    df = runner.execute(runs, args.out, args.data_dir, args.device,
                        progress=not args.no_progress, retry_failed=args.retry_failed,
                        dist=dist, batch_per_device=args.batch_per_device,
                        sync_bn=args.sync_bn)
    if dist.is_main:
        print(summary_table(df).to_string(index=False))
    return dist.is_main and RELAUNCHED not in os.environ


def _replay(args: argparse.Namespace) -> None:
    from pathlib import Path

    from . import reproduce
    from .store import load

    reference = None if args.reference in ("", "none") else Path(args.reference)
    if reference is not None and not (reference / "labels.jsonl").exists():
        if args.reference_given:
            raise UserError(f"--reference {reference}: not a results folder (no labels.jsonl)")
        print(f"no committed results in {reference}: nothing to compare with")
        reference = None
    fresh = set(range(args.seeds))
    if reference is not None:
        ref = load(reference)
        others = sorted(set(ref.seed.astype(int)) - fresh)
        _, runs = _plan(args, others)
        n = reproduce.import_reference(reference, args.out, {r.hash for r in runs})
        print(f"seeds {', '.join(map(str, others)) or '-'} from {reference} ({n} runs); "
              f"seed(s) {', '.join(map(str, sorted(fresh)))} trained here from scratch")
    if not _run(args):  # a rank, or jobs still queued: plot where results are complete, once
        if args.launcher != "none":
            print(f"jobs submitted: when they have finished, `python -m ablations plot --out "
                  f"{args.out}` and `stats --out {args.out}` report them")
        return
    _plot(args)
    df = load(args.out)
    _print_stats(df[df.study == args.chain], args.out)
    if reference is not None:
        table = reproduce.reproduction(df[df.seed.isin(fresh)], load(reference), args.chain,
                                       args.preset)
        if not table.empty:
            cols = ["step", "step_name", "seed", "fresh_top1", "reference_same_seed",
                    "reference_mean", "reference_sd", "reference_seeds", "p_holm", "verdict"]
            print(table[cols].round(3).to_string(index=False))
            print(f"wrote {reproduce.write(table, args.out)}")
        print(reproduce.summary_line(table))


def _plot(args: argparse.Namespace) -> None:
    from . import plot
    from .store import load

    df = load(args.out)
    if args.chain in set(df.get("study", [])):
        for path in plot.all_figures(df, args.out, chain_name=args.chain):
            print(f"wrote {path}")
    for path in plot.study_figures(df, args.out):
        print(f"wrote {path}")


def _show(args: argparse.Namespace) -> None:
    from .report import summary_table
    from .store import load

    df = load(args.out)
    table = summary_table(df)
    _print_table(table, args.format)
    if args.format == "table":
        _print_stats(df, args.out)


def _stats(args: argparse.Namespace) -> None:
    from . import stats
    from .store import Store, load

    df = load(args.out)
    table = stats.all_stats(df, Store(args.out))
    if args.format != "table":
        _print_table(table, args.format)
        return
    _print_stats(df, args.out, table)
    if args.write:
        print(f"wrote {stats.write_stats(df, args.out)}")


def _print_stats(df, out: str, table=None) -> None:
    """Per-comparison statistics, agreement with the paper, and where the rows come from."""
    import math

    import pandas as pd

    from . import stats
    from .store import NUMERICS_VERSION, Store

    if table is None:
        table = stats.all_stats(df, Store(out))
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        for (study, preset), part in table.groupby(["study", "preset"], sort=False):
            print(f"\n{study} ({preset}): paired differences over seeds, top-1 points")
            print(stats.format_stats(part).to_string(index=False))
            a = stats.paper_agreement(df, study, preset)
            if a["steps"] >= 3 and a["seeds"]:
                interval = ("" if math.isnan(a["spearman_lo"]) else
                            f" [{a['spearman_lo']:+.2f}, {a['spearman_hi']:+.2f}] (95%, "
                            f"{stats.AGREEMENT_METHOD}, {a['seeds']} seeds)")
                print(f"agreement with the paper: Spearman {a['spearman']:+.2f}{interval}, "
                      f"signs agree in {a['signs_agree']}/{a['steps']} steps")
    prov = stats.provenance(df, NUMERICS_VERSION)
    commits = ", ".join(f"{c} ({n})" for c, n in prov["commits"].items())
    print(f"\nrows: {prov['rows']} from commit(s) {commits}; numerics version "
          f"{NUMERICS_VERSION}" + (f"; STALE: {prov['stale']} rows from another numerics "
                                  "version (today's code would not reproduce them: rerun)"
                                  if prov["stale"] else ""))


def _compare(args: argparse.Namespace) -> None:
    from .compare import compare

    table, corr, written = compare(_labelled(args.results), args.chain, args.out)
    cols = ["step", "step_name", "paper_top1"] + [c for c in table if c.endswith("_top1")
                                                   and c != "paper_top1"]
    print(table[cols].round(2).to_string(index=False))
    for label, r in corr.items():
        print(f"{label}: Spearman rank correlation of step gains with the paper: {r:+.2f}")
    for p in written:
        print(f"wrote {p}")


def _diagram(args: argparse.Namespace) -> None:
    from . import diagram
    from models import named_design
    from models.roadmap import chain, find_step

    if args.model:
        paths = diagram.draw_single(named_design(args.model), args.model, args.out, args.stage - 1)
    else:
        step = find_step(args.chain, args.step)
        steps = chain(args.chain, branches=True)
        if step.branch_of:
            parent = next(s for s in steps if s.name == step.branch_of)
        else:
            main = chain(args.chain)
            parent = main[max(0, main.index(step) - 1)]
        paths = diagram.draw_step(parent.design, step.design, f"{parent.index} {parent.title}",
                                  f"{step.index} {step.title}", args.out, args.stage - 1)
    for p in paths:
        print(f"wrote {p}")


def _bench(args: argparse.Namespace) -> None:
    from pathlib import Path

    from . import bench
    from .plot import bench_figures
    from models.roadmap import chain

    if args.models:
        candidates = bench.model_candidates(_comma_list(args.models), plain=args.plain_convs)
    else:
        steps = _select_steps(args.chain, args.steps, False) if args.steps else chain(args.chain)
        candidates = bench.step_candidates(steps, plain=args.plain_convs)
    if not args.no_references:
        candidates += bench.reference_candidates()
    settings = [bench.Setting(mode=m, dtype=d, batch_size=args.batch_size,
                              resolution=args.resolution, channels_last=not args.channels_first,
                              compile=args.compile, device=args.device)
                for m in _choices(args.mode, bench.MODES, "--mode")
                for d in _choices(args.dtype, bench.DTYPES, "--dtype")]
    if args.tag is not None:
        check_file_name(args.tag, "--tag")
    if args.device.startswith("cuda") and not _cuda():
        raise UserError(f"--device={args.device}: no CUDA device here; allowed: cpu")
    with bench.threads(args.threads):
        tag = args.tag or bench.device_tag(args.device)
        out_csv = Path(args.out) / f"bench_{tag}.csv"
        df = bench.run_settings(candidates, settings, out_csv, args.windows,
                                args.min_window_s, memory=not args.no_memory)
    cols = ["mode", "dtype", "model", "gflops", "images_per_s", "latency_bs1_ms",
            "peak_mem_mb", "vs_resnet50", "vs_convnext_tiny", "fraction_of_peak"]
    print(df[cols].to_string(index=False))
    print(bench.ratio_summary(df).to_string(index=False))
    print(f"wrote {out_csv}")
    if not args.no_plot:
        for path in bench_figures(df, Path(args.out), tag):
            print(f"wrote {path}")


def _bench_plot(args: argparse.Namespace) -> None:
    from pathlib import Path

    import pandas as pd

    from .plot import bench_figures

    path = Path(args.csv)
    if not path.is_file():
        raise UserError(f"--csv {path}: no such file (made by `python -m ablations bench`)")
    tag = path.stem.removeprefix("bench_")
    for p in bench_figures(pd.read_csv(path), Path(args.out or path.parent), tag):
        print(f"wrote {p}")


def _choices(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    values = _comma_list(text)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise UserError(f"{flag}={text!r}; allowed: a comma-separated list of "
                        f"{', '.join(allowed)}")
    return values


def _print_table(df, fmt: str) -> None:
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1) + "\n")
    else:
        with __import__("pandas").option_context("display.max_colwidth", 40,
                                                  "display.width", 200):
            print(df.drop(columns=[c for c in ("note", "source") if c in df]).to_string(
                index=False))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (one ``_add_<command>`` each)."""
    parser = argparse.ArgumentParser(prog="python -m ablations", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_costs(sub)
    _add_run(sub)
    _add_replay(sub)
    _add_plot(sub)
    _add_show(sub)
    _add_stats(sub)
    _add_compare(sub)
    _add_diagram(sub)
    _add_bench(sub)
    _add_scaling(sub)
    _add_collapse(sub)
    _add_bench_plot(sub)
    _add_bench_data(sub)
    _add_paper_table(sub)
    return parser


def _chains() -> list[str]:
    from models.roadmap import CHAINS

    return list(CHAINS)


def _model_names() -> str:
    from models.named import MODEL_NAMES

    return ", ".join(MODEL_NAMES)


class _DeprecatedAlias(argparse.Action):
    """An old spelling of an option, kept for one release: warns, then sets the new one."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kw: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        print(f"warning: {option} is deprecated (goes in 0.3); use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def _deprecated_alias(p: Any, old: str, new: str, **kw: Any) -> None:
    """``old`` as a hidden, warning alias of the option ``new``."""
    p.add_argument(old, dest=new.lstrip("-").replace("-", "_"), action=_DeprecatedAlias,
                   new=new, help=argparse.SUPPRESS, default=argparse.SUPPRESS, **kw)


def _run_args(p: argparse.ArgumentParser, preset: str, seeds: int, out: str) -> None:
    """The options of ``run`` and ``replay``: what to train, at which scale, where, how."""
    from .recipe import RUN_PRESETS

    from .designs import STUDIES

    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.add_argument("--study", default="chain", choices=STUDIES,
                   help="which study: the chain, one-at-a-time, leave-one-out, a custom "
                        "chain (--custom FILE), a sweep (--sweep FIELD=V1,V2) or transformers")
    _deprecated_alias(p, "--design", "--study", choices=STUDIES)
    p.add_argument("--custom", metavar="FILE", help="custom chain, YAML or TOML")
    p.add_argument("--sweep", metavar="FIELD=V1,V2,...", help="e.g. kernel_size=3,5,7,9")
    p.add_argument("--grid", metavar="AXIS=V1,V2;...",
                   help="--study scale: cells besides the preset itself, one axis at a time "
                        "(axes: train_images, epochs, width, resolution; default "
                        "'train_images=7500,15000,30000;epochs=12,24;width=0.25;resolution=48')")
    p.add_argument("--sweep-base", default="convnext_tiny",
                   help=f"the named model the sweep varies: {_model_names()}")
    p.add_argument("--preset", default=preset, choices=list(RUN_PRESETS),
                   help="run preset: the training scale (data, resolution, epochs, width)")
    p.add_argument("--seeds", type=_positive_int, default=seeds, help="seeds 0..N-1")
    p.add_argument("--steps", help="comma-separated step names or indices (default: all)")
    p.add_argument("--branches", action="store_true", help="also the side branches")
    p.add_argument("--dataset", help="override the preset's dataset")
    p.add_argument("--data-dir", help="where the dataset lives")
    p.add_argument("--epochs", type=_positive_int, help="override the preset's epochs")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="override a preset field (repeatable)")
    p.add_argument("--recipe-set", action="append", metavar="FIELD=VALUE",
                   help="override a recipe field for every step (repeatable)")
    p.add_argument("--out", default=out, help="results folder")
    p.add_argument("--device", help="cpu or cuda[:N] (default: cuda where there is one)")
    p.add_argument("--threads", type=int,
                   help="intra-op threads per process (default: the cores / --jobs)")
    p.add_argument("--jobs", type=_positive_int, default=1,
                   help="local worker processes that share out the runs (each claims "
                        "a run before training it)")
    p.add_argument("--retry-failed", action="store_true", help="train failed runs again")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--nproc", type=_positive_int,
                   help="data-parallel processes on this machine (starts torchrun)")
    p.add_argument("--batch-per-device", type=_positive_int,
                   help="micro-batch per process; gradient accumulation makes up the "
                        "recipe's global batch")
    p.add_argument("--sync-bn", action="store_true",
                   help="SyncBatchNorm across processes for BatchNorm designs")
    p.add_argument("--launcher", choices=("none", "local", "slurm"), default="none",
                   help="submit one job per step and seed (submitit)")
    p.add_argument("--partition", help="SLURM partition (--launcher slurm)")
    p.add_argument("--nodes", type=_positive_int, default=1, help="nodes per job")
    p.add_argument("--gpus-per-node", type=int, default=0,
                   help="GPUs (= processes) per node and job; 0: one CPU process")
    p.add_argument("--cpus-per-task", type=_positive_int, default=8)
    p.add_argument("--timeout-min", type=_positive_int, default=60 * 24,
                   help="job time limit; a job past it is requeued and resumes")
    p.add_argument("--jobs-dir", default=None,
                   help="submitit logs (default: <out>/jobs)")
    p.add_argument("--wait", action="store_true", help="wait for the jobs and report")


def _chain_or_models(p: argparse.ArgumentParser) -> None:
    """``--chain NAME`` or ``--models A,B,...`` (named models), not both."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    group.add_argument("--models", help=f"comma-separated named models: {_model_names()}")
    _deprecated_alias(group, "--preset", "--models")


def _add_costs(sub: Any) -> None:
    p = sub.add_parser("costs", help="params and GFLOPs of every step of a chain, or of "
                                     "named models")
    _chain_or_models(p)
    p.add_argument("--resolution", type=_positive_int, default=224)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--no-branches", action="store_true", help="main steps only")
    p.add_argument("--no-fvcore", action="store_true", help="skip fvcore's count (faster)")
    p.set_defaults(func=_costs)


def _add_run(sub: Any) -> None:
    p = sub.add_parser("run", help="train and evaluate steps of a chain (stored runs are reused)")
    _run_args(p, "quick", 1, "runs/quick")
    p.set_defaults(func=_run)


def _add_replay(sub: Any) -> None:
    p = sub.add_parser("replay", help="the main job: train one seed of the main chain from "
                                      "scratch, beside the committed seeds, then statistics "
                                      "and plots")
    _run_args(p, "quick", 1, "runs/replay")
    p.add_argument("--reference", default=None,
                   help="committed results whose other seeds join the fresh ones, and which "
                        "the fresh seeds are tested against (default: results/quick; 'none')")
    p.set_defaults(func=_replay, jobs=2, threads=1)


def _add_plot(sub: Any) -> None:
    p = sub.add_parser("plot", help="draw the figures of a results folder")
    p.add_argument("--out", default="results/quick")
    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.set_defaults(func=_plot)


def _add_show(sub: Any) -> None:
    p = sub.add_parser("show", help="print the results table of a results folder")
    p.add_argument("--out", default="results/quick")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=_show)


def _add_stats(sub: Any) -> None:
    p = sub.add_parser("stats", help="which step differences are real: paired statistics")
    p.add_argument("--out", default="results/quick", help="results folder")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--write", action="store_true", help="also write <out>/stats.csv")
    p.set_defaults(func=_stats)


def _add_compare(sub: Any) -> None:
    p = sub.add_parser("compare", help="overlay result sets and the paper; table of deltas")
    p.add_argument("results", nargs="+", metavar="[LABEL=]FOLDER", help="results folders")
    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.add_argument("--out", default="comparison.png")
    p.set_defaults(func=_compare)


def _add_diagram(sub: Any) -> None:
    p = sub.add_parser("diagram", help="draw a step's block before -> after (or a preset's)")
    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.add_argument("--step", default="separate-downsampling", help="step name or index")
    p.add_argument("--model", help=f"draw this named model alone instead: {_model_names()}")
    _deprecated_alias(p, "--preset", "--model")
    p.add_argument("--stage", type=int, default=2, choices=(1, 2, 3, 4),
                   help="which stage's first block to draw (2 shows in-block downsampling)")
    p.add_argument("--out", default="diagram.png")
    p.set_defaults(func=_diagram)


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="measured speed of every step next to the references")
    _chain_or_models(p)
    p.add_argument("--steps", help="comma-separated step names or indices (default: all main)")
    p.add_argument("--batch-size", type=_positive_int, default=32)
    p.add_argument("--resolution", type=_positive_int, default=224)
    p.add_argument("--dtype", default="float32", help="float32, bfloat16 or both (comma list)")
    p.add_argument("--mode", default="infer", help="infer, train or both (comma list)")
    p.add_argument("--channels-first", action="store_true",
                   help="NCHW contiguous tensors (default: channels_last)")
    p.add_argument("--compile", action="store_true", help="torch.compile every model")
    p.add_argument("--device", help="cpu or cuda[:N] (default: cuda where there is one)")
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--windows", type=_positive_int, default=5, help="timed windows per model")
    p.add_argument("--min-window-s", type=float, default=0.5,
                   help="each window runs enough iterations to last this long")
    p.add_argument("--plain-convs", action="store_true",
                   help="also time every step with plain nn.Conv2d (what the fast paths buy)")
    p.add_argument("--no-references", action="store_true", help="skip timm / torchvision")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--tag", help="file-name tag (default: cpu or the GPU model)")
    p.add_argument("--out", default="results", help="folder of bench_<tag>.csv and figures")
    p.set_defaults(func=_bench)


def _add_scaling(sub: Any) -> None:
    p = sub.add_parser("scaling", help="GFLOPs, activation memory and latency vs resolution")
    p.add_argument("--models", default="resnet50,convnext_tiny,swin_t,vit_b_16",
                   help=f"comma-separated: {_model_names()}, or step:KEY of --chain")
    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.add_argument("--resolutions", default="224,448,672,896,1120",
                   help="sizes counted (GFLOPs, activation memory); multiples of 224 let "
                        "Swin's windows tile without padding")
    p.add_argument("--time-resolutions",
                   help="sizes timed at batch 1 (default: 224,448,672 on CPU, all on a GPU; "
                        "'' for none)")
    p.add_argument("--device", help="cpu or cuda[:N] (default: cuda where there is one)")
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--repeats", type=_positive_int, default=3, help="timed calls per size")
    p.add_argument("--no-memory", action="store_true", help="skip the activation count")
    p.add_argument("--tag", help="file-name tag (default: cpu or the GPU model)")
    p.add_argument("--out", default="results/scaling", help="folder of the CSVs and figure")
    p.add_argument("--from-csv", help="redraw the figure and exponents of a scaling CSV")
    p.set_defaults(func=_scaling)


def _add_collapse(sub: Any) -> None:
    p = sub.add_parser("collapse", help="feature collapse per block of trained runs (V2 paper)")
    p.add_argument("--out", default="results/quick", help="results folder with checkpoints")
    p.add_argument("--steps", default="ConvNeXt-T (V1)=trunc-normal-init,V2 block (GRN)=grn",
                   help="comma-separated [LABEL=]STEP_NAME of finished runs")
    p.add_argument("--images", type=_positive_int, default=256, help="test images used")
    p.add_argument("--data-dir", help="folder of the data set (default: the usual places)")
    p.set_defaults(func=_collapse)


def _add_bench_plot(sub: Any) -> None:
    p = sub.add_parser("bench-plot", help="draw the figures of a bench_<tag>.csv")
    p.add_argument("--csv", default="results/bench_cpu.csv")
    p.add_argument("--out", help="folder of the figures (default: the CSV's)")
    p.set_defaults(func=_bench_plot)


def _add_bench_data(sub: Any) -> None:
    p = sub.add_parser("bench-data", help="loader vs training-step images/s on an image folder: "
                                          "which one limits training")
    p.add_argument("--data-dir", required=True, help="folder with train/ and val/")
    p.add_argument("--chain", default="resnet50-to-convnext-t", choices=_chains())
    p.add_argument("--step", default="-1", help="step name or index (default: the last)")
    p.add_argument("--preset", default="paper", help="run preset (its recipe and scale)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="preset override, e.g. resolution=64 or width_multiplier=0.125")
    p.add_argument("--recipe-set", action="append", metavar="FIELD=VALUE",
                   help="recipe override, e.g. auto_augment='' to time without RandAugment")
    p.add_argument("--batch-size", type=_positive_int, default=64)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--batches", type=_positive_int, default=20, help="timed batches each")
    p.add_argument("--device", help="cpu or cuda[:N] (default: cuda where there is one)")
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--csv", help="append the rows to this CSV")
    p.set_defaults(func=_bench_data)


def _bench_data(args: argparse.Namespace) -> None:
    from models.roadmap import chain, find_step

    from .bench_data import DataBench, bench_data, write
    from .recipe import run_preset
    from .runner import set_threads

    set_threads(args.threads)
    preset = run_preset(args.preset)
    changes = _parse_overrides(args.set, "set")
    preset = preset.replace(**{"dataset": "imagefolder", "channels": 3, **changes})
    step = chain(args.chain)[-1] if args.step == "-1" else find_step(args.chain, args.step)
    workers = tuple(_int_list(args.workers, "--workers"))
    if not workers or min(workers) < 0:
        raise UserError(f"--workers {args.workers!r}; allowed: comma-separated integers >= 0")
    cfg = DataBench(step, preset, args.data_dir, args.batch_size, workers, args.batches,
                    args.device, tuple(_parse_overrides(args.recipe_set, "recipe-set").items()))
    df = bench_data(cfg)
    if args.csv:
        from pathlib import Path

        write(df, Path(args.csv))


def _add_paper_table(sub: Any) -> None:
    p = sub.add_parser("paper-table", help="the paper's per-step numbers with their sources")
    p.add_argument("--format", choices=("table", "csv", "json"), default="csv")
    p.set_defaults(func=_paper_table)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user mistakes print one line on stderr and return 2."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = make_parser().parse_args(argv)
    args.argv = argv
    if getattr(args, "device", "") is None:  # resolved here: --help needs no torch
        args.device = "cuda" if _cuda() else "cpu"
    if getattr(args, "func", None) is _replay:
        args.reference_given = args.reference is not None
        args.reference = args.reference or "results/quick"
    import signal

    previous = signal.signal(signal.SIGTERM, raise_stopped)
    try:
        args.func(args)
    except (UserError, DesignError) as e:  # bad input: one line; anything else is a bug
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. piped into `head`: not an error of the user's
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM (a Stopped)
        code = e.code if isinstance(e, Stopped) else 130
        detail = e.detail if isinstance(e, Stopped) and e.detail else "finished results are kept"
        print(f"stopped ({'SIGTERM' if code == 143 else 'SIGINT'}): {detail}", file=sys.stderr)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _one_line_warnings(message: Any, category: type, *_args: Any, **_kw: Any) -> str:
    """Warnings (deprecations) on the command line read as one line, like its errors."""
    return f"warning: {message} ({category.__name__})\n"


if __name__ == "__main__":
    import warnings

    warnings.formatwarning = _one_line_warnings
    sys.exit(main())

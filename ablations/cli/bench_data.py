"""``bench-data``: loader against training-step images per second on an image folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import UserError
from .common import (add_chain, add_device, int_list, parse_overrides,
                     positive_int, read_table, writable_file)

BENCH_DATA_COLUMNS = ("step", "kind", "workers", "images_per_s")
"""Columns every bench-data table has (a CSV without them is another command's)."""


def add_parser(sub: Any) -> None:
    """The ``bench-data`` sub-command's options."""
    from ..train.recipe import RUN_PRESETS

    p = sub.add_parser("bench-data", help="loader vs training-step images/s on an image folder: "
                                          "which one limits training")
    p.add_argument("--data-dir", required=True, help="folder with train/ and val/")
    add_chain(p)
    p.add_argument("--step", help="step name or index; -1 is the original-recipe ResNet, as "
                                  "in run --steps (default: the chain's last step)")
    p.add_argument("--preset", default="paper", choices=list(RUN_PRESETS),
                   help="run preset: its recipe and scale (default: %(default)s)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="preset override, e.g. resolution=64 or width_multiplier=0.125")
    p.add_argument("--recipe-set", action="append", metavar="FIELD=VALUE",
                   help="recipe override, e.g. auto_augment='' to time without RandAugment")
    p.add_argument("--batch-size", type=positive_int, default=64)
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    p.add_argument("--batches", type=positive_int, default=20, help="timed batches each")
    add_device(p)
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--append-csv", metavar="FILE", help="append the rows to this CSV")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=handle)


CPU_SCALE = {"resolution": 64, "width_multiplier": 0.125}
"""What ``bench-data`` times on a CPU unless ``--set`` says otherwise."""


def handle(args: argparse.Namespace) -> None:
    """Time the loader alone, the step alone and both together; print (and append) rows."""
    from models.roadmap import chain, find_step

    from ..measure.bench_data import DataBench, bench_data, write
    from ..system.machine import set_threads
    from ..train.recipe import recipe as named_recipe
    from ..studies.planning import resolve_preset

    from ..data.datasets import check_data_dir

    if args.append_csv is not None:  # where the rows go: checked before anything is timed
        appended = writable_file(args.append_csv, "--append-csv")
        if appended.exists():
            read_table(appended, "--append-csv", BENCH_DATA_COLUMNS,
                       "`python -m ablations bench-data` (rows are appended to it)")
    if not args.data_dir.strip():
        raise UserError("--data-dir='' is empty; allowed: a folder with train/ and val/")
    check_data_dir(args.data_dir)
    set_threads(args.threads)
    preset = resolve_preset(args.preset, parse_overrides(args.set, "set"))
    preset = preset.replace(dataset="imagefolder", channels=3)
    if args.device == "cpu" and not args.set and preset.resolution > CPU_SCALE["resolution"]:
        # the paper scale on a CPU times for many minutes; answer in about a minute instead
        preset = preset.replace(**CPU_SCALE)
        print(f"on a CPU: timing at {CPU_SCALE['resolution']} px and widths x "
              f"{CPU_SCALE['width_multiplier']:g} (about a minute); --set resolution=224 --set "
              "width_multiplier=1 times the full model (many minutes per step on a CPU)")
    step = chain(args.chain)[-1] if args.step is None else find_step(args.chain, args.step)
    workers = tuple(int_list(args.workers, "--workers"))
    cores = max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1))  # at least 2: the default 1,2 is allowed on one core too
    if not workers or min(workers) < 0 or max(workers) > cores:
        raise UserError(f"--workers {args.workers!r}; allowed: comma-separated integers 0 to "
                        f"{cores} (the cores here)")
    overrides = parse_overrides(args.recipe_set, "recipe-set")
    preset.scale_recipe(named_recipe(step.recipe)).replace(**overrides)  # bounds, before timing
    cfg = DataBench(step, preset, args.data_dir, args.batch_size, workers, args.batches,
                    args.device, tuple(overrides.items()), not args.no_progress)
    df = bench_data(cfg)
    if args.append_csv is not None:
        write(df, Path(args.append_csv))

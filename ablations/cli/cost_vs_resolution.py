"""``cost-vs-resolution``: GFLOPs, activation memory and latency against resolution."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..defaults import SCALING_MODELS, SCALING_RESOLUTIONS
from ..errors import UserError, check_file_name
from ..system.files import atomic_write_text
from .common import (add_chain, add_device, comma_list, int_list, model_names, positive_int,
                     print_table, read_table, writable_folder)


def add_parser(sub: Any) -> None:
    """The ``cost-vs-resolution`` sub-command's options."""
    p = sub.add_parser("cost-vs-resolution", help="GFLOPs, activation memory and latency vs resolution")
    p.add_argument("--models", default=",".join(SCALING_MODELS),
                   help=f"comma-separated: {model_names()}, or step:KEY of --chain "
                        f"(default: %(default)s)")
    add_chain(p)
    p.add_argument("--resolutions", default=",".join(map(str, SCALING_RESOLUTIONS)),
                   help="sizes counted (GFLOPs, activation memory); multiples of 224 let "
                        "Swin's windows tile without padding (default: %(default)s)")
    p.add_argument("--time-resolutions",
                   help="sizes timed at batch 1 (default: 224,448,672 on CPU, all on a GPU; "
                        "'' for none)")
    add_device(p)
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--repeats", type=positive_int, default=3, help="timed calls per size")
    p.add_argument("--no-memory", action="store_true", help="skip the activation count")
    p.add_argument("--tag", help="file-name tag (default: cpu or the GPU model)")
    p.add_argument("--out", default="results/scaling", help="folder of the CSVs and figure")
    p.add_argument("--from-csv", help="redraw the figure and exponents of a scaling CSV")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Measure (or read ``--from-csv``), fit the exponents, draw the figure."""
    import pandas as pd

    from ..figures.resolution_costs import scaling_figure
    from ..measure import resolution_costs

    if args.from_csv:  # redraw a committed table (e.g. one measured on a GPU)
        stem = Path(args.from_csv).with_suffix("")
        writable_folder(stem.parent, "--from-csv")  # the exponents and figure go beside it
        df = read_table(args.from_csv, "--from-csv", SCALING_COLUMNS,
                        "`python -m ablations cost-vs-resolution` (scaling_<tag>.csv)")
        if df.empty:
            raise UserError(f"--from-csv {args.from_csv}: no rows; expected: a CSV table made "
                            "by `python -m ablations cost-vs-resolution`")
    else:
        df, stem = _measure(args)
    fits = resolution_costs.fit_exponents(df)
    atomic_write_text(stem.with_name(stem.name + "_exponents.csv"), fits.to_csv(index=False))
    timed = sorted(df.dropna(subset=["latency_ms"]).resolution.unique())
    title = (f"cost vs resolution, batch 1, float32, {df.device.iloc[0]} "
             f"({', '.join(str(r) for r in timed) or 'none'} px timed)")
    paths = scaling_figure(df, fits, stem, title)
    print_table(fits, "table")
    print("wrote", stem.with_suffix(".csv"), *paths)


def _measure(args: argparse.Namespace) -> tuple[Any, Path]:
    from ..measure import resolution_costs
    from ..system.machine import device_tag, threads

    models = resolution_costs.resolve_models(comma_list(args.models), args.chain)
    resolutions = _sizes(args.resolutions, "--resolutions")
    if not resolutions:
        raise UserError(f"--resolutions={args.resolutions!r} names no size; allowed: "
                        f"comma-separated sizes {MIN_SIZE} to {MAX_SIZE}")
    timed = (_sizes(args.time_resolutions, "--time-resolutions")
             if args.time_resolutions is not None
             else resolutions if args.device.startswith("cuda") else [224, 448, 672])
    tag = args.tag or device_tag(args.device)
    check_file_name(tag, "--tag")
    writable_folder(args.out, "--out")
    if args.threads is not None and args.threads < 1:
        raise UserError(f"--threads={args.threads}; allowed: >= 1")
    with threads(args.threads):
        df = resolution_costs.scaling_table(models, resolutions, timed, args.device,
                                            memory=not args.no_memory, repeats=args.repeats)
    stem = Path(args.out) / f"scaling_{tag}"
    atomic_write_text(stem.with_suffix(".csv"), df.to_csv(index=False))
    return df, stem


MIN_SIZE, MAX_SIZE = 32, 4096
"""Image sizes ``cost-vs-resolution`` takes: a ResNet downsamples by 32; 4096 px is far past any use."""
SCALING_COLUMNS = ("model", "resolution", "pixels", "latency_ms", "device")
"""What the exponents and the figure read of a scaling table."""


def _sizes(text: str, option: str) -> list[int]:
    """Comma-separated image sizes within ``MIN_SIZE`` to ``MAX_SIZE``."""
    sizes = int_list(text, option)
    bad = [s for s in sizes if not MIN_SIZE <= s <= MAX_SIZE]
    if bad:
        raise UserError(f"{option}={text!r}: {bad[0]} is out of range; allowed: sizes "
                        f"{MIN_SIZE} to {MAX_SIZE}")
    return sizes

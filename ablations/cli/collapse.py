"""``collapse``: feature collapse per block of trained runs (the ConvNeXt V2 paper's analysis)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..system.files import atomic_write_text
from .common import (add_results_folder, comma_list, labelled, positive_int, print_table,
                     writable_folder)


def add_parser(sub: Any) -> None:
    """The ``collapse`` sub-command's options."""
    p = sub.add_parser("collapse", help="feature collapse per block of trained runs (V2 paper)")
    add_results_folder(p, "results folder with checkpoints")
    p.add_argument("--steps", default="ConvNeXt-T (V1)=trunc-normal-init,V2 block (GRN)=grn",
                   help="comma-separated [LABEL=]STEP_NAME of finished runs")
    p.add_argument("--images", type=positive_int, default=256, help="test images used")
    p.add_argument("--study", choices=("steps", "fcmae"), default="steps",
                   help="fcmae: the FCMAE study's pretrained V1 / V2 encoders and supervised "
                        "V1 / V2 runs (the V2 paper's Fig. 4; --steps ignored)")
    p.add_argument("--data-dir", help="folder of the data set (default: the usual places)")
    p.add_argument("--keep-weights", action="store_true",
                   help="write each measured run's model weights as runs/<hash>/weights.pt "
                        "(small, committable), so that a clone without checkpoints can measure "
                        "them again")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Measure, write collapse.csv and its figure, print the per-model means."""
    from ..analysis.collapse import collapse_table
    from ..data.datasets import check_data_dir
    from ..figures.collapse import collapse_figure
    from ..run.store import load

    writable_folder(args.results, "--results")  # collapse.csv and its figure go there
    check_data_dir(args.data_dir)
    load(args.results)  # a results folder (one error line where not), before any model is built

    if args.study == "fcmae":
        from ..analysis.collapse import FCMAE_MODELS, fcmae_collapse_table, keep_weights

        if args.keep_weights:
            cells = sorted({cell for cell, kind in FCMAE_MODELS.values() if kind == "trained"})
            for path in keep_weights(args.results, cells):
                print("wrote", path)
        df = fcmae_collapse_table(args.results, args.data_dir, args.images)
        title = (f"Feature collapse per block, FCMAE study ({args.images} test images; "
                 "expansion-MLP activations after GELU / GRN)")
    else:
        df = collapse_table(args.results, labelled(comma_list(args.steps)), args.data_dir,
                            args.images)
        title = ""
    path = Path(args.results) / "collapse.csv"
    atomic_write_text(path, df.to_csv(index=False))
    summary = df.groupby(["model", "seed"])[["cosine_distance", "dead_share"]].mean()
    print_table(summary.reset_index().round(4), "table")
    print("wrote", path, *collapse_figure(df, path.with_suffix(""), title,
                                          normalised=args.study == "fcmae"))

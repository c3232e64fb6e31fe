"""``bench``: measured speed of every step next to the references (``bench-plot`` redraws)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import UserError, check_file_name
from .common import (add_chain_or_models, add_device, choices, comma_list, positive_int,
                     writable_folder)


def add_parser(sub: Any) -> None:
    """The ``bench`` sub-command's options."""
    p = sub.add_parser("bench", help="measured speed of every step next to the references")
    add_chain_or_models(p)
    p.add_argument("--steps", help="comma-separated step names or indices (default: all main)")
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--resolution", type=positive_int, default=224)
    p.add_argument("--dtype", default="float32", help="float32, bfloat16 or both (comma list)")
    p.add_argument("--mode", default="infer", help="infer, train or both (comma list)")
    p.add_argument("--channels-first", action="store_true",
                   help="NCHW contiguous tensors (default: channels_last)")
    p.add_argument("--compile", action="store_true", help="torch.compile every model")
    add_device(p)
    p.add_argument("--threads", type=int, help="intra-op threads (default: all cores)")
    p.add_argument("--windows", type=positive_int, default=5, help="timed windows per model")
    p.add_argument("--min-window-s", type=float, default=0.5,
                   help="each window runs enough iterations to last this long")
    p.add_argument("--plain-convs", action="store_true",
                   help="also time every step with plain nn.Conv2d (what the fast paths buy)")
    p.add_argument("--no-references", action="store_true", help="skip timm / torchvision")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--tag", help="file-name tag (default: cpu or the GPU model)")
    p.add_argument("--out", default="results", help="folder of bench_<tag>.csv and figures")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Time every candidate in every setting; write bench_<tag>.csv and its figures."""
    from ..measure import bench
    from ..measure.bench_settings import ratio_summary, run_settings
    from ..system.machine import device_tag, threads
    from ..studies.steps import select_steps
    from ..figures.bench import bench_figures

    if args.tag is not None:
        check_file_name(args.tag, "--tag")
    writable_folder(args.out, "--out")
    if not 0 <= args.min_window_s <= 3600:  # NaN fails too
        raise UserError(f"--min-window-s={args.min_window_s}; allowed: 0 to 3600 seconds")
    if args.models and args.steps is not None:
        raise UserError(f"--steps={args.steps!r} with --models: steps belong to a chain; "
                        "allowed: --steps with --chain, or --models alone")
    if args.models:
        candidates = bench.model_candidates(comma_list(args.models), plain=args.plain_convs)
    else:
        _, steps = select_steps("chain", args.chain, comma_list(args.steps or ""))
        candidates = bench.step_candidates(steps, plain=args.plain_convs)
    if not args.no_references:
        candidates += bench.reference_candidates()
    settings = [bench.Setting(mode=m, dtype=d, batch_size=args.batch_size,
                              resolution=args.resolution, channels_last=not args.channels_first,
                              compile=args.compile, device=args.device)
                for m in choices(args.mode, bench.MODES, "--mode")
                for d in choices(args.dtype, bench.DTYPES, "--dtype")]
    with threads(args.threads):
        tag = args.tag or device_tag(args.device)
        out_csv = Path(args.out) / f"bench_{tag}.csv"
        df = run_settings(candidates, settings, out_csv, args.windows,
                                args.min_window_s, memory=not args.no_memory)
    cols = ["mode", "dtype", "model", "gflops", "images_per_s", "latency_bs1_ms",
            "peak_mem_mb", "vs_resnet50", "vs_convnext_tiny", "fraction_of_peak"]
    print(df[cols].to_string(index=False))
    print(ratio_summary(df).to_string(index=False))
    print(f"wrote {out_csv}")
    if not args.no_plot:
        for path in bench_figures(df, Path(args.out), tag):
            print(f"wrote {path}")

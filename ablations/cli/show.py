"""``show``: the results table of a results folder, a study at a time, and (as a table) each
comparison's interval and verdict, in words and within 100 columns."""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from ..errors import UserError
from .common import add_format, add_results_folder, print_table

WIDTH = 100


def add_parser(sub: Any) -> None:
    """The ``show`` sub-command's options."""
    p = sub.add_parser("show", help="print the results table of a results folder")
    add_results_folder(p)
    p.add_argument("--study", help="only this study (default: all; the error lists them)")
    add_format(p)
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print the per-step summary; as a table, per study, then the comparisons."""
    import pandas as pd

    from ..analysis import stats
    from ..analysis.claims import claims, folder_claims
    from ..analysis.summary import summary_table
    from ..run.store import Store, load

    df = load(args.results)
    if args.study:
        if args.study not in set(df.study):
            raise UserError(f"--study {args.study!r} is not in {args.results}; allowed: "
                            f"{', '.join(sorted(set(df.study)))}")
        df = df[df.study == args.study]
    summary = summary_table(df)
    first = {study: i for i, study in enumerate(dict.fromkeys(summary.study))}
    summary = summary.iloc[sorted(range(len(summary)), key=lambda i: (
        first[summary.study.iat[i]], _cell_key(summary.preset.iat[i]), summary.step.iat[i]))]
    if args.format != "table":
        print_table(summary, args.format)
        return
    table = folder_claims(args.results, df) if not args.study else claims(df, Store(args.results))
    table = table[table.kind == "step"]
    print(textwrap.fill(stats.RULE, WIDTH))
    with pd.option_context("display.width", WIDTH, "display.max_colwidth", 44):
        for (study, preset), part in summary.groupby(["study", "preset"], sort=False):
            # titles of this study's own rows (a matched study titles the same step names)
            own = df[df.study == study]
            titles = dict(zip(own.step_name, own.get("title", own.step_name)))
            print(f"\n{study} ({preset})")
            print(_steps_view(part).to_string(index=False))
            comparisons = table[(table.study == study) & (table.preset == preset)]
            if not comparisons.empty:
                print(_comparisons_view(comparisons, titles).to_string(index=False))
    print("\n" + textwrap.fill(stats.provenance_line(df), WIDTH))


def _steps_view(part: Any) -> Any:
    """A study's steps: top-1 over seeds, our GFLOPs and parameters (224 px), the paper's
    where the step is the paper's own."""
    import pandas as pd

    return pd.DataFrame({
        "step": part.step, "name": part.step_name.map(lambda v: textwrap.shorten(
            str(v).replace("-", " "), 26, placeholder="...").replace(" ", "-")), "n": part.seeds,
        "top-1": part.top1_mean.map("{:.2f}".format),
        "sd": part.top1_std.map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        "GFLOPs": part.gflops.map("{:.2f}".format),
        "params M": part.params_m.map("{:.1f}".format),
        "paper top-1": part.paper_top1.map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        "paper GF": part.paper_gflops.map(lambda v: "" if pd.isna(v) else f"{v:.2f}"),
        "train min": part.train_minutes.map("{:.1f}".format)})


def _cell_key(preset: str) -> tuple:
    """Scale cells: the base cell first, then the one-axis cells in axis order by their value
    as a number, then the crossed cells (each setting compared as a number, or as text)."""
    settings = preset.split("+")[1:]
    key = []
    for setting in settings:
        axis, _, value = setting.partition("=")
        try:
            key.append((axis, 0, float(value), ""))
        except ValueError:
            key.append((axis, 1, 0.0, value))
    return (len(settings) > 1, tuple(key))


def _comparisons_view(table: Any, titles: dict) -> Any:
    """Each comparison named in words (the steps' titles), with its interval and verdict."""
    import pandas as pd

    from ..analysis.stats import format_interval

    def words(name: str) -> str:
        return textwrap.shorten(str(titles.get(name, name)), 30, placeholder="...")

    names = [f"{words(t)} - {words(c)}" for t, c in zip(table.treatment, table.control)]
    width = max(map(len, names))
    return pd.DataFrame({
        "comparison": [n.ljust(width) for n in names],
        "n": table.seeds, "gain": table.delta.map("{:+.2f}".format),
        "interval": [format_interval(a, b) for a, b in zip(table.lo, table.hi)],
        "verdict": table.verdict})

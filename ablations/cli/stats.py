"""``stats``: the table of claims of a results folder - every comparison, the verdict's
interval, the verdict, and against the paper."""

from __future__ import annotations

import argparse
import math
from typing import Any

from .common import add_results_folder, print_table

STATS_FORMATS = ("table", "csv", "json", "markdown", "latex")
"""table: every claim, by study; csv/json: the claims table itself; markdown/latex: the
Table-10 view of each chain (the paper beside ours, per step)."""


def add_parser(sub: Any) -> None:
    """The ``stats`` sub-command's options."""
    p = sub.add_parser("stats", help="the table of claims: each comparison's interval, "
                                     "verdict and verdict against the paper")
    add_results_folder(p)
    p.add_argument("--format", choices=STATS_FORMATS, default="table",
                   help="table (default), csv or json (the claims table), markdown or latex "
                        "(Table 10: the paper beside ours per chain step)")
    p.add_argument("--write", action="store_true", help="also write <results>/stats.csv")
    p.set_defaults(func=handle)


def handle(args: argparse.Namespace) -> None:
    """Print (and with ``--write`` store) the claims table of a results folder."""
    from ..analysis import claims
    from ..run.store import load

    if args.write:  # checked before the statistics are computed
        from .common import writable_folder

        writable_folder(args.results, "--results")
    df = load(args.results)
    table = claims.folder_claims(args.results, df)
    if args.format in ("csv", "json"):
        print_table(table, args.format)
    elif args.format in ("markdown", "latex"):
        print_paper_views(df, table, args.format)
    else:
        print_stats(df, table)
    if args.write:
        print(f"wrote {claims.write_claims(args.results, df)}")


KIND_TITLES = {"step": "each step against its control",
               "paper step": "the paper's last row, paired by design (sub-steps folded)",
               "vs first": "each step against step 0 (the last: ConvNeXt-T vs ResNet-50)",
               "gap change": "the gap's change along one axis, paired by seed",
               "trend": "the gap per doubling of an axis (mean of per-seed slopes)"}


def print_stats(df: Any, table: Any) -> None:
    """Every claim by study and kind (one rule, stated first), then the provenance line."""
    import pandas as pd

    from ..analysis import stats

    print(stats.RULE)
    with pd.option_context("display.width", 250, "display.max_colwidth", 60):
        for (study, kind), part in table.groupby(["study", "kind"], sort=False):
            what = KIND_TITLES.get(kind, kind)
            print(f"\n{study}: {what}; top-1 points")
            view = stats.format_stats(part)
            if kind in ("gap change", "trend"):
                view.insert(1, "axis", part.axis.fillna("").to_numpy())
            if part.preset.nunique() > 1:
                view.insert(1, "preset", part.preset.to_numpy())
            print(view.to_string(index=False))
    print("\n" + stats.provenance_line(df))


def print_paper_views(df: Any, table: Any, fmt: str) -> None:
    """The Table-10 view of each chain of the folder as Markdown or LaTeX."""
    from ..analysis import claims
    from ..analysis.stats import RULE, format_seeds
    from ..analysis.summary import summary_table
    from models.roadmap import CHAINS

    summary = summary_table(df)
    for study in [s for s in dict.fromkeys(table.study) if s in CHAINS]:
        for preset in dict.fromkeys(table[table.study == study].preset):
            part = table[(table.study == study) & (table.preset == preset)]
            view = claims.paper_view(part, summary[summary.preset == preset], study)
            text = view.assign(**{
                "paper top-1": view["paper top-1"].map(_num(2)),
                "paper gain": [note or _num(2, sign=True)(g) for g, note in
                               zip(view["paper gain"], view["paper note"])],
                "top-1": view["top-1"].map(_num(2)),
                "gain [interval]": [_gain(g, lo, hi) for g, lo, hi in
                                    zip(view.gain, view.lo, view.hi)],
                "seeds needed": view["seeds needed"].map(format_seeds),
            })[["step", "change", "paper top-1", "paper gain", "top-1", "seeds",
                "gain [interval]", "verdict", "vs paper", "seeds needed"]]
            caption = (f"{study} ({preset}): the paper's ImageNet-1K top-1 and gain beside "
                       f"ours; gains against the step before (the last row: against the step "
                       f"before the paper's last row). {RULE}")
            if fmt == "markdown":
                print(f"\n{caption}\n")
                print(_markdown(text))
            else:
                print(_latex(text, caption))


def _num(digits: int, sign: bool = False):
    def f(v: float) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""
        return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"
    return f


def _gain(g: float, lo: float, hi: float) -> str:
    if g is None or math.isnan(g):
        return ""
    return f"{g:+.2f}" + ("" if math.isnan(lo) else f" [{lo:+.2f}, {hi:+.2f}]")


def _markdown(text: Any) -> str:
    cols = list(text.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in text.itertuples(index=False)]
    return "\n".join(lines)


def _latex(text: Any, caption: str) -> str:
    """A booktabs table (no pandas Styler: jinja2 is not a dependency)."""
    def esc(v: Any) -> str:
        s = str(v)
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                     ("#", r"\#"), ("->", r"$\to$")):
            s = s.replace(a, b)
        return s

    cols = list(text.columns)
    out = [r"\begin{table}[t]", r"\centering", r"\small",
           r"\begin{tabular}{r l " + "r " * 4 + "l l l r}", r"\toprule",
           " & ".join(esc(c) for c in cols) + r" \\", r"\midrule"]
    out += [" & ".join(esc(v) for v in row) + r" \\" for row in text.itertuples(index=False)]
    out += [r"\bottomrule", r"\end{tabular}", r"\caption{" + esc(caption) + "}",
            r"\end{table}"]
    return "\n".join(out)

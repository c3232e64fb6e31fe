"""Markdown tables for results/README.md from a results folder (numbers, not prose).

    python scripts/results_markdown.py results/quick
"""

from __future__ import annotations

import math
import sys

import pandas as pd

from ablations.analysis import agreement
from ablations.analysis import stats
from ablations.analysis.contexts import CONTEXTS
from ablations.analysis.summary import summary_table
from ablations.run.store import Store, load
from ablations.studies import study_id
from models.roadmap import DEFAULT_CHAIN

CHAIN = DEFAULT_CHAIN


def _f(v: float, fmt: str = "{:+.2f}") -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


_p = stats.format_p


def _interval(delta: float, lo: float, hi: float) -> str:
    """``+d [+lo, +hi]``, or ``+d`` alone where one seed gives no interval."""
    return f"{delta:+.2f} {stats.format_interval(lo, hi)}".rstrip()


def chain_table(df: pd.DataFrame, store: Store, preset: str) -> str:
    s = summary_table(df[df.study == CHAIN])
    t = stats.study_stats(df, CHAIN, preset, store).set_index("step_name")
    wall = df[df.study == CHAIN].groupby("step_name").wall_seconds.median()
    lines = ["| step | name | seeds | top-1 mean | std | min | max | gain vs previous [95% CI] "
             "| p (Holm) | p McNemar | verdict | paper top-1 | paper gain | median s / run |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in s.itertuples():
        g = t.loc[r.step_name] if r.step_name in t.index else None
        gain = _interval(g.delta, g.lo, g.hi) if g is not None else ""
        lines.append(
            f"| {r.step} | {r.step_name} | {r.seeds} | {r.top1_mean:.2f} | {r.top1_std:.2f} | "
            f"{r.top1_min:.2f} | {r.top1_max:.2f} | {gain} | "
            f"{_p(g.p_adj) if g is not None else ''} | {_p(g.p_mcnemar) if g is not None else ''} | "
            f"{g.verdict if g is not None else ''} | {_f(r.paper_top1, '{:.2f}')} | "
            f"{_f(g.paper_delta) if g is not None else ''} | {wall.get(r.step_name, float('nan')):.0f} |")
    return "\n".join(lines)


def study_table(df: pd.DataFrame, store: Store, preset: str) -> str:
    lines = ["| study | comparison | seeds | delta [95% CI] | p (Holm) | p McNemar | verdict |",
             "|---|---|---|---|---|---|---|"]
    for study in (study_id("one-at-a-time", CHAIN), study_id("one-at-a-time-matched", CHAIN),
                  study_id("leave-one-out", CHAIN)):
        t = stats.study_stats(df, study, preset, store)
        for r in t.itertuples():
            lines.append(f"| {study.split(':')[0]} | {r.treatment} - {r.control} | {r.seeds} | "
                         f"{_interval(r.delta, r.lo, r.hi)} | {_p(r.p_adj)} | "
                         f"{_p(r.p_mcnemar)} | {r.verdict} |")
    return "\n".join(lines)


HEADERS = dict(zip(CONTEXTS, ("in the chain", "alone on ResNet-50",
                             "alone at ResNet-50's GFLOPs", "kept in ConvNeXt-T (vs removed)")))


def contexts_table(folder: str) -> str:
    """Per change: its gain in each context the order-effects table has, with the GFLOPs of
    the changed design (224 px) beside each estimate (a cell on fewer paired seeds than the
    table's most says its n)."""
    path = f"{folder}/order_effects_{CHAIN}.csv"
    t = pd.read_csv(path)
    cols = [c for c in CONTEXTS if c in t and t[c].notna().any()]
    most = int(t[[c + " seeds" for c in cols]].max().max())
    lines = ["| change | " + " | ".join(HEADERS[c] for c in cols) + " | across contexts |",
             "|---|" + "---|" * len(cols) + "---|"]
    for r in t.to_dict("records"):
        cells = []
        for c in cols:
            if pd.isna(r[c]):
                cells.append("")
                continue
            fewer = f" (n={r[c + ' seeds']})" if r[c + " seeds"] < most else ""  # part-way
            interval = _interval(r[c], r[c + " lo"], r[c + " hi"])
            cost = f", {r[c + ' gflops']:.1f} GF" if pd.notna(r.get(c + " gflops")) else ""
            cells.append(f"{interval} {r[c + ' verdict']}{fewer}{cost}")
        lines.append(f"| {r['change']} | " + " | ".join(cells) + f" | {r['across contexts']} |")
    return "\n".join(lines)


def scale_table(folder: str) -> str:
    """Per cell of the scale study: the gap ConvNeXt-T - ResNet-50 with its interval."""
    t = pd.read_csv(f"{folder}/scale_{CHAIN}.csv")
    lines = ["| axis | value | cell | seeds | gap ConvNeXt-T - ResNet-50 [95% CI] | verdict "
             "| device | training min (all runs of the cell) |", "|---|---|---|---|---|---|---|---|"]
    for r in t.to_dict("records"):
        lines.append(f"| {r['axis']} | {r['value']:g} | {r['cell']} | {r['seeds']} | "
                     f"{_interval(r['gap'], r['lo'], r['hi'])} | {r['verdict']} | "
                     f"{r['device']} | {r['train_minutes']:.1f} |")
    return "\n".join(lines)


def main() -> None:
    folder = sys.argv[1]
    df, store = load(folder), Store(folder)
    if CHAIN not in set(df.study) and any(s.startswith("fcmae:") for s in set(df.study)):
        print(fcmae_markdown(folder))
        print(stats.provenance_line(df))
        return
    preset = sorted(df.preset.unique())[0]
    print(chain_table(df, store, preset))
    a = agreement.paper_agreement(df, CHAIN, preset)
    print(f"\n{agreement.format_agreement(a)}\n")
    print(study_table(df, store, preset))
    for make in (contexts_table, scale_table):
        try:
            print("\n" + make(folder))
        except FileNotFoundError as e:  # that study's figure has not been drawn yet
            print(f"\n({e.filename}: not drawn yet)")
    chain_rows = df[df.study == CHAIN]
    per_seed = chain_rows.groupby("seed").wall_seconds.sum() / 60
    print("\nper-seed sum of run wall times (min):", per_seed.round(1).to_dict())
    print(stats.provenance_line(df))


def fcmae_markdown(folder: str) -> str:
    """The FCMAE co-design study's two tables: per cell (top-1, seeds, minutes, the paper's
    ConvNeXt-B top-1) and per comparison (paired delta, 95% interval, verdict, paper)."""
    from ablations.studies.fcmae import cells, comparison_titles, study_label

    df, store = load(folder), Store(folder)
    label = study_label()
    rows = df[(df.study == label) & (df.status == "ok")]
    preset = sorted(rows.preset.unique())[0]
    lines = ["| cell | pretrained as | seeds | top-1 mean | std | min / run (fine-tune) "
             "| min / run (pretraining) | paper top-1 (ConvNeXt-B) |",
             "|---|---|---|---|---|---|---|---|"]
    for c in cells():
        g = rows[rows.step_name == c.name]
        if g.empty:
            lines.append(f"| {c.name} | {c.pretraining.name if c.pretraining else '-'} | 0 "
                         f"| not run | | | | {c.paper_top1:.1f} |")
            continue
        pt = (f"{g.pretrain_seconds.median() / 60:.1f}" if c.pretraining
              and "pretrain_seconds" in g else "-")
        lines.append(f"| {c.name} | {c.pretraining.name if c.pretraining else '-'} | "
                     f"{len(g)} | {g.top1.mean():.2f} | {g.top1.std():.2f} | "
                     f"{g.wall_seconds.median() / 60:.1f} | {pt} | {c.paper_top1:.1f} |")
    t = stats.study_stats(df, label, preset, store)
    titles = comparison_titles()
    lines += ["", "| comparison | what it tests | seeds | delta [95% CI] | p (Holm) | p McNemar "
              "| verdict | paper delta |", "|---|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.treatment} - {r.control} | {titles[(r.treatment, r.control)]} | "
                     f"{r.seeds} | {_interval(r.delta, r.lo, r.hi)} | {_p(r.p_adj)} | "
                     f"{_p(r.p_mcnemar)} | {r.verdict} | {_f(r.paper_delta)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

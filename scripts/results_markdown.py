"""Markdown tables for results/README.md from a results folder (numbers, not prose).

    python scripts/results_markdown.py results/quick

Every comparison is read from the folder's table of claims (``claims.folder_claims``: the
stored ``stats.csv`` where it matches today's ``results.csv``, else computed now), so each
interval printed here is the verdict's interval of ``stats.RULE``: the paired-t interval over
seeds at level 1 - 0.05/m (Bonferroni over the m comparisons of its family), gain or loss
exactly when it excludes 0. McNemar's p is a column of its own, not part of the verdict.
"""

from __future__ import annotations

import math
import sys

import pandas as pd

from ablations.analysis import agreement
from ablations.analysis import stats
from ablations.analysis.claims import folder_claims, paper_view
from ablations.analysis.contexts import CONTEXTS, _cost, across_contexts
from ablations.analysis.paper import paper_by_design
from ablations.analysis.summary import summary_table
from ablations.run.store import Store, load
from ablations.studies import study_id
from ablations.studies.names import alone, removed
from models.roadmap import DEFAULT_CHAIN, chain

CHAIN = DEFAULT_CHAIN


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _f(v: float, fmt: str = "{:+.2f}") -> str:
    return "" if _nan(v) else fmt.format(v)


_p = stats.format_p
_seeds = stats.format_seeds


def _interval(delta: float, lo: float, hi: float) -> str:
    """``+d [+lo, +hi]``, or ``+d`` alone where one seed gives no interval."""
    return f"{delta:+.2f} {stats.format_interval(lo, hi)}".rstrip()


def _vs_paper(v) -> str:
    return "" if _nan(v) else str(v)


def family_line(rows: pd.DataFrame, what: str) -> str:
    """One sentence naming a family's size and the level of its intervals."""
    m, level = int(rows.family.iloc[0]), float(rows.level.iloc[0])
    return (f"{what}: m = {m} comparison{'s' if m != 1 else ''}, each interval at "
            f"{100 * level:.2f}% (1 - 0.05/{m}).")


def _rows(table: pd.DataFrame, study: str, kind: str = "step", preset: str | None = None
          ) -> pd.DataFrame:
    t = table[(table.study == study) & (table.kind == kind)]
    return t[t.preset == preset] if preset is not None else t


def chain_table(df: pd.DataFrame, table: pd.DataFrame, preset: str) -> str:
    """Per chain step: top-1 over seeds, the gain against the step before with the
    verdict's interval, p (adj.), McNemar's p, the verdict, the paper's top-1 (paired by
    design: the paper's last row beside our last step) and the median wall time of a run."""
    s = summary_table(df[(df.study == CHAIN) & (df.preset == preset)])
    t = _rows(table, CHAIN, preset=preset).set_index("step_name")
    paper_top1, folded = paper_by_design(CHAIN)
    wall = df[df.study == CHAIN].groupby("step_name").wall_seconds.median()
    lines = ["| step | name | seeds | top-1 mean | std | min | max | gain vs previous [interval] "
             "| p (adj.) | p McNemar | verdict | paper top-1 | median s / run |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in s.itertuples():
        g = t.loc[r.step_name] if r.step_name in t.index else None
        gain = _interval(g.delta, g.lo, g.hi) if g is not None else ""
        paper = ("in step 14" if r.step_name in folded
                 else _f(paper_top1.get(r.step_name), "{:.2f}"))
        lines.append(
            f"| {r.step} | {r.step_name} | {r.seeds} | {r.top1_mean:.2f} | {r.top1_std:.2f} | "
            f"{r.top1_min:.2f} | {r.top1_max:.2f} | {gain} | "
            f"{_p(g.p_adj) if g is not None else ''} | {_p(g.p_mcnemar) if g is not None else ''} | "
            f"{g.verdict if g is not None else ''} | {paper} | "
            f"{wall.get(r.step_name, float('nan')):.0f} |")
    return family_line(t, "Steps against the step before") + "\n\n" + "\n".join(lines)


def paper_table(df: pd.DataFrame, table: pd.DataFrame, preset: str) -> str:
    """The Table-10 view: per step the paper's top-1 and gain, that gain scaled to our
    error (``stats.scaled_paper_delta``), our gain with the verdict's interval, the verdict,
    the verdict against the paper and the seeds that would resolve it."""
    summary = summary_table(df[(df.study == CHAIN) & (df.preset == preset)])
    view = paper_view(table[table.preset == preset], summary, CHAIN)
    claims = pd.concat([_rows(table, CHAIN, "step", preset), _rows(table, CHAIN, "paper step", preset)])
    scaled = {(r.treatment, r.control): r.paper_scaled for r in claims.itertuples()}
    names = {s.index: s.name for s in chain(CHAIN)}
    lines = ["| step | change | paper top-1 | paper gain | paper gain, our scale | top-1 | "
             "gain [interval] | against | verdict | vs paper | seeds needed |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in view.to_dict("records"):
        previous = names.get(r["step"] - 1)
        against = "" if not r["against"] or r["against"] == previous else r["against"]
        paper_gain = r["paper note"] or _f(r["paper gain"])
        lines.append(
            f"| {r['step']} | {r['change']} | {_f(r['paper top-1'], '{:.2f}')} | {paper_gain} | "
            f"{_f(scaled.get((names[r['step']], r['against'])))} | {_f(r['top-1'], '{:.2f}')} | "
            f"{'' if _nan(r['gain']) else _interval(r['gain'], r['lo'], r['hi'])} | {against} | "
            f"{r['verdict']} | {r['vs paper']} | {_seeds(r['seeds needed'])} |")
    return "\n".join(lines)


def vs_first_table(table: pd.DataFrame, preset: str) -> str:
    """Each step against step 0 (the modern-recipe ResNet-50); the last row is the
    endpoint, ConvNeXt-T against ResNet-50."""
    t = _rows(table, CHAIN, "vs first", preset)
    lines = ["| step | name | seeds | vs step 0 [interval] | p (adj.) | verdict | paper gain "
             "| paper gain, our scale | vs paper | seeds needed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        name = f"**{r.treatment}** (endpoint)" if r.endpoint else r.treatment
        lines.append(f"| {int(r.step)} | {name} | {r.seeds} | {_interval(r.delta, r.lo, r.hi)} | "
                     f"{_p(r.p_adj)} | {r.verdict} | {_f(r.paper_delta)} | "
                     f"{_f(r.paper_scaled)} | {_vs_paper(r.vs_paper)} | "
                     f"{_seeds(r.seeds_needed)} |")
    return family_line(t, "Each step against step 0") + "\n\n" + "\n".join(lines)


def cell_chain_tables(df: pd.DataFrame, table: pd.DataFrame) -> str:
    """Where a scale cell holds the whole chain: per step its top-1 there beside the chain's
    at the base, the step against the step before and against step 0 (each with the
    verdict's interval), from the claims table's ``cell`` kinds."""
    study = study_id("scale", CHAIN)
    out = []
    cells = table[(table.study == study) & (table.kind == "cell step")].preset.unique()
    for cell in cells:
        rows = df[(df.study == study) & (df.preset == cell) & (df.status == "ok")]
        mean = rows.groupby("step_name").top1.mean()
        base = df[(df.study == CHAIN) & (df.preset == "quick") & (df.status == "ok")]
        base_mean = base.groupby("step_name").top1.mean()
        step = _rows(table, study, "cell step", cell).set_index("treatment")
        first = _rows(table, study, "cell vs first", cell).set_index("treatment")
        lines = [f"The chain in cell `{cell}` (seeds per step as listed; comparisons on the "
                 "seeds both steps have; the base column: the chain's own runs at the quick "
                 "preset, 5 seeds).", "",
                 family_line(step, "Steps against the step before") + " "
                 + family_line(first, "Against step 0"), "",
                 "| step | name | seeds | top-1 | top-1 at the base | vs previous [interval] | "
                 "verdict | vs step 0 [interval] | verdict |",
                 "|---|---|---|---|---|---|---|---|---|"]
        for s in chain(CHAIN):
            if s.name not in mean.index:
                continue
            g, f = step.loc[s.name] if s.name in step.index else None, \
                first.loc[s.name] if s.name in first.index else None
            lines.append(
                f"| {s.index} | {s.name} | {rows[rows.step_name == s.name].seed.nunique()} | "
                f"{mean[s.name]:.2f} | {_f(base_mean.get(s.name), '{:.2f}')} | "
                f"{_interval(g.delta, g.lo, g.hi) if g is not None else ''} | "
                f"{g.verdict if g is not None else ''} | "
                f"{_interval(f.delta, f.lo, f.hi) if f is not None else ''} | "
                f"{f.verdict if f is not None else ''} |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def study_table(table: pd.DataFrame, studies: tuple[str, ...], preset: str) -> str:
    """The comparisons of one or more order studies, each study its own family."""
    lines = ["| study | comparison | seeds | delta [interval] | p (adj.) | p McNemar | verdict |",
             "|---|---|---|---|---|---|---|"]
    families = []
    for study in studies:
        t = _rows(table, study, preset=preset)
        if t.empty:
            continue
        families.append(family_line(t, study.split(":")[0]))
        for r in t.itertuples():
            lines.append(f"| {study.split(':')[0]} | {r.treatment} - {r.control} | {r.seeds} | "
                         f"{_interval(r.delta, r.lo, r.hi)} | {_p(r.p_adj)} | "
                         f"{_p(r.p_mcnemar)} | {r.verdict} |")
    return " ".join(families) + "\n\n" + "\n".join(lines)


HEADERS = dict(zip(CONTEXTS, ("in the chain", "alone on ResNet-50",
                             "alone at ResNet-50's GFLOPs", "kept in ConvNeXt-T (vs removed)")))


def contexts_table(df: pd.DataFrame, table: pd.DataFrame, preset: str) -> str:
    """Per change: its gain in each context (the chain, one-at-a-time, compute-matched,
    leave-one-out), each with the verdict's interval of its own study and the GFLOPs at
    224 px of the design that carries the difference, and the word across contexts."""
    studies = (CHAIN, study_id("one-at-a-time", CHAIN),
               study_id("one-at-a-time-matched", CHAIN), study_id("leave-one-out", CHAIN))
    names = (str, alone, alone, removed)
    by = [_rows(table, s, preset=preset).set_index("step_name") for s in studies]
    lines = ["| change | " + " | ".join(HEADERS[c] for c in CONTEXTS) + " | across contexts |",
             "|---|" + "---|" * len(CONTEXTS) + "---|"]
    for s in chain(CHAIN)[2:]:
        cells, verdicts = [], []
        most = max((int(t.loc[name_of(s.name)].seeds) for name_of, t in zip(names, by)
                    if name_of(s.name) in t.index), default=0)
        for study, name_of, t in zip(studies, names, by):
            name = name_of(s.name)
            if name not in t.index:
                cells.append("")
                verdicts.append("")
                continue
            r = t.loc[name]
            # the design that carries the difference: the step, the variant, ConvNeXt-T
            # with the change removed
            changed = r.control if study == studies[3] else r.treatment
            gf = _cost(df, study, preset, changed, "gflops")
            cost = "" if _nan(gf) else f", {gf:.1f} GF"
            fewer = f" (n={int(r.seeds)})" if int(r.seeds) < most else ""  # say where n differs
            cells.append(f"{_interval(r.delta, r.lo, r.hi)} {r.verdict}{fewer}{cost}")
            verdicts.append(r.verdict)
        lines.append(f"| {s.title} | " + " | ".join(cells) + f" | {across_contexts(verdicts)} |")
    return "\n".join(lines)


def transformers_tables(df: pd.DataFrame, table: pd.DataFrame, preset: str) -> str:
    """ConvNeXt-T, Swin-T and DeiT-S per seed, and their comparisons."""
    study = study_id("transformers", CHAIN)
    rows = df[(df.study == study) & (df.preset == preset) & (df.status == "ok")]
    if rows.empty:
        return f"({study}: not run)"
    top1 = rows.pivot_table(index="seed", columns="step_name", values="top1")
    order = ["trunc-normal-init", "swin_t", "vit_s_16"]
    heads = {"trunc-normal-init": "ConvNeXt-T (chain step 14)", "swin_t": "Swin-T",
             "vit_s_16": "DeiT-S"}
    cols = [c for c in order if c in top1]
    lines = ["| seed | " + " | ".join(heads[c] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for seed, r in top1.iterrows():
        lines.append(f"| {seed} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    lines.append("| mean | " + " | ".join(f"{top1[c].mean():.2f}" for c in cols) + " |")
    t = _rows(table, study, preset=preset)
    lines += ["", family_line(t, "Transformers"), "",
              "| comparison | seeds | delta [interval] | p (adj.) | p McNemar | verdict | paper "
              "| paper, our scale | vs paper | seeds needed |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {heads[r.treatment]} - ConvNeXt-T | {r.seeds} | "
                     f"{_interval(r.delta, r.lo, r.hi)} | {_p(r.p_adj)} | {_p(r.p_mcnemar)} | "
                     f"{r.verdict} | {_f(r.paper_delta)} | {_f(r.paper_scaled)} | "
                     f"{_vs_paper(r.vs_paper)} | {_seeds(r.seeds_needed)} |")
    return "\n".join(lines)


def scale_table(folder: str) -> str:
    """The scale study from the claims table: per one-axis cell the gap ConvNeXt-T -
    ResNet-50 with the verdict's interval (the figure's CSV), the crossed cells (training
    images x regularisation x epochs x resolution) with the regularisation's gap change
    against its twin, every gap change and the trends."""
    from ablations.analysis.scale import cell_table

    t = pd.read_csv(f"{folder}/scale_{CHAIN}.csv")
    lines = ["| axis | value | cell | seeds | gap ConvNeXt-T - ResNet-50 [interval] | verdict "
             "| device | training min (all runs of the cell) |", "|---|---|---|---|---|---|---|---|"]
    for r in t.to_dict("records"):
        lines.append(f"| {r['axis']} | {r['value']:g} | {r['cell']} | {r['seeds']} | "
                     f"{_interval(r['gap'], r['lo'], r['hi'])} | {r['verdict']} | "
                     f"{r['device']} | {r['train_minutes']:.1f} |")
    out = ["\n".join(lines)]
    df = load(folder)
    cells = cell_table(df, CHAIN, Store(folder))
    crossed = cells[cells.train_images.isin(set(cells[cells.regularisation == "paper"].train_images))]
    if len(crossed):
        rows = ["| images | epochs | px | regularisation | seeds | gap [interval] | verdict | "
                "regularisation's change of the gap [interval] | verdict | training min |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for r in crossed.sort_values(["train_images", "resolution", "epochs",
                                      "regularisation"]).to_dict("records"):
            change = ("" if _nan(r["reg_change"]) else
                      _interval(r["reg_change"], r["reg_lo"], r["reg_hi"]))
            rows.append(f"| {r['train_images']} | {r['epochs']} | {r['resolution']} | "
                        f"{r['regularisation']} | {r['seeds']} | "
                        f"{_interval(r['gap'], r['lo'], r['hi'])} | {r['verdict']} | {change} | "
                        f"{'' if _nan(r['reg_verdict']) else r['reg_verdict']} | "
                        f"{r['train_minutes']:.1f} |")
        out.append("\n".join(rows))
    table = folder_claims(folder, df)
    study = study_id("scale", CHAIN)
    for kind, title in (("gap change", "cell | against | axis changed"),
                        ("trend", "trend | cells | axis")):
        t = table[(table.study == study) & (table.kind == kind)]
        if t.empty:
            continue
        rows = [f"| {title} | seeds | change of the gap [interval] | p (adj.) | verdict |",
                "|---|---|---|---|---|---|---|"]
        for r in t.itertuples():
            rows.append(f"| {r.treatment} | {r.control if kind == 'gap change' else r.preset} | "
                        f"{r.axis} | {r.seeds} | {_interval(r.delta, r.lo, r.hi)} | "
                        f"{_p(r.p_adj)} | {r.verdict} |")
        out.append(family_line(t, kind.capitalize() + "s") + "\n\n" + "\n".join(rows))
    return "\n\n".join(out)


def main() -> None:
    folder = sys.argv[1]
    df = load(folder)
    table = folder_claims(folder, df)
    print(stats.RULE + "\n")
    if CHAIN not in set(df.study) and any(s.startswith("fcmae:") for s in set(df.study)):
        print(fcmae_markdown(folder, df, table))
        print(stats.provenance_line(df))
        return
    preset = sorted(df[df.study == CHAIN].preset.unique())[0]
    print(chain_table(df, table, preset))
    print("\n" + paper_table(df, table, preset))
    print("\n" + vs_first_table(table, preset))
    a = agreement.paper_agreement(df, CHAIN, preset)
    print(f"\n{agreement.format_agreement(a)}\n")
    print(study_table(table, (study_id("one-at-a-time", CHAIN), study_id("leave-one-out", CHAIN)),
                      preset))
    print("\n" + contexts_table(df, table, preset))
    print("\n" + study_table(table, (study_id("one-at-a-time-matched", CHAIN),), preset))
    print("\n" + transformers_tables(df, table, preset))
    cells = cell_chain_tables(df, table)
    if cells:
        print("\n" + cells)
    try:
        print("\n" + scale_table(folder))
    except FileNotFoundError as e:  # that study's figure has not been drawn yet
        print(f"\n({e.filename}: not drawn yet)")
    chain_rows = df[df.study == CHAIN]
    per_seed = chain_rows.groupby("seed").wall_seconds.sum() / 60
    print("\nper-seed sum of run wall times (min):", per_seed.round(1).to_dict())
    print(stats.provenance_line(df))


def fcmae_markdown(folder: str, df: pd.DataFrame | None = None,
                   table: pd.DataFrame | None = None) -> str:
    """The FCMAE co-design study's two tables: per cell (top-1, seeds, minutes, the paper's
    ConvNeXt-B top-1) and per comparison (paired delta with the verdict's interval, p (adj.),
    McNemar's p, the verdict, the paper's delta, the verdict against the paper)."""
    from ablations.studies.fcmae import cells, comparison_titles, study_label

    df = load(folder) if df is None else df
    table = folder_claims(folder, df) if table is None else table
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
    t = _rows(table, label, preset=preset)
    titles = comparison_titles()
    lines += ["", family_line(t, "FCMAE"), "",
              "| comparison | what it tests | seeds | delta [interval] | p (adj.) | p McNemar "
              "| verdict | paper delta | paper, our scale | vs paper | seeds needed |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in t.itertuples():
        lines.append(f"| {r.treatment} - {r.control} | {titles[(r.treatment, r.control)]} | "
                     f"{r.seeds} | {_interval(r.delta, r.lo, r.hi)} | {_p(r.p_adj)} | "
                     f"{_p(r.p_mcnemar)} | {r.verdict} | {_f(r.paper_delta)} | "
                     f"{_f(r.paper_scaled)} | {_vs_paper(r.vs_paper)} | "
                     f"{_seeds(r.seeds_needed)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""One self-contained HTML page per results folder (``report.html``): the place to read a
results folder.

Every number on the page comes from the folder's table of claims (``analysis.claims``,
computed once per build; the interval beside a verdict is its ``lo``/``hi``), and the page
states ``stats.RULE`` once near the top. In order: the headline (ConvNeXt-T vs ResNet-50),
the paper's Table 10 beside ours, the chain with its training curves (means over seeds, one
panel per phase), each step's block, the order studies, the scale study, the Transformers,
FCMAE, any other study, feature collapse, every claim by study, and the commands that would
rebuild the folder (from its stored runs) with the commits that made them.

Each chart shows one contrast: a bar's length is a comparison's estimate, its colour that
comparison's verdict, its whiskers the verdict's interval. Chart titles are HTML above the
chart (never inside plotly's frame, where the toolbar sits), and the toolbar shows on hover.

Everything is inlined (plotly.js once, the figures' data, the diagrams as base64 SVG), so the
page opens offline and is one file to send. Plotly is imported inside the functions:
importing this module costs nothing heavy."""

from __future__ import annotations

import base64
import html
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from models.roadmap import DEFAULT_CHAIN, Step, chain, parent_step

from ..errors import UserError
from ..run.store import Store, load
from ..studies.names import ALONE_PREFIX, REMOVED_PREFIX, parse_study

REPORT_FILE = "report.html"
"""The page's name inside its results folder."""
VERDICT_COLORS = {"gain": "#2e7d32", "loss": "#c62828", "within noise": "#9e9e9e",
                  "too few seeds": "#d7ccc8"}
"""A bar's colour: the verdict of the comparison whose estimate is the bar's length."""
VS_PAPER_COLORS = {"reproduces": "#1565c0", "contradicts": "#ef6c00",
                   "cannot tell": "#b0bec5"}
"""A bar's colour in the paper chart: the verdict against the paper."""
PAPER_COLOR = "#455a64"
"""The paper's own bars."""
KIND_ORDER = ("chain", "one-at-a-time", "one-at-a-time-matched", "leave-one-out", "scale",
              "transformers", "fcmae", "sweep")
"""Studies in this order on the page (the report's chain first among chains)."""
ORDER_KINDS = ("one-at-a-time", "one-at-a-time-matched", "leave-one-out")
"""The order studies: each change measured outside the chain."""
CONTEXT_TITLES = {"chain": "in the chain (vs the step before)",
                  "one-at-a-time": "alone (on the modern-recipe ResNet)",
                  "one-at-a-time-matched": "alone, at the ResNet's GFLOPs",
                  "leave-one-out": "removed from ConvNeXt-T (full - without)"}
"""The order contexts, as the page names them."""
INTERVAL_WORDS = "whiskers: the verdict's interval"
"""Said in every caption of a chart with whiskers."""
_CONFIG = {"displaylogo": False, "responsive": True, "displayModeBar": "hover"}
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#bcbd22")


@dataclass(frozen=True)
class Inputs:
    """What every section reads: the results table, the chain's rows at the chosen preset,
    the folder's table of claims, the per-step summary and the folder's store."""

    folder: Path
    df: pd.DataFrame
    chain_name: str
    preset: str
    rows: pd.DataFrame
    claims: pd.DataFrame
    summary: pd.DataFrame
    store: Store
    diagrams: Diagrams | None = None


def build_report(out: str | Path, out_file: str | Path | None = None,
                 chain_name: str = DEFAULT_CHAIN) -> Path:
    """Write the report page of the results folder ``out`` (to ``out_file``, by default
    ``out/report.html``) and return its path. A folder without results is a ``UserError``."""
    inputs = read_inputs(out, chain_name, draw_ahead=True)
    try:
        page = render_page(inputs)
    finally:
        if inputs.diagrams is not None:
            inputs.diagrams.close()
    path = Path(out_file) if out_file is not None else inputs.folder / REPORT_FILE
    from ..system.files import atomic_write

    # whole or not at all: a full disk leaves the old page (or none), never half of one
    atomic_write(path, "wb", lambda f: f.write(page.encode("utf-8")))
    return path


def read_inputs(out: str | Path, chain_name: str = DEFAULT_CHAIN,
                draw_ahead: bool = False) -> Inputs:
    """The results of folder ``out`` and their claims; the chain's preset is the one with
    the most runs of the chain (none: '' and no chain rows). ``draw_ahead``: start drawing
    the block diagrams in worker processes before the claims are read (``Diagrams``; the
    caller closes them)."""
    from ..analysis.claims import folder_claims
    from ..analysis.summary import summary_table

    folder = Path(out)
    if not folder.is_dir():
        raise UserError(f"no results folder at {folder}: expected a folder written by `run`")
    df = load(folder)
    if df.empty:
        raise UserError(f"no results in {folder}: its table has no runs yet")
    if "status" not in df:
        df = df.assign(status="ok")
    chain_rows = df[df.study == chain_name]
    preset = str(chain_rows.preset.value_counts().idxmax()) if len(chain_rows) else ""
    rows = chain_rows[chain_rows.preset == preset]
    diagrams = Diagrams(diagram_pairs(chain_name, rows), ahead=True) if draw_ahead else None
    try:
        table = folder_claims(folder, df)
    except BaseException:
        if diagrams is not None:
            diagrams.close()
        raise
    ok = df[df.status == "ok"]
    return Inputs(folder, df, chain_name, preset, rows, table, summary_table(ok), Store(folder),
                  diagrams)


def ordered_studies(studies: Iterable[str], chain_name: str) -> list[str]:
    """Studies in the page's order: the chain, the order studies, scale, Transformers,
    FCMAE, sweeps, then other chains (custom ones too); ties by name."""
    def key(study: str) -> tuple[int, int, str]:
        kind = parse_study(study).kind
        rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        if kind == "chain" and study != chain_name:
            rank = len(KIND_ORDER)
        return rank, 0 if chain_name in study else 1, study
    return sorted(dict.fromkeys(studies), key=key)


def render_page(inputs: Inputs) -> str:
    """The whole HTML document: plotly.js once in the head, then every section."""
    from plotly.offline import get_plotlyjs

    from ..analysis.stats import RULE, provenance_line

    sections = [("paper-section", "The paper beside ours", paper_section),
                ("chain-section", "The chain", chain_section),
                ("curves-section", "Training curves", curves_section),
                ("diagrams-section", "Each step's block", diagrams_section),
                ("order-section", "Order contexts", order_section),
                ("scale-section", "Scale", scale_section),
                ("transformers-section", "Transformers", lambda i: kind_section(
                    i, "transformers", "transformers-section", "Transformers")),
                ("fcmae-section", "FCMAE", lambda i: kind_section(
                    i, "fcmae", "fcmae-section", "FCMAE pretraining")),
                ("other-section", "Other studies", other_section),
                ("collapse-section", "Feature collapse", collapse_section),
                ("stats-section", "Every claim", stats_section),
                ("provenance-section", "Commands and commits", provenance_section)]
    bodies = [(anchor, name, build(inputs)) for anchor, name, build in sections]
    bodies = [(a, n, b) for a, n, b in bodies if b]
    numbered = [b.replace("<h2 ", f'<h2 data-n="{k}. " ', 1) for k, (_, _, b) in
                enumerate(bodies, 1)]
    nav = "<nav>" + " · ".join(f'<a href="#{a}">{_e(n)}</a>' for a, n, _ in bodies) + "</nav>"
    title = f"Report: {inputs.folder.as_posix()}"
    studies = ordered_studies(inputs.df.study, inputs.chain_name)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{get_plotlyjs()}</script>', "</head>", "<body>",
        f'<h1 id="page-title">{_e(title)}</h1>',
        f'<p class="note">{_e(provenance_line(inputs.df))}. Chain <code>{_e(inputs.chain_name)}'
        f"</code>, preset <code>{_e(inputs.preset or '-')}</code>; top-1 in points of this "
        "folder's test set. Everything on this page is inlined: it opens offline.</p>",
        f'<p class="note">Studies: {_e(", ".join(studies))}. A section appears where the '
        "folder has its study.</p>",
        f'<p class="rule" id="rule"><b>The rule.</b> {_e(RULE)}</p>',
        headline(inputs), nav, *numbered, "</body>", "</html>", ""])


def headline(inputs: Inputs) -> str:
    """The headline paragraph: ConvNeXt-T vs ResNet-50 (the chain's ``endpoint`` claim)."""
    from ..analysis.claims import endpoint

    part = _claims(inputs, inputs.chain_name, inputs.preset)
    claim = endpoint(part, inputs.chain_name) if len(part) else None
    if claim is None:
        return '<p class="headline" id="headline">No ConvNeXt-T vs ResNet-50 comparison in ' \
               "this folder.</p>"
    steps = {s.name: s.index for s in chain(inputs.chain_name)}
    text = (f"<b>Headline.</b> ConvNeXt-T (step {steps.get(claim['treatment'], '?')}) vs "
            f"ResNet-50 with the modern recipe (step {steps.get(claim['control'], '?')}): "
            f"<b>{claim['delta']:+.2f}</b> points {_e(_interval(claim['lo'], claim['hi']))} "
            f"over {int(claim['seeds'])} seeds: {_verdict_span(claim['verdict'])}.")
    if _num(claim.get("paper_delta")) is not None:
        text += (f" The paper: {claim['paper_delta']:+.2f} on ImageNet-1K "
                 f"({claim['paper_scaled']:+.2f} as the same relative change in error here); "
                 f"against it: {_verdict_span(claim['vs_paper'])}.")
    return f'<p class="headline" id="headline">{text}</p>'


# --- the paper ------------------------------------------------------------------------------

def paper_table(inputs: Inputs) -> pd.DataFrame:
    """``claims.paper_view`` of the report's chain and preset (the paper's Table 10 beside
    ours) with each row's ``paper_scaled`` and the kind of its claim; empty without one."""
    from ..analysis.claims import paper_view
    from models.roadmap import CHAINS

    part = _claims(inputs, inputs.chain_name, inputs.preset)
    if inputs.chain_name not in CHAINS or part.empty:
        return pd.DataFrame()
    summary = inputs.summary[(inputs.summary.study == inputs.chain_name)
                             & (inputs.summary.preset == inputs.preset)]
    view = paper_view(part, summary, inputs.chain_name)
    names = [s.name for s in chain(inputs.chain_name)]
    scaled, kinds = [], []
    for name in names:
        rows = part[(part.treatment == name) & part.kind.isin(["paper step", "step"])]
        rows = rows.sort_values("kind")  # 'paper step' before 'step'
        scaled.append(rows.paper_scaled.iloc[0] if len(rows) else math.nan)
        kinds.append(rows.kind.iloc[0] if len(rows) else "")
    return view.assign(name=names, paper_scaled=scaled, claim_kind=kinds)


def paper_section(inputs: Inputs) -> str:
    """The paper's Table 10 beside ours (a table that fits 1400 px) and a chart of the
    paper's gain beside ours."""
    from ..analysis.stats import format_seeds

    head = _h2("paper-section", "The paper beside ours (Table 10)")
    view = paper_table(inputs)
    if view.empty:
        return ""
    body = []
    for r in view.rename(columns=_VIEW_NAMES).itertuples():
        folded = bool(r.paper_note)  # 'in <step>' for a folded sub-step
        paper_gain = f"folded {r.paper_note}" if folded else _fmt(r.paper_gain, sign=True)
        change = _e(r.change) + (f' <span class="mark">(the paper\'s last row, vs '
                                 f"{_e(r.against)})</span>" if r.claim_kind == "paper step"
                                 else "")
        body.append([str(r.step), change, _fmt(r.paper_top1), _e(paper_gain),
                     f"{_fmt(r.top1)} <small>({r.seeds})</small>" if r.seeds else "",
                     _gain_cell(r.gain, r.lo, r.hi), _verdict_span(r.verdict),
                     _verdict_span(r.vs_paper, VS_PAPER_COLORS),
                     _e(format_seeds(r.seeds_needed))])
    table = _html_table(["step", "change", "paper top-1", "paper gain", "our top-1 (seeds)",
                         "our gain [interval]", "verdict", "vs paper", "seeds needed"],
                        body, row_class=["folded" if n else "" for n in view["paper note"]],
                        table_id="paper-table")
    chart_rows = view[view.paper_scaled.notna()]
    note = _p_note(
        "The paper's ImageNet-1K top-1 and gain per step, paired by design: the paper's last "
        "row (separate downsampling) also turns on layer scale and ConvNeXt's init, so it "
        "stands beside our last step (ConvNeXt-T), against the step before that row; the "
        "sub-steps it folds in are marked 'folded' and have no paper gain. Our gain is against "
        "the step before, with the verdict's interval. 'vs paper': reproduces (the interval "
        "excludes 0 on the paper's side), contradicts (it excludes the paper's gain, scaled "
        "to our accuracy), cannot tell at these seeds; 'seeds needed': seeds that would "
        "resolve it at 80% power.")
    out = head + note + table
    if len(chart_rows):
        out += _chart(paper_figure(chart_rows), "paper", inputs.chain_name,
                      "The paper's gain beside ours, per step",
                      "Grey: the paper's gain as the same relative change in error at our "
                      "control's accuracy (the scale the verdict against the paper uses; the "
                      "ImageNet points are in the tooltip). Coloured: our gain against the "
                      f"same step; colour: the verdict against the paper; {INTERVAL_WORDS} "
                      "of our gain.")
    return out


_VIEW_NAMES = {"paper top-1": "paper_top1", "paper gain": "paper_gain",
               "paper note": "paper_note", "top-1": "top1", "vs paper": "vs_paper",
               "seeds needed": "seeds_needed"}


def paper_figure(view: pd.DataFrame) -> Any:
    """Per step the paper's scaled gain (grey) beside ours (coloured by the verdict against
    the paper, whiskers the verdict's interval)."""
    import plotly.graph_objects as go

    labels = _unique([f"{r.step} {r.change}" for r in view.itertuples()])
    view = view.rename(columns=_VIEW_NAMES).assign(label=labels)
    fig = go.Figure()
    fig.add_trace(go.Bar(
        orientation="h", name="paper (scaled to our accuracy)", y=labels,
        x=_list(view.paper_scaled), marker_color=PAPER_COLOR, offsetgroup="paper",
        hovertext=[f"<b>{_e(r.label)}</b><br>paper: {r.paper_gain:+.2f} on "
                   f"ImageNet-1K ({r.paper_top1:.2f} top-1)<br>as the same change in error here: "
                   f"{r.paper_scaled:+.2f}" for r in view.itertuples()], hoverinfo="text"))
    for verdict, color in VS_PAPER_COLORS.items():
        part = view[view.vs_paper == verdict]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            orientation="h", name=f"ours: {verdict}", y=list(part.label), x=_list(part.gain),
            marker_color=color, offsetgroup="ours", error_x=_whiskers(part.gain, part.lo,
                                                                      part.hi),
            hovertext=[f"<b>{_e(r.label)}</b><br>ours: {r.gain:+.2f} "
                       f"{_interval(r.lo, r.hi)} vs {_e(r.against)}<br>verdict: {r.verdict}"
                       f"<br>vs paper: <b>{verdict}</b>" for r in part.itertuples()],
            hoverinfo="text"))
    _bar_layout(fig, labels, "gain against the step before (top-1 points)", rows_per=2,
                legend_title="")
    fig.update_layout(barmode="group")
    return fig


# --- the chain ------------------------------------------------------------------------------

def step_table(inputs: Inputs) -> pd.DataFrame:
    """One row per step of the chain's rows (in step order): title, costs, top-1 per seed
    and mean, and its claim against the step before (delta, the verdict's interval, level,
    verdict, p_adj)."""
    ok = inputs.rows[inputs.rows.status == "ok"]
    titles = {s.name: s.title for s in chain(inputs.chain_name, branches=True)}
    part = _claims(inputs, inputs.chain_name, inputs.preset)
    by_treatment = {r["treatment"]: r for r in part[part.kind == "step"].to_dict("records")}
    out = []
    for name, g in ok.groupby("step_name", sort=False):
        g = g.drop_duplicates("seed", keep="last").sort_values("seed")
        r = by_treatment.get(name, {})
        out.append({"step": int(g.step.iloc[0]), "step_name": name,
                    "title": titles.get(name, str(g.title.iloc[0]) if "title" in g else name),
                    "gflops": float(g.gflops.iloc[0]), "params_m": float(g.params_m.iloc[0]),
                    "seeds": [int(v) for v in g.seed], "top1": [float(v) for v in g.top1],
                    "mean": float(g.top1.mean()), "control": r.get("control", ""),
                    "delta": r.get("delta", math.nan), "lo": r.get("lo", math.nan),
                    "hi": r.get("hi", math.nan), "level": r.get("level", math.nan),
                    "p_adj": r.get("p_adj", math.nan), "verdict": r.get("verdict", "")})
    table = pd.DataFrame(out)
    return table.sort_values("step", kind="stable").reset_index(drop=True) if out else table


def step_tooltip(row: dict[str, Any]) -> str:
    """The hover text of one chain bar (plotly's ``<br>`` line breaks)."""
    seeds = ", ".join(f"s{s}: {v:.2f}" for s, v in zip(row["seeds"], row["top1"]))
    lines = [f"<b>{row['step']} {_e(row['title'])}</b>",
             f"change: {_e(row['title'])} (<i>{_e(row['step_name'])}</i>)",
             f"GFLOPs {row['gflops']:.2f}, params {row['params_m']:.1f}M (paper scale, 224 px)",
             f"top-1 mean {row['mean']:.2f} over {len(row['seeds'])} seed(s)",
             f"top-1 per seed: {seeds}"]
    if row["control"]:
        level = _num(row.get("level"))
        lines.append(f"vs {_e(row['control'])}: {row['delta']:+.2f} "
                     f"{_interval(row['lo'], row['hi']) or '(no interval)'}"
                     + (f" ({100 * level:.2f}% interval)" if level else "")
                     + f", p_adj {_p(row['p_adj']) or 'n/a'}")
        lines.append(f"verdict: <b>{_e(row['verdict'])}</b>")
    else:
        lines.append("verdict: none (the first control)")
    return "<br>".join(lines)


def chain_section(inputs: Inputs) -> str:
    """The chain: each step's gain against the step before, then against step 0."""
    head = _h2("chain-section", f"The chain ({inputs.chain_name}, {inputs.preset or '-'})")
    steps = step_table(inputs)
    steps = steps[steps.control != ""] if len(steps) else steps
    if steps.empty:
        return ""
    labels = _unique([f"{r.step} {r.title}" for r in steps.itertuples()])
    fig = claim_bars(steps.assign(label=labels), [step_tooltip(r) for r in
                                                  steps.to_dict("records")],
                     "gain against the step before (top-1 points)")
    out = head + _chart(fig, "chain", inputs.chain_name,
                        "Each step's gain against the step before",
                        "Bar: the step's mean gain over paired seeds against the step before it; "
                        f"colour: that comparison's verdict; {INTERVAL_WORDS}. Hover a bar: the "
                        "change, its costs, top-1 per seed.")
    part = _claims(inputs, inputs.chain_name, inputs.preset)
    first = part[part.kind == "vs first"].sort_values("step", kind="stable")
    if len(first):
        titles = _titles(inputs.df, inputs.chain_name)
        labels = _unique([("★ " if e else "") + f"{int(s)} {titles.get(t, t)}" for s, t, e in
                          zip(first.step, first.treatment, first.endpoint)])
        hover = [_claim_hover(r, titles) for r in first.to_dict("records")]
        out += _chart(claim_bars(first.assign(label=labels), hover,
                                 "gain over step 0 (top-1 points)"),
                      "chain-vs-first", inputs.chain_name, "Each step against step 0 "
                      "(the modern-recipe ResNet-50)",
                      "Bar: the step's gain over step 0, paired by seed; colour: that "
                      f"comparison's verdict; {INTERVAL_WORDS}. ★: ConvNeXt-T vs ResNet-50, "
                      "the headline.")
    return out


# --- block diagrams -------------------------------------------------------------------------

def _diagram_cache(before: Step, after: Step, stage: int) -> Path | None:
    """Where a drawn diagram is kept (``system.files.cache_file``): named by both designs,
    the titles, the stage and the code that draws it, so a change is a new name."""
    import matplotlib

    from ..system.files import cache_file, code_digest

    here = Path(__file__).parent
    code = code_digest(*sorted(here.glob("diagram*.py")), here / "common.py")
    key = (f"{before.design!r}|{after.design!r}|{before.index} {before.title}|{after.index} "
           f"{after.title}|{stage}|{matplotlib.__version__}|{code}")
    return cache_file("diagrams", key, ".svg")


def diagram_svg(before: Step, after: Step, stage: int = 1) -> bytes:
    """The before -> after block diagram of a step as SVG bytes (``diagram.draw_step``),
    its text kept as text (a fraction of the time and size of a PNG). Drawn once per
    machine: a report built again reads it back from the cache."""
    cached = _diagram_cache(before, after, stage)
    if cached is not None and cached.is_file():
        return cached.read_bytes()
    svg = _draw_diagram_svg(before, after, stage)
    from ..system.files import keep_in_cache

    keep_in_cache(cached, svg.decode("utf-8"))
    return svg


def _draw_diagram_svg(before: Step, after: Step, stage: int = 1) -> bytes:
    import matplotlib.pyplot as plt

    from .diagram import draw_step

    with tempfile.TemporaryDirectory() as tmp, plt.rc_context({"svg.fonttype": "none"}):
        (path,) = draw_step(before.design, after.design, f"{before.index} {before.title}",
                            f"{after.index} {after.title}", Path(tmp) / "step", stage,
                            formats=(".svg",))
        return path.read_bytes()


def diagram_pairs(chain_name: str, rows: pd.DataFrame) -> list[tuple[Step, Step]]:
    """(step before, step) for each step of ``rows`` that has a step before it, in chain
    order (side branches too)."""
    names = set(rows.step_name)
    pairs = []
    for step in chain(chain_name, branches=True):
        before = parent_step(chain_name, step)
        if step.name in names and before.name != step.name:
            pairs.append((before, step))
    return pairs


def _is_cached(before: Step, after: Step, stage: int = 1) -> bool:
    cached = _diagram_cache(before, after, stage)
    return cached is not None and cached.is_file()


class Diagrams:
    """The block diagrams of (before, after) pairs by the after step's name. With ``ahead``
    they are drawn in up to two forked worker processes from the start, while the page's
    other work goes on (where the platform forks); any not drawn there is drawn here when
    asked for. ``close`` ends the workers."""

    def __init__(self, pairs: list[tuple[Step, Step]], ahead: bool = False) -> None:
        import multiprocessing
        import os
        from concurrent.futures import ProcessPoolExecutor

        self.pairs = {after.name: (before, after) for before, after in pairs}
        self._futures: dict[str, Any] = {}
        self._pool = None
        if ahead and len(pairs) > 1 and "fork" in multiprocessing.get_all_start_methods():
            try:
                self._pool = ProcessPoolExecutor(min(2, os.cpu_count() or 1),
                                                 mp_context=multiprocessing.get_context("fork"))
                self._futures = {a.name: self._pool.submit(diagram_svg, b, a) for b, a in pairs
                                 if not _is_cached(b, a)}
            except OSError:  # no processes to be had: draw each when asked
                self.close()

    def svg(self, name: str) -> bytes:
        """The SVG bytes of the diagram of step ``name``."""
        future = self._futures.pop(name, None)
        if future is not None:
            try:
                return future.result()
            except Exception:  # a worker gone (BrokenProcessPool): draw it here instead
                pass
        return diagram_svg(*self.pairs[name])

    def close(self) -> None:
        """End the worker processes (waiting for none that is not needed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._futures = {}


def diagrams_section(inputs: Inputs) -> str:
    """One collapsible before -> after diagram per step of the chain's rows."""
    head = _h2("diagrams-section", "Each step's block, before -> after")
    pairs = diagram_pairs(inputs.chain_name, inputs.rows)
    diagrams = inputs.diagrams if inputs.diagrams is not None else Diagrams(pairs)
    blocks = []
    for before, step in pairs:
        svg = base64.b64encode(diagrams.svg(step.name)).decode("ascii")
        same = " (same design: the recipe changes)" if before.design == step.design else ""
        blocks.append(f"<details><summary>{step.index} {_e(step.title)}{_e(same)}</summary>"
                      f'<img alt="{_e(before.title)} -> {_e(step.title)}" '
                      f'src="data:image/svg+xml;base64,{svg}"></details>')
    if not blocks:
        return ""
    return head + _p_note("Stage 2's first block (and the stem), changed boxes outlined. "
                          "Click a step to open it.") + "\n".join(blocks)


# --- order contexts -------------------------------------------------------------------------

def change_of(study: str, treatment: str, control: str) -> str:
    """The chain step whose change a claim of an order study measures: ``only-X`` -> X
    (one-at-a-time), ``without-X`` -> X (leave-one-out: full - without)."""
    if treatment.startswith(ALONE_PREFIX):
        return treatment.removeprefix(ALONE_PREFIX)
    if control.startswith(REMOVED_PREFIX):
        return control.removeprefix(REMOVED_PREFIX)
    return treatment


def order_section(inputs: Inputs) -> str:
    """One chart per order study and preset (each change's gain in that context) and a
    table of each change's gain in every context."""
    head = _h2("order-section", "Order contexts")
    studies = [s for s in ordered_studies(inputs.claims.study, inputs.chain_name)
               if parse_study(s).kind in ORDER_KINDS]
    if not studies:
        return ""
    titles = {s.name: s.title for s in chain(inputs.chain_name)}
    titles.update({k: v for k, v in _titles(inputs.df).items() if k not in titles})
    costs = _costs(inputs.df)
    out = head + _p_note(
        "Each change of the chain measured where it is not one step of the chain: alone on "
        "the modern-recipe ResNet-50, alone with the ResNet's GFLOPs (widths scaled), and "
        "removed from ConvNeXt-T (the full design minus the design without it: > 0, the "
        "change helps at the end).")
    for study in studies:
        kind = parse_study(study).kind
        for preset in dict.fromkeys(inputs.claims[inputs.claims.study == study].preset):
            part = _claims(inputs, study, preset)
            part = part[part.kind == "step"]
            changes = [change_of(study, t, c) for t, c in zip(part.treatment, part.control)]
            order = {s.name: s.index for s in chain(inputs.chain_name)}
            part = part.assign(change=changes, order=[order.get(c, 99) for c in changes])
            part = part.sort_values("order", kind="stable")
            labels = _unique([f"{o} {titles.get(c, c)}" if o != 99 else titles.get(c, c)
                              for o, c in zip(part.order, part.change)])
            hover = [_claim_hover(r, titles, costs.get((study, preset))) for r in
                     part.to_dict("records")]
            fig = claim_bars(part.assign(label=labels), hover, "gain of the change "
                             "(top-1 points)")
            how = ("the full design minus the design without it" if kind == "leave-one-out"
                   else "the design with it minus the modern-recipe ResNet-50")
            out += _chart(fig, f"study-{_slug(study)}-{_slug(preset)}", study,
                          f"{kind} ({preset}): each change {CONTEXT_TITLES[kind]}",
                          f"Bar: the change's gain in this context, paired by seed ({how}); "
                          f"colour: that comparison's verdict; {INTERVAL_WORDS}. GFLOPs of "
                          "both designs in the tooltip.")
    return out + "<h3>Each change in every context</h3>" + contexts_table(inputs)


def contexts_table(inputs: Inputs) -> str:
    """Each change's gain [the verdict's interval] and verdict in the chain and in each
    order study of the report's preset (one column per context)."""
    columns = {"chain": _claims(inputs, inputs.chain_name, inputs.preset)}
    for study in ordered_studies(inputs.claims.study, inputs.chain_name):
        kind = parse_study(study).kind
        if kind in ORDER_KINDS and parse_study(study).subject == inputs.chain_name:
            columns[kind] = _claims(inputs, study, inputs.preset)
    cells: dict[str, dict[str, str]] = {}
    for ctx, part in columns.items():
        for r in part[part.kind == "step"].to_dict("records"):
            change = change_of(ctx, r["treatment"], r["control"])
            color = VERDICT_COLORS.get(r["verdict"], "#555555")
            cells.setdefault(change, {})[ctx] = (
                f'<span class="verdict" style="color:{color}" title="{_e(r["verdict"])}">'
                f"{r['delta']:+.2f} {_e(r['verdict'])}</span><br>"
                f"<small>{_e(_interval(r['lo'], r['hi']))}</small>")
    body = [[f"{s.index} {_e(s.title)}", *(cells.get(s.name, {}).get(ctx, "")
                                          for ctx in columns)]
            for s in chain(inputs.chain_name) if s.index > 0]
    return _html_table(["change", *(CONTEXT_TITLES[c] for c in columns)], body,
                       table_id="contexts-table")


# --- scale ----------------------------------------------------------------------------------

def cell_label(preset: str, base: Any) -> str:
    """A scale cell as the page names it: 'base (quick)' or 'train_images=7500 +
    regularisation=paper'."""
    from ..studies.scale import cell_of

    settings = cell_of(preset, base)
    if not settings:
        return f"base ({preset})"
    return " + ".join(f"{a}={v:g}" if isinstance(v, (int, float)) else f"{a}={v}"
                      for a, v in settings.items())


def _cell_key(preset: str, base: Any) -> tuple:
    from ..studies.scale import cell_of

    s = cell_of(preset, base)
    return (len(s), list(s), [v if isinstance(v, (int, float)) else 0 for v in s.values()])


def scale_section(inputs: Inputs) -> str:
    """Per scale study: the gap per cell, each cell's gap change against its twin (the
    regularisation's against the same cell without it), and the trend per axis."""
    from ..studies.scale import base_of

    head = _h2("scale-section", "Scale")
    studies = [s for s in ordered_studies(inputs.claims.study, inputs.chain_name)
               if parse_study(s).kind == "scale"]
    if not studies:
        return ""
    out = head
    for study in studies:
        part = inputs.claims[inputs.claims.study == study]
        rows = inputs.df[inputs.df.study == study]
        base = base_of(list(rows.preset.unique()))
        gaps = part[part.kind == "step"]
        gaps = gaps.iloc[sorted(range(len(gaps)), key=lambda i: _cell_key(gaps.preset.iloc[i],
                                                                            base))]
        labels = _unique([cell_label(p, base) for p in gaps.preset])
        minutes = rows.groupby("preset").train_seconds.sum() / 60
        devices = rows.groupby("preset").device.agg(
            lambda d: " + ".join(sorted(d.dropna().astype(str).unique())) or "unknown")
        hover = [_claim_hover(r, {}, extra=f"cell {r['preset']}: "
                              f"{minutes.get(r['preset'], 0):.1f} training minutes on "
                              f"{devices.get(r['preset'], 'unknown')}")
                 for r in gaps.to_dict("records")]
        out += _p_note(f"{study}: the gap ConvNeXt-T - ResNet-50 (both with the modern "
                       f"recipe) in each cell of the grid around the base preset "
                       f"{base.name}; all cells one family of the rule.")
        out += _chart(claim_bars(gaps.assign(label=labels), hover,
                                 "gap ConvNeXt-T - ResNet-50 (top-1 points)"),
                      f"scale-gaps-{_slug(study)}", study, "The gap in each cell",
                      "Bar: the gap ConvNeXt-T - ResNet-50 in the cell, paired by seed "
                      f"(< 0: ConvNeXt-T behind); colour: its verdict; {INTERVAL_WORDS}. "
                      "No lines between cells: a trend is its own claim (below).")
        changes = part[part.kind == "gap change"]
        if len(changes):
            changes = changes.iloc[sorted(range(len(changes)), key=lambda i: _cell_key(
                changes.preset.iloc[i], base))]
            labels = _unique([f"{cell_label(t, base)} vs {cell_label(c, base)}"
                              for t, c in zip(changes.treatment, changes.control)])
            hover = [_claim_hover(r, {}) for r in changes.to_dict("records")]
            out += _chart(claim_bars(changes.assign(label=labels), hover,
                                     "change of the gap (top-1 points)"),
                          f"scale-changes-{_slug(study)}", study,
                          "How the gap changes from one cell to the next (crossed cells: "
                          "with vs without the paper's regularisation)",
                          "Bar: a cell's gap minus the gap of the cell that differs from it "
                          "in one axis only (the base cell for a one-axis cell), paired by "
                          f"seed; colour: its verdict; {INTERVAL_WORDS}.")
        trends = part[part.kind == "trend"]
        if len(trends):
            labels = _unique(list(trends.treatment))
            hover = [_claim_hover(r, {}) for r in trends.to_dict("records")]
            out += _chart(claim_bars(trends.assign(label=labels), hover,
                                     "points per doubling of the axis"),
                          f"scale-trends-{_slug(study)}", study, "The trend along each axis",
                          "Bar: per seed the least-squares slope of the gap on log2 of the "
                          "axis value (cells of that axis alone), averaged over seeds; "
                          f"colour: its verdict; {INTERVAL_WORDS}. A trend is read only "
                          "where its interval excludes 0.")
        for cell in dict.fromkeys(part[part.kind == "cell vs first"].preset):
            first = part[(part.kind == "cell vs first") & (part.preset == cell)]
            first = first.sort_values("step", kind="stable")
            titles = _titles(inputs.df, study)
            labels = _unique([titles.get(t, t) for t in first.treatment])
            hover = [_claim_hover(r, {}) for r in first.to_dict("records")]
            out += _chart(claim_bars(first.assign(label=labels), hover,
                                     "gain over step 0 (top-1 points)"),
                          f"scale-cell-chain-{_slug(study)}-{_slug(cell)}", study,
                          f"The whole chain in cell {cell_label(cell, base)}",
                          "Bar: each step's gain over step 0 (ResNet-50, modern recipe) in "
                          "this cell, paired by seed (its Figure 2: plot --style paper "
                          f"--cell {cell}); colour: its verdict; {INTERVAL_WORDS}.")
    return out


# --- Transformers, FCMAE and the other studies ---------------------------------------------

def study_chart(inputs: Inputs, study: str, preset: str) -> str:
    """One study at one preset as one chart: each comparison's estimate (bar), verdict
    (colour) and the verdict's interval (whiskers), the paper's value in the tooltip."""
    part = _claims(inputs, study, preset)
    part = part[part.kind == "step"]
    if part.empty:
        return _p_note(f"{study} ({preset}): no comparison yet (it needs two steps with "
                       "paired seeds).")
    titles = _titles(inputs.df, study)
    labels = _unique([f"{titles.get(t, t)} vs {titles.get(c, c)}"
                      for t, c in zip(part.treatment, part.control)])
    hover = [_claim_hover(r, titles) for r in part.to_dict("records")]
    return _chart(claim_bars(part.assign(label=labels), hover,
                             "difference (top-1 points)"),
                  f"study-{_slug(study)}-{_slug(preset)}", study, f"{study} ({preset})",
                  "Bar: the first model's mean top-1 minus the second's, paired by seed; "
                  f"colour: that comparison's verdict; {INTERVAL_WORDS}. The paper's value "
                  "and the verdict against it (where the paper has the comparison) in the "
                  "tooltip.")


def kind_section(inputs: Inputs, kind: str, anchor: str, title: str) -> str:
    """The studies of one kind (Transformers, FCMAE), each preset one chart; '' where the
    folder has none."""
    studies = [s for s in ordered_studies(inputs.claims.study, inputs.chain_name)
               if parse_study(s).kind == kind]
    if not studies:
        return ""
    out = _h2(anchor, title)
    for study in studies:
        for preset in dict.fromkeys(inputs.df[inputs.df.study == study].preset):
            out += study_chart(inputs, study, preset)
    return out


def other_section(inputs: Inputs) -> str:
    """Studies of no section of their own (sweeps, custom chains, other chains, the report's
    chain at other presets), one chart per preset; '' where there are none."""
    out = []
    for study in ordered_studies(inputs.df.study, inputs.chain_name):
        kind = parse_study(study).kind
        if kind in (*ORDER_KINDS, "scale", "transformers", "fcmae"):
            continue
        for preset in dict.fromkeys(inputs.df[inputs.df.study == study].preset):
            if study == inputs.chain_name and preset == inputs.preset:
                continue
            out.append(study_chart(inputs, study, preset))
    return _h2("other-section", "Other studies") + "".join(out) if out else ""


# --- feature collapse -----------------------------------------------------------------------

def collapse_section(inputs: Inputs) -> str:
    """The feature cosine distance per block (mean over seeds), one line per model, from
    the folder's ``collapse.csv``; '' where it has none."""
    import plotly.graph_objects as go

    path = inputs.folder / "collapse.csv"
    if not path.is_file():
        return ""
    table = pd.read_csv(path)
    if table.empty or not {"model", "block", "cosine_distance"} <= set(table.columns):
        return ""
    fig = go.Figure()
    for k, (model, g) in enumerate(table.groupby("model", sort=False)):
        m = g.groupby("block", sort=True).agg(d=("cosine_distance", "mean"),
                                              dead=("dead_share", "mean"),
                                              n=("seed", "nunique"))
        fig.add_trace(go.Scatter(
            x=list(m.index), y=_list(m.d), mode="lines+markers", name=str(model),
            line={"color": _PALETTE[k % len(_PALETTE)]},
            hovertext=[f"<b>{_e(model)}</b><br>block {b}: distance {d:.3f}, dead channels "
                       f"{100 * x:.1f}% (mean of {n} seed(s))"
                       for b, d, x, n in zip(m.index, m.d, m.dead, m.n)], hoverinfo="text"))
    fig.update_layout(height=380, margin={"l": 60, "r": 20, "t": 30, "b": 50},
                      xaxis={"title": "block (input to output)", "dtick": 1},
                      yaxis={"title": "feature cosine distance"},
                      legend={"orientation": "h", "y": -0.2}, hoverlabel={"align": "left"})
    return _h2("collapse-section", "Feature collapse") + _chart(
        fig, "collapse", "", "Feature cosine distance per block",
        "The V2 paper's measure of feature collapse on the hidden (expanded) activations of "
        "each block: low = redundant channels. Mean over seeds; the share of dead channels in "
        "the tooltip. A measurement, not a comparison: no verdict, no whiskers.")


# --- training curves ------------------------------------------------------------------------

def curves_figure(inputs: Inputs) -> Any:
    """Test top-1 per epoch, mean over seeds, one panel per phase of the chain (its steps,
    and dashed grey the step before the phase); None without history."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ok = inputs.rows[inputs.rows.status == "ok"]
    means: dict[str, pd.DataFrame] = {}
    for name, g in ok.groupby("step_name", sort=False):
        curves = []
        for h in (inputs.store.history(c) for c in g.config_hash):
            if not h.empty and "test_top1" in h:
                curves.append(h[["epoch", "test_top1"]])
        if curves:
            all_ = pd.concat(curves)
            means[name] = all_.groupby("epoch").test_top1.agg(["mean", "count"]).reset_index()
    steps = [s for s in chain(inputs.chain_name) if s.name in means]
    if not steps:
        return None
    phases = list(dict.fromkeys(s.phase for s in steps))
    cols = 2 if len(phases) > 1 else 1
    nrows = math.ceil(len(phases) / cols)
    fig = make_subplots(rows=nrows, cols=cols, subplot_titles=phases, shared_yaxes=True,
                        vertical_spacing=0.32 / nrows, horizontal_spacing=0.05)
    previous = None
    for k, phase in enumerate(phases):
        row, col = k // cols + 1, k % cols + 1
        mine = [s for s in steps if s.phase == phase]
        lines = ([(previous, "#9e9e9e", "dash", True)] if previous is not None else []) + \
                [(s, _PALETTE[i % len(_PALETTE)], "solid", False) for i, s in enumerate(mine)]
        for s, color, dash, ref in lines:
            m = means[s.name]
            fig.add_trace(go.Scatter(
                x=_list(m.epoch), y=_list(m["mean"]), mode="lines",
                name=f"{s.index} {s.title}" + (" (before the phase)" if ref else ""),
                legendgroup=f"p{k}", legendgrouptitle={"text": phase} if not ref and s is
                mine[0] else None, showlegend=not ref,
                line={"color": color, "dash": dash, "width": 1.5 if ref else 2},
                hovertemplate=f"{s.index} {_e(s.title)}<br>epoch %{{x}}: %{{y:.2f}} "
                              f"(mean of {int(m['count'].max())} seeds)<extra></extra>"),
                row=row, col=col)
        previous = mine[-1]
    fig.update_yaxes(title_text="test top-1 (%)", col=1)
    fig.update_xaxes(title_text="epoch", row=nrows)
    fig.update_layout(height=260 * nrows + 80, margin={"l": 60, "r": 20, "t": 50, "b": 50},
                      legend={"groupclick": "toggleitem", "font": {"size": 11}},
                      hoverlabel={"align": "left"})
    return fig


def curves_section(inputs: Inputs) -> str:
    """The training curves of the chain, means over seeds by phase."""
    head = _h2("curves-section", "Training curves")
    fig = curves_figure(inputs) if not inputs.rows.empty else None
    if fig is None:
        return ""
    return head + _chart(fig, "training-curves", inputs.chain_name,
                         f"Test top-1 per epoch, {inputs.chain_name} ({inputs.preset})",
                         "Each line: the mean over seeds of a step's test top-1 after each "
                         "epoch; one panel per phase of the chain, dashed grey the step "
                         "before the phase. Click a legend entry to hide or show a step.")


# --- every claim ----------------------------------------------------------------------------

def stats_section(inputs: Inputs) -> str:
    """Every claim of the folder, one table per study (in the page's order) and kind."""
    from ..analysis.stats import format_stats

    head = _h2("stats-section", "Every claim, by study")
    if inputs.claims.empty:
        return head + _p_note("No comparisons yet (every study needs two steps with paired "
                              "seeds).")
    out = head + _p_note("Verdicts by the rule at the top of the page; the interval printed "
                         "is the verdict's (at 'level'); McNemar's p is beside it, not part "
                         "of it. mde: the smallest effect these seeds detect at 80% power.")
    for study in ordered_studies(inputs.claims.study, inputs.chain_name):
        part = inputs.claims[inputs.claims.study == study]
        out += f"<h3>{_e(study)}</h3>"
        for kind, rows in part.groupby("kind", sort=False):
            view = format_stats(rows)
            view.insert(0, "kind", kind)
            if rows.preset.nunique() > 1 or kind in ("gap change", "trend"):
                view.insert(1, "preset", rows.preset.to_numpy())
            if kind in ("gap change", "trend"):
                view.insert(2, "axis", rows.axis.fillna("").to_numpy())
            view = view.drop(columns=["step"])
            empty = [c for c in view.columns if (view[c].astype(str) == "").all()]
            out += _table(view.drop(columns=empty), verdict_column="verdict")
    return out


# --- commands and commits -------------------------------------------------------------------

def seeds_option(seeds: Iterable[int]) -> str:
    """``--seeds`` for a set of seeds: 'N' for 0..N-1, 'A-B' for a range, else 'A,B,...'."""
    s = sorted({int(v) for v in seeds})
    if s == list(range(len(s))):
        return str(len(s))
    if s == list(range(s[0], s[-1] + 1)):
        return f"{s[0]}-{s[-1]}"
    return ",".join(map(str, s))


def study_commands(df: pd.DataFrame, out: str, chain_name: str = DEFAULT_CHAIN) -> list[str]:
    """One ``python -m ablations run`` command per study and preset of a results table that
    would train its runs again into ``out`` (a scale study: one per set of seeds, its cells
    as ``--grid``; ``--dataset`` where the runs' data set is not their preset's); studies
    in the page's order."""
    from models.roadmap import CHAINS

    from ..studies.scale import base_of, cell_of
    from ..train.recipe import run_preset

    def dataset(rows: pd.DataFrame, preset: str) -> str:
        names = sorted(set(rows.dataset.dropna().astype(str))) if "dataset" in rows else []
        try:
            default = run_preset(preset).dataset
        except UserError:  # a preset this version does not know: say nothing
            return ""
        return f" --dataset {names[0]}" if len(names) == 1 and names[0] != default else ""

    lines = []
    for study in ordered_studies(df.study, chain_name):
        rows = df[df.study == study]
        sid = parse_study(study)
        if sid.kind == "scale":
            base = base_of(list(rows.preset.unique()))
            by_seeds: dict[str, list[str]] = {}
            for preset, g in rows.groupby("preset", sort=False):
                by_seeds.setdefault(seeds_option(g.seed), []).append(preset)
            for seeds, presets in by_seeds.items():
                blocks: dict[str, list[str]] = {}
                crossed = []
                for p in sorted(presets, key=lambda p: _cell_key(p, base)):
                    s = {a: (f"{v:g}" if isinstance(v, (int, float)) else str(v))
                         for a, v in cell_of(p, base).items()}
                    if len(s) == 1:
                        (a, v), = s.items()
                        blocks.setdefault(a, []).append(v)
                    elif s:
                        crossed.append(" x ".join(f"{a}={v}" for a, v in s.items()))
                grid = [f"{a}={','.join(v)}" for a, v in blocks.items()] + crossed
                lines.append(f"python -m ablations run --study scale --chain {sid.subject} "
                             f"--preset {base.name} --seeds {seeds}"
                             + (f' --grid "{";".join(grid)}"' if grid else "")
                             + dataset(rows, base.name) + f" --out {out}")
            continue
        for preset, g in rows.groupby("preset", sort=False):
            seeds = seeds_option(g.seed)
            if sid.kind == "chain" and study in CHAINS:
                names = [s.name for s in chain(study)]
                have = set(g.step_name)
                steps = ("" if set(names) <= have else " --steps " + ",".join(
                    n for n in names if n in have))
                branches = " --branches" if have - set(names) else ""
                what = f"--chain {study}{steps}{branches}"
            elif sid.kind == "chain":  # a custom chain: its file is not in the folder
                what = f"--study custom --custom <the chain file of {study}>"
            elif sid.kind == "sweep":
                field, _, base_model = sid.subject.partition("@")
                values = ",".join(dict.fromkeys(str(v) for v in g.step_name))
                what = (f"--study sweep --sweep {field}={values}"
                        + (f" --sweep-base {base_model}" if base_model else ""))
            elif sid.kind == "fcmae":
                what = "--study fcmae"
            else:
                what = f"--study {sid.kind} --chain {sid.subject}"
            lines.append(f"python -m ablations run {what} --preset {preset} --seeds {seeds}"
                         f"{dataset(g, preset)} --out {out}")
    return lines


def provenance_table(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct (study, preset, git_commit) with their number of runs and seeds."""
    d = df.assign(git_commit=df.get("git_commit", pd.Series("", index=df.index))
                  .fillna("unknown").astype(str))
    g = d.groupby(["study", "preset", "git_commit"], sort=False)
    return g.agg(runs=("config_hash", "size"), seeds=("seed", "nunique")).reset_index()


def provenance_section(inputs: Inputs) -> str:
    """The commands that would train the folder's runs again, and the commits that made
    them."""
    head = _h2("provenance-section", "Commands and commits")
    out = inputs.folder.as_posix()
    commands = study_commands(inputs.df, out, inputs.chain_name)
    cmd = ("<pre>" + "\n".join(_e(c) for c in commands) + "\n"
           + _e(f"python -m ablations stats --results {out} --write") + "\n"
           + _e(f"python -m ablations report --results {out}") + "</pre>")
    table = provenance_table(inputs.df)
    order = {s: k for k, s in enumerate(ordered_studies(table.study, inputs.chain_name))}
    table = table.sort_values("study", key=lambda s: s.map(order), kind="stable")
    return (head + "<h3>Commands</h3>"
            + _p_note("Rebuilt from the folder's stored runs (their study, preset and seeds): "
                      "one command per study and preset; a run already in the folder is "
                      "skipped, so each command only trains what is missing.") + cmd
            + "<h3>Commits</h3>"
            + _p_note("Which commit and preset made the runs of each study (a run's commit "
                      "is recorded when it trains; '+dirty': uncommitted changes).")
            + _table(table))


# --- charts ---------------------------------------------------------------------------------

def claim_bars(rows: pd.DataFrame, hover: list[str], x_title: str) -> Any:
    """Horizontal bars of claims (column ``label`` top to bottom): length ``delta``, colour
    its ``verdict``, whiskers its ``lo``/``hi``, a line at 0."""
    import plotly.graph_objects as go

    rows = rows.reset_index(drop=True).assign(hover=hover)
    labels = list(rows.label)
    fig = go.Figure()
    for verdict, color in VERDICT_COLORS.items():
        part = rows[rows.verdict == verdict]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            orientation="h", name=verdict, marker_color=color, y=list(part.label),
            x=_list(part.delta), error_x=_whiskers(part.delta, part.lo, part.hi),
            hovertext=list(part.hover), hoverinfo="text"))
    _bar_layout(fig, labels, x_title)
    return fig


def _bar_layout(fig: Any, labels: list[str], x_title: str, rows_per: int = 1,
                legend_title: str = "colour: verdict") -> None:
    longest = max((len(s) for s in labels), default=10)
    height = (22 * rows_per + 6) * len(labels) + 130
    plot_height = height - 30 - 100  # less the top and bottom margins
    fig.add_vline(x=0, line_color="#444444", line_width=1)
    fig.update_layout(
        height=height, margin={"l": min(430, 16 + 6.6 * longest), "r": 20, "t": 30, "b": 100},
        xaxis={"title": x_title, "zeroline": False},
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1], "automargin": False},
        legend={"title": legend_title, "orientation": "h", "x": 0, "yanchor": "top",
                "y": -62 / plot_height},
        hoverlabel={"align": "left"}, bargap=0.25)


def _whiskers(delta: pd.Series, lo: pd.Series, hi: pd.Series) -> dict:
    return {"type": "data", "symmetric": False, "thickness": 1.2, "width": 4,
            "color": "#222222",
            "array": [None if _num(h) is None else round(h - d, 4) for d, h in zip(delta, hi)],
            "arrayminus": [None if _num(lo_) is None else round(d - lo_, 4)
                           for d, lo_ in zip(delta, lo)]}


def _claim_hover(r: dict, titles: dict[str, str], cost: dict | None = None,
                 extra: str = "") -> str:
    t, c = str(r["treatment"]), str(r["control"])
    level = _num(r.get("level"))
    lines = [f"<b>{_e(titles.get(t, t))}</b> vs {_e(titles.get(c, c))}",
             f"{r['delta']:+.2f} {_interval(r['lo'], r['hi']) or '(no interval)'}"
             + (f" ({100 * level:.2f}% interval)" if level else "")
             + f", {int(r['seeds'])} seeds", f"verdict: <b>{_e(r['verdict'])}</b>"]
    if _num(r.get("p_adj")) is not None:
        lines.append(f"p_adj {_p(r['p_adj'])}, McNemar p {_p(r.get('p_mcnemar')) or 'n/a'}")
    if _num(r.get("paper_delta")) is not None:
        lines.append(f"paper: {r['paper_delta']:+.2f} on ImageNet-1K; vs paper: "
                     f"<b>{_e(r.get('vs_paper') or '')}</b>")
    if cost:
        g = [cost.get(n) for n in (t, c)]
        if None not in g:
            lines.append(f"GFLOPs {g[0]:.2f} ({_e(t)}) vs {g[1]:.2f} ({_e(c)})")
    if extra:
        lines.append(_e(extra))
    return "<br>".join(lines)


def _chart(fig: Any, div_id: str, study: str, title: str, caption: str) -> str:
    """A figure in a ``<figure>``: its title and caption as HTML (clear of plotly's toolbar),
    its div and script (plotly.js is in the page's head, once)."""
    div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)
    return (f'<figure class="chart" data-study="{_e(study)}" data-chart="{_e(div_id)}">'
            f'<h3 class="chart-title">{_e(title)}</h3>{div}'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


# --- html helpers ---------------------------------------------------------------------------

def _claims(inputs: Inputs, study: str, preset: str) -> pd.DataFrame:
    c = inputs.claims
    return c[(c.study == study) & (c.preset == preset)]


def _titles(df: pd.DataFrame, study: str | None = None) -> dict[str, str]:
    """Step name -> title: the results' own, those of the study's chain (or of every chain
    of the paper where no study is named) over them."""
    from models.roadmap import CHAINS

    d = df if study is None else df[df.study == study]
    out = ({str(k): str(v) for k, v in zip(d.step_name, d.title) if isinstance(v, str) and v}
           if "title" in d else {})
    subject = parse_study(study).subject if study is not None else None
    for name in ([subject] if subject in CHAINS else [] if study is not None else
                 [c for c in CHAINS if c != DEFAULT_CHAIN] + [DEFAULT_CHAIN]):
        out.update({s.name: s.title for s in chain(name)})
    return out


def _costs(df: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
    g = df.groupby(["study", "preset", "step_name"]).gflops.mean()
    out: dict[tuple[str, str], dict[str, float]] = {}
    for (study, preset, name), v in g.items():
        out.setdefault((study, preset), {})[name] = float(v)
    return out


def _table(df: pd.DataFrame, verdict_column: str | None = None) -> str:
    body = df.to_html(index=False, border=0, classes="data", na_rep="", escape=True)
    if verdict_column:  # colour the verdict cells
        for verdict, color in {**VERDICT_COLORS, **VS_PAPER_COLORS}.items():
            body = body.replace(f"<td>{verdict}</td>",
                                f'<td style="color:{color};font-weight:600">{verdict}</td>')
    return f'<div class="table">{body}</div>'


def _html_table(header: list[str], body: list[list[str]], row_class: list[str] | None = None,
                table_id: str | None = None) -> str:
    """A table of already escaped cells."""
    ident = f' id="{table_id}"' if table_id else ""
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    rows = []
    for k, cells in enumerate(body):
        cls = f' class="{row_class[k]}"' if row_class and row_class[k] else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (f'<div class="table"><table class="data"{ident}><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _verdict_span(verdict: Any, colors: dict[str, str] = VERDICT_COLORS) -> str:
    if not isinstance(verdict, str) or not verdict:
        return ""
    color = colors.get(verdict, "#555555")
    return f'<span class="verdict" style="color:{color}">{_e(verdict)}</span>'


def _gain_cell(gain: float, lo: float, hi: float) -> str:
    if _num(gain) is None:
        return ""
    return f"{gain:+.2f} <small>{_e(_interval(lo, hi))}</small>"


def _h2(anchor: str, text: str) -> str:
    return f'<h2 id="{anchor}">{_e(text)}</h2>'


def _p_note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _fmt(v: Any, sign: bool = False) -> str:
    f = _num(v)
    return "" if f is None else (f"{f:+.2f}" if sign else f"{f:.2f}")


def _list(s: Iterable[Any]) -> list:
    return [None if _num(v) is None else round(float(v), 4) for v in s]


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for s in labels:
        seen[s] = seen.get(s, 0) + 1
        out.append(s if seen[s] == 1 else f"{s} ({seen[s]})")
    return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").lower()


def _interval(lo: Any, hi: Any) -> str:
    a, b = _num(lo), _num(hi)
    return "" if a is None or b is None else f"[{a:+.2f}, {b:+.2f}]"


def _p(v: Any) -> str:
    f = _num(v)
    if f is None:
        return ""
    return "<1e-4" if f < 1e-4 else f"{f:.4f}"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1240px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; margin-top: 0.3em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
h2::before { content: attr(data-n); }
h3 { margin: 1.2em 0 0.3em; font-size: 1.05em; }
.note, figcaption { color: #555; font-size: 0.9em; }
.rule { background: #f3f6fa; border-left: 4px solid #5b7db1; padding: 0.5em 0.8em; }
.headline { font-size: 1.05em; }
.verdict { font-weight: 600; }
.mark { color: #777; font-size: 0.9em; }
nav { margin: 1em 0; font-size: 0.95em; line-height: 1.6; }
figure.chart { margin: 1em 0 1.6em; }
.table { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 0.82em; }
table.data th, table.data td { padding: 3px 7px; border-bottom: 1px solid #eee;
                               text-align: left; white-space: nowrap; }
#paper-table td:nth-child(2) { white-space: normal; min-width: 14em; }
#contexts-table th, #contexts-table td { white-space: normal; vertical-align: top; }
table.data th { background: #f5f5f5; }
tr.folded td { color: #777; font-style: italic; }
details { margin: 0.3em 0; } summary { cursor: pointer; }
details img { max-width: 100%; margin: 0.5em 0; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
@media (max-width: 1000px) {
  #paper-table, #contexts-table { font-size: 0.74em; }
  #paper-table th, #paper-table td:nth-child(4) { white-space: normal; }
  #paper-table td:nth-child(2) { min-width: 9em; }
}
"""


__all__ = ["REPORT_FILE", "VERDICT_COLORS", "VS_PAPER_COLORS", "Inputs", "build_report",
           "read_inputs", "render_page", "ordered_studies", "headline", "paper_table",
           "paper_figure", "step_table", "step_tooltip", "diagram_svg", "diagram_pairs",
           "Diagrams", "change_of",
           "contexts_table", "cell_label", "study_chart", "claim_bars", "curves_figure",
           "seeds_option", "study_commands", "provenance_table"]

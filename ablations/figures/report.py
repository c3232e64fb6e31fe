"""One self-contained HTML page per results folder (``report.html``): the roadmap with a
tooltip per step, every step's block before -> after, the statistics, the order effects
with their compute, the scale study, the training curves and what made the runs.

Everything is inlined (plotly.js once, the figures' data, the diagrams as base64 PNGs), so
the page opens offline and is one file to send. Plotly is imported inside the functions:
importing this module costs nothing heavy."""

from __future__ import annotations

import base64
import html
import io
import math
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from models.roadmap import DEFAULT_CHAIN, Step, chain, parent_step

from ..errors import UserError
from ..run.store import Store, load

REPORT_FILE = "report.html"
"""The page's name inside its results folder."""
VERDICT_COLORS = {"gain": "#2e7d32", "loss": "#c62828", "within noise": "#9e9e9e",
                  "too few seeds": "#bdbdbd", "baseline": "#5b7db1"}
"""Bar colour of a step by the verdict of its comparison with the step before."""
CHART_IDS = ("roadmap", "order-effects", "training-curves")
"""The ids of the page's plotly chart divs (the scale chart, where drawn, is ``scale``)."""
_PLAIN_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class Inputs:
    """What every section reads: the results table, the chain's rows at the chosen preset,
    the statistics of every study, and the folder's store."""

    folder: Path
    df: pd.DataFrame
    chain_name: str
    preset: str
    rows: pd.DataFrame
    stats: pd.DataFrame
    store: Store


def build_report(out: str | Path, out_file: str | Path | None = None,
                 chain_name: str = DEFAULT_CHAIN) -> Path:
    """Write the report page of the results folder ``out`` (to ``out_file``, by default
    ``out/report.html``) and return its path. A folder without results is a ``UserError``."""
    inputs = read_inputs(out, chain_name)
    page = render_page(inputs)
    path = Path(out_file) if out_file is not None else inputs.folder / REPORT_FILE
    from ..system.files import atomic_write

    # whole or not at all: a full disk leaves the old page (or none), never half of one
    atomic_write(path, "wb", lambda f: f.write(page.encode("utf-8")))
    return path


def read_inputs(out: str | Path, chain_name: str = DEFAULT_CHAIN) -> Inputs:
    """The results of folder ``out`` and their statistics; the chain's preset is the one
    with the most runs of the chain (none: '' and no chain rows)."""
    from ..analysis.stats import all_stats

    folder = Path(out)
    if not folder.is_dir():
        raise UserError(f"no results folder at {folder}: expected a folder written by `run`")
    df = load(folder)
    if df.empty:
        raise UserError(f"no results in {folder}: its table has no runs yet")
    if "status" not in df:
        df = df.assign(status="ok")
    store = Store(folder)
    chain_rows = df[df.study == chain_name]
    preset = str(chain_rows.preset.value_counts().idxmax()) if len(chain_rows) else ""
    rows = chain_rows[chain_rows.preset == preset]
    return Inputs(folder, df, chain_name, preset, rows, all_stats(df, store), store)


def render_page(inputs: Inputs) -> str:
    """The whole HTML document: plotly.js once in the head, then every section."""
    from plotly.offline import get_plotlyjs

    from ..analysis.stats import provenance_line

    sections = [roadmap_section(inputs), diagrams_section(inputs), stats_section(inputs),
                order_section(inputs), scale_section(inputs), curves_section(inputs),
                provenance_section(inputs)]
    title = f"Report: {inputs.folder.as_posix()}"
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{_e(title)}</title>", f"<style>{_CSS}</style>",
        '<script type="text/javascript">window.PlotlyConfig = {MathJaxConfig: "local"};</script>',
        f'<script type="text/javascript">{get_plotlyjs()}</script>', "</head>", "<body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="note">{_e(provenance_line(inputs.df))}. Chain <code>{_e(inputs.chain_name)}'
        f"</code>, preset <code>{_e(inputs.preset or '-')}</code>. Everything on this page "
        "is inlined: it opens offline.</p>",
        _contents(), *sections, "</body>", "</html>", ""])


def _contents() -> str:
    links = [("roadmap-section", "Roadmap"), ("diagrams-section", "Block diagrams"),
             ("stats-section", "Statistics"), ("order-section", "Order effects"),
             ("scale-section", "Scale study"), ("curves-section", "Training curves"),
             ("provenance-section", "Commands and commits")]
    return "<nav>" + " · ".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in links) + "</nav>"


# --- 1. the roadmap -------------------------------------------------------------------------

def step_table(inputs: Inputs) -> pd.DataFrame:
    """One row per step of the chain's rows (in step order): title, costs, top-1 per seed
    and mean, and the comparison with the step before (delta, interval, verdict, p_adj)."""
    ok = inputs.rows[inputs.rows.status == "ok"]
    titles = {s.name: s.title for s in chain(inputs.chain_name, branches=True)}
    s = inputs.stats
    chain_stats = s[(s.study == inputs.chain_name) & (s.preset == inputs.preset)]
    by_treatment = {r["treatment"]: r for r in chain_stats.to_dict("records")}
    out = []
    for name, g in ok.groupby("step_name", sort=False):
        g = g.drop_duplicates("seed", keep="last").sort_values("seed")
        r = by_treatment.get(name, {})
        out.append({"step": int(g.step.iloc[0]), "step_name": name,
                    "title": titles.get(name, str(g.title.iloc[0]) if "title" in g else name),
                    "gflops": float(g.gflops.iloc[0]), "params_m": float(g.params_m.iloc[0]),
                    "seeds": [int(v) for v in g.seed], "top1": [float(v) for v in g.top1],
                    "mean": float(g.top1.mean()), "min": float(g.top1.min()),
                    "max": float(g.top1.max()), "control": r.get("control", ""),
                    "delta": r.get("delta", math.nan), "lo": r.get("lo", math.nan),
                    "hi": r.get("hi", math.nan), "p_adj": r.get("p_adj", math.nan),
                    "verdict": r.get("verdict", "baseline")})
    table = pd.DataFrame(out)
    return table.sort_values("step", kind="stable").reset_index(drop=True) if out else table


def step_tooltip(row: dict[str, Any]) -> str:
    """The hover text of one roadmap bar (plotly's ``<br>`` line breaks)."""
    seeds = ", ".join(f"s{s}: {v:.2f}" for s, v in zip(row["seeds"], row["top1"]))
    lines = [f"<b>{row['step']} {_e(row['title'])}</b>",
             f"change: {_e(row['title'])} (<i>{_e(row['step_name'])}</i>)",
             f"GFLOPs {row['gflops']:.2f}, params {row['params_m']:.1f}M (paper scale, 224 px)",
             f"top-1 mean {row['mean']:.2f} over {len(row['seeds'])} seed(s)",
             f"top-1 per seed: {seeds}"]
    if row["control"]:
        lines.append(f"vs {_e(row['control'])}: {row['delta']:+.2f} "
                     f"95% CI {_interval(row['lo'], row['hi']) or 'n/a'}, "
                     f"p_adj {_p(row['p_adj']) or 'n/a'}")
        lines.append(f"verdict: <b>{_e(row['verdict'])}</b>")
    else:
        lines.append("verdict: baseline (no step before it)")
    return "<br>".join(lines)


def roadmap_figure(steps: pd.DataFrame, chain_name: str) -> Any:
    """Horizontal bars of mean top-1 per step (min-max whiskers), coloured by verdict, one
    tooltip per step (``step_tooltip``)."""
    import plotly.graph_objects as go

    labels = [f"{r.step} {r.title}: {r.mean:.2f}" for r in steps.itertuples()]
    low, high = float(steps["min"].min()), float(steps["max"].max())
    # Bars start at step 0 (the modern-recipe ResNet), as in Figure 2: a bar's length is
    # the gain (or loss) over it, never an artefact of a cut axis.
    zero = steps[steps.step == 0]
    floor = float(zero["mean"].iloc[0]) if len(zero) else float(steps["mean"].iloc[0])
    fig = go.Figure()
    for verdict, color in VERDICT_COLORS.items():
        part = steps[steps.verdict == verdict]
        if part.empty:
            continue
        fig.add_trace(go.Bar(
            orientation="h", name=verdict, marker_color=color,
            y=[labels[i] for i in part.index], x=(part["mean"] - floor).round(4).tolist(),
            base=floor,
            error_x={"type": "data", "symmetric": False, "thickness": 1, "width": 3,
                     "array": (part["max"] - part["mean"]).round(4).tolist(),
                     "arrayminus": (part["mean"] - part["min"]).round(4).tolist()},
            hovertext=[step_tooltip(r) for r in part.to_dict("records")],
            hoverinfo="text"))
    fig.update_layout(
        title=f"Modernizing a ResNet: {chain_name} (mean test top-1, min-max over seeds; "
              f"bars from step 0 at {floor:.2f}; colour: verdict vs the step before)",
        barmode="overlay", height=32 * len(steps) + 160, margin={"l": 260, "r": 30, "t": 60},
        xaxis={"title": "test top-1 (%)", "range": [min(low, floor) - 0.6, high + 0.6]},
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1]},
        legend={"title": "verdict", "orientation": "h", "y": -0.12}, hoverlabel={"align": "left"})
    return fig


def roadmap_section(inputs: Inputs) -> str:
    """Section 1: the roadmap chart, or a sentence where the folder has no chain runs."""
    head = _h2("roadmap-section", f"1. The roadmap ({inputs.chain_name})")
    steps = step_table(inputs)
    if steps.empty:
        return head + _p_note(f"This folder has no finished runs of the chain "
                              f"{inputs.chain_name!r}.")
    return (head + _p_note("Hover a bar: the change, its costs (GFLOPs and parameters at "
                           "the paper's scale, 224 px), top-1 of each seed and the paired "
                           "comparison with the step before (95% t interval, Holm-corrected "
                           "p, verdict).")
            + _chart(roadmap_figure(steps, inputs.chain_name), "roadmap"))


# --- 2. block diagrams ----------------------------------------------------------------------

def diagram_png(before: Step, after: Step, stage: int = 1) -> bytes:
    """The before -> after block diagram of a step as PNG bytes (``diagram.draw_step``),
    reduced to a palette image where Pillow can (the diagrams have few colours)."""
    from .diagram import draw_step

    with tempfile.TemporaryDirectory() as tmp:
        (path,) = draw_step(before.design, after.design, f"{before.index} {before.title}",
                            f"{after.index} {after.title}", Path(tmp) / "step", stage)
        data = path.read_bytes()
    try:
        from PIL import Image

        image = Image.open(io.BytesIO(data)).convert("RGB")
        buffer = io.BytesIO()
        image.quantize(colors=64).save(buffer, format="PNG", optimize=True)
        return buffer.getvalue() if buffer.tell() < len(data) else data
    except ImportError:
        return data


def diagrams_section(inputs: Inputs) -> str:
    """Section 2: one collapsible before -> after diagram per step of the chain's rows."""
    head = _h2("diagrams-section", "2. Each step's block, before -> after")
    names = set(inputs.rows.step_name)
    steps = [s for s in chain(inputs.chain_name, branches=True) if s.name in names]
    blocks = []
    for step in steps:
        before = parent_step(inputs.chain_name, step)
        if before.name == step.name:
            continue
        png = base64.b64encode(diagram_png(before, step)).decode("ascii")
        same = " (same design: the recipe changes)" if before.design == step.design else ""
        blocks.append(f"<details><summary>{step.index} {_e(step.title)}{_e(same)}</summary>"
                      f'<img alt="{_e(before.title)} -> {_e(step.title)}" '
                      f'src="data:image/png;base64,{png}"></details>')
    if not blocks:
        return head + _p_note("No chain steps in this folder.")
    return head + _p_note("Stage 2's first block (and the stem), changed boxes outlined. "
                          "Click a step to open it.") + "\n".join(blocks)


# --- 3. statistics --------------------------------------------------------------------------

def stats_section(inputs: Inputs) -> str:
    """Section 3: ``format_stats`` of every study and preset as one table."""
    from ..analysis.stats import format_stats

    head = _h2("stats-section", "3. Statistics (every study)")
    if inputs.stats.empty:
        return head + _p_note("No comparisons yet (every study needs two steps with paired "
                              "seeds).")
    table = format_stats(inputs.stats)
    table.insert(0, "preset", inputs.stats.preset.to_numpy())
    table.insert(0, "study", inputs.stats.study.to_numpy())
    return head + _p_note("Each comparison is paired over seeds: delta in points with its "
                          "95% t and bootstrap intervals; gain / loss when both Holm's p and "
                          "McNemar's p are below 0.05.") + _table(table, verdict_column="verdict")


# --- 4. order effects -----------------------------------------------------------------------

def order_frame(inputs: Inputs) -> pd.DataFrame:
    """``contexts.order_table`` of the chain at its preset (empty where there is no chain)."""
    from ..analysis.contexts import order_table

    if inputs.rows.empty:
        return pd.DataFrame()
    return order_table(inputs.df, inputs.chain_name, inputs.preset, inputs.store)


def order_figure(table: pd.DataFrame) -> Any:
    """Each change's gain in each context (dots with 95% intervals), GFLOPs in the tooltip."""
    import plotly.graph_objects as go

    from ..analysis.contexts import CONTEXTS

    fig = go.Figure()
    changes = list(table.index)
    for k, ctx in enumerate(CONTEXTS):
        t = table[table[f"{ctx} seeds"] > 0]
        if t.empty:
            continue
        hover = [f"<b>{_e(change)}</b><br>{_e(ctx)}: {r[ctx]:+.2f} "
                 f"95% CI {_interval(r[ctx + ' lo'], r[ctx + ' hi']) or 'n/a'}, "
                 f"{_e(r[ctx + ' verdict'])}, {int(r[ctx + ' seeds'])} seeds<br>"
                 f"GFLOPs {_cost_pair(r, ctx, 'gflops')}; params {_cost_pair(r, ctx, 'params_m')}M"
                 for change, r in t.iterrows()]
        fig.add_trace(go.Scatter(
            x=t[ctx].tolist(), y=list(t.index), mode="markers", name=ctx,
            marker={"size": 9, "symbol": ["circle", "diamond", "square", "x"][k % 4]},
            error_x={"type": "data", "symmetric": False, "thickness": 1,
                     "array": (t[ctx + " hi"] - t[ctx]).round(4).tolist(),
                     "arrayminus": (t[ctx] - t[ctx + " lo"]).round(4).tolist()},
            hovertext=hover, hoverinfo="text"))
    fig.add_vline(x=0, line_color="#555555", line_width=1)
    fig.update_layout(title="Gain of each change by context (> 0: it helps), 95% intervals",
                      height=34 * len(changes) + 180, margin={"l": 260, "r": 30, "t": 60},
                      xaxis={"title": "gain (top-1 points)"},
                      yaxis={"categoryorder": "array", "categoryarray": changes[::-1]},
                      legend={"orientation": "h", "y": -0.15}, hoverlabel={"align": "left"})
    return fig


def order_section(inputs: Inputs) -> str:
    """Section 4: the order-effects chart and table (gain and GFLOPs per context)."""
    from ..analysis.contexts import CONTEXTS

    head = _h2("order-section", "4. Order effects, with compute")
    table = order_frame(inputs)
    if table.empty or not any((table[f"{c} seeds"] > 0).any() for c in CONTEXTS):
        return head + _p_note("This folder has no order-effect studies of the chain "
                              "(one-at-a-time, one-at-a-time-matched, leave-one-out).")
    view = pd.DataFrame({"change": table.index})
    for ctx in CONTEXTS:
        view[ctx] = [_context_cell(r, ctx) for _, r in table.iterrows()]
    view["across contexts"] = table["across contexts"].to_numpy()
    return (head + _p_note("Each change's gain where it was measured: in the chain (vs the "
                           "step before), alone on the modern-recipe ResNet, alone at the "
                           "ResNet's GFLOPs, and at the end (the full design minus the design "
                           "without it). GFLOPs: the compared design, then the changed one "
                           "(224 px, full width).")
            + _chart(order_figure(table), "order-effects") + _table(view))


def _context_cell(r: pd.Series, ctx: str) -> str:
    if not r[f"{ctx} seeds"]:
        return ""
    return (f"{r[ctx]:+.2f} {_interval(r[ctx + ' lo'], r[ctx + ' hi'])} {r[ctx + ' verdict']}; "
            f"GFLOPs {_cost_pair(r, ctx, 'gflops')}")


def _cost_pair(r: pd.Series, ctx: str, key: str) -> str:
    ref, changed = r[f"{ctx} ref {key}"], r[f"{ctx} {key}"]
    return f"{ref:.2f} -> {changed:.2f}" if not (math.isnan(ref) or math.isnan(changed)) else "n/a"


# --- 5. scale -------------------------------------------------------------------------------

def scale_section(inputs: Inputs) -> str:
    """Section 5: the scale study's gap per cell, or a sentence where the folder has none."""
    from ..analysis.scale import crossing, study_gaps

    head = _h2("scale-section", "5. The scale study")
    _, gaps = study_gaps(inputs.df, inputs.chain_name, inputs.store)
    if gaps.empty:
        return head + _p_note("This folder has no scale study of the chain (no scale rows): "
                              "section skipped.")
    lines = []
    for axis, rows in gaps.groupby("axis"):
        x = crossing(rows)
        lines.append(f"{axis}: " + (f"the gap changes sign near {x:.4g}" if x is not None
                                    else "no resolved change of sign"))
    view = gaps.assign(gap=gaps.gap.map(lambda v: f"{v:+.2f}"),
                       interval=[_interval(a, b) for a, b in zip(gaps.lo, gaps.hi)],
                       value=gaps.value.map(lambda v: f"{v:g}")).drop(columns=["lo", "hi"])
    view = view[["axis", "value", "cell", "seeds", "gap", "interval", "verdict",
                 "train_minutes", "device"]]
    return (head + _p_note("The paired gap ConvNeXt-T - ResNet-50 (modern recipe) per cell "
                           "of the grid, with its 95% interval; the base cell is on every axis.")
            + _table(view, verdict_column="verdict")
            + "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>")


# --- 6. training curves ---------------------------------------------------------------------

def curves_figure(inputs: Inputs, seed: int = 0) -> Any:
    """Test top-1 per epoch, one line per chain step (seed ``seed``); None without history."""
    import plotly.graph_objects as go

    fig = go.Figure()
    ok = inputs.rows[(inputs.rows.status == "ok") & (inputs.rows.seed == seed)]
    for row in ok.sort_values("step", kind="stable").itertuples():
        h = inputs.store.history(row.config_hash)
        if h.empty or "test_top1" not in h:
            continue
        fig.add_trace(go.Scatter(x=h.epoch.tolist(), y=h.test_top1.tolist(),
                                 mode="lines+markers", name=f"{row.step} {row.step_name}",
                                 hovertemplate=f"{row.step} {_e(str(row.step_name))}<br>"
                                               "epoch %{x}: %{y:.2f}<extra></extra>"))
    if not fig.data:
        return None
    fig.update_layout(title=f"Training curves, {inputs.chain_name} (seed {seed}; click the "
                            "legend to hide or show a step)",
                      height=560, xaxis={"title": "epoch", "dtick": 1},
                      yaxis={"title": "test top-1 (%)"})
    return fig


def curves_section(inputs: Inputs) -> str:
    """Section 6: the training curves of seed 0."""
    head = _h2("curves-section", "6. Training curves")
    fig = curves_figure(inputs) if not inputs.rows.empty else None
    if fig is None:
        return head + _p_note("No per-epoch history of the chain's seed 0 in this folder.")
    return head + _chart(fig, "training-curves")


# --- 7. provenance --------------------------------------------------------------------------

def provenance_table(df: pd.DataFrame) -> pd.DataFrame:
    """Distinct (study, preset, git_commit) with their number of runs and seeds."""
    d = df.assign(git_commit=df.get("git_commit", pd.Series("", index=df.index))
                  .fillna("unknown").astype(str))
    g = d.groupby(["study", "preset", "git_commit"], sort=False)
    return g.agg(runs=("config_hash", "size"), seeds=("seed", "nunique")).reset_index()


def readme_of(folder: str | Path) -> Path | None:
    """The README.md that describes ``folder``: its own, else the one above it (or None)."""
    for readme in (Path(folder) / "README.md", Path(folder).parent / "README.md"):
        if readme.exists():
            return readme
    return None


def readme_commands(folder: str | Path) -> list[str]:
    """The ``python -m ablations`` command lines of the folder's README.md; without one, those
    of the README.md above it that write into this folder (``--out <parent>/<folder>``)."""
    folder = Path(folder)
    own, readme = folder / "README.md", readme_of(folder)
    if readme is None:
        return []
    text = readme.read_text(encoding="utf-8", errors="replace")
    found = [" ".join(m.split()) for m in re.findall(r"`(python -m ablations[^`]*)`", text)]
    found += [line.strip() for line in text.splitlines()
              if line.strip().startswith("python -m ablations")]
    if readme != own:
        mine = re.compile(rf"--out\s+\S*{re.escape(folder.parent.name)}/"
                          rf"{re.escape(folder.name)}(?![\w.-])")
        found = [c for c in found if mine.search(c)]
    return list(dict.fromkeys(found))


def provenance_section(inputs: Inputs) -> str:
    """Section 7: commits, presets and run counts per study, and the README's commands."""
    head = _h2("provenance-section", "7. Commands and commits")
    commands = readme_commands(inputs.folder)
    if commands:
        cmd = (_p_note(f"As {readme_of(inputs.folder).as_posix()} gives them for this folder:")
               + "<pre>" + "\n".join(_e(c) for c in commands) + "</pre>")
    else:
        cmd = _p_note("No README.md with `python -m ablations` commands beside this folder.")
    return (head + _p_note("Which commit and preset made the runs of each study (a run's "
                           "commit is recorded when it trains; '+dirty': uncommitted changes).")
            + _table(provenance_table(inputs.df)) + "<h3>Commands</h3>" + cmd)


# --- html helpers ---------------------------------------------------------------------------

def _chart(fig: Any, div_id: str) -> str:
    """A figure as a div and its script (plotly.js is in the page's head, once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=_PLAIN_CONFIG)


def _table(df: pd.DataFrame, verdict_column: str | None = None) -> str:
    body = df.to_html(index=False, border=0, classes="data", na_rep="", escape=True)
    if verdict_column:  # colour the verdict cells
        for verdict, color in VERDICT_COLORS.items():
            body = body.replace(f"<td>{verdict}</td>",
                                f'<td style="color:{color};font-weight:600">{verdict}</td>')
    return f'<div class="table">{body}</div>'


def _h2(anchor: str, text: str) -> str:
    return f'<h2 id="{anchor}">{_e(text)}</h2>'


def _p_note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _interval(lo: float, hi: float) -> str:
    return "" if lo is None or math.isnan(lo) else f"[{lo:+.2f}, {hi:+.2f}]"


def _p(v: float | None) -> str:
    if v is None or math.isnan(v):
        return ""
    return "<1e-4" if v < 1e-4 else f"{v:.4f}"


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
.note { color: #555; font-size: 0.92em; }
nav { margin: 1em 0; font-size: 0.95em; }
.table { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 0.82em; }
table.data th, table.data td { padding: 3px 8px; border-bottom: 1px solid #eee;
                               text-align: left; white-space: nowrap; }
table.data th { background: #f5f5f5; }
details { margin: 0.3em 0; } summary { cursor: pointer; }
details img { max-width: 100%; margin: 0.5em 0; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""


__all__ = ["REPORT_FILE", "Inputs", "build_report", "read_inputs", "render_page",
           "step_table", "step_tooltip", "readme_of", "readme_commands", "provenance_table"]

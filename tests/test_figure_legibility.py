"""Every figure function, drawn on committed data: no two text labels overlap, no legend
covers a data point, and every point label sits nearest the point it names or draws a
leader line to it (``tests/legibility.py``: matplotlib's rendered bounding boxes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ablations.figures import common

from legibility import legend_covered_points, mislabelled_points, overlapping_labels

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "results" / "quick"


@pytest.fixture
def problems(monkeypatch):
    found: dict[str, list[str]] = {}

    def check(fig, path):
        issues = [f"labels overlap: {a!r} / {b!r}" for a, b in overlapping_labels(fig)]
        issues += [f"legend covers {p}" for p in legend_covered_points(fig)]
        issues += [f"label nearer another point: {p}" for p in mislabelled_points(fig)]
        if issues:
            found[Path(path).name] = issues
    monkeypatch.setattr(common, "FIGURE_CHECKS", [check])
    return found


def _report(found):
    return "\n".join(f"{name}: {'; '.join(v[:4])}" for name, v in sorted(found.items()))


def test_the_results_folder_figures_are_legible(problems, tmp_path):
    from ablations.figures.folder import draw_results
    from ablations.run.store import load
    out = tmp_path / "quick"
    shutil.copytree(QUICK, out, ignore=shutil.ignore_patterns("*.png", "*.svg", "*.pdf"))
    draw_results(load(out), out, "resnet50-to-convnext-t")
    assert not problems, _report(problems)


def test_the_paper_figure_is_legible(problems, tmp_path):
    from ablations.figures.paper_figure import paper_figure, regimes_of
    from ablations.run.store import load
    regimes = regimes_of(load(QUICK), ("resnet50-to-convnext-t", "resnet200-to-convnext-b"),
                         QUICK)
    paper_figure(regimes, tmp_path / "figure2", formats=(".png",))
    assert not problems, _report(problems)


RESULTS = ROOT / "results"


@pytest.mark.parametrize("table", sorted(p.name for p in RESULTS.glob("bench_*.csv")
                                         if not p.name.startswith("bench_data")))
def test_the_bench_figures_are_legible(problems, tmp_path, table):
    import pandas as pd

    from ablations.figures.bench import bench_figures
    bench_figures(pd.read_csv(RESULTS / table), tmp_path, table.removesuffix(".csv")
                  .removeprefix("bench_"))
    assert not problems, _report(problems)


@pytest.mark.parametrize("table", ["scaling_cpu.csv", "scaling_h200.csv"])
def test_the_cost_vs_resolution_figures_are_legible(problems, tmp_path, table):
    import pandas as pd

    from ablations.figures.resolution_costs import scaling_figure
    from ablations.measure import resolution_costs
    df = pd.read_csv(RESULTS / "scaling" / table)
    scaling_figure(df, resolution_costs.fit_exponents(df), tmp_path / "scaling", "cost vs resolution")
    assert not problems, _report(problems)


def test_the_gpu_scale_and_compare_figures_are_legible(problems, tmp_path):
    from ablations.figures.compare import compare_results
    from ablations.figures.folder import draw_results
    from ablations.run.store import load
    gpu = tmp_path / "quick-gpu"
    shutil.copytree(RESULTS / "quick-gpu", gpu,
                    ignore=shutil.ignore_patterns("*.png", "*.svg", "*.pdf"))
    draw_results(load(gpu), gpu, "resnet50-to-convnext-t")
    compare_results({"cpu": QUICK, "gpu": gpu}, "resnet50-to-convnext-t", tmp_path / "cmp")
    assert not problems, _report(problems)


def test_the_collapse_figure_is_legible(problems, tmp_path):
    import pandas as pd

    from ablations.figures.collapse import collapse_figure
    collapse_figure(pd.read_csv(QUICK / "collapse.csv"), tmp_path / "collapse", "collapse")
    assert not problems, _report(problems)


def test_the_fcmae_figures_are_legible(problems, tmp_path):
    import pandas as pd

    from ablations.figures.collapse import collapse_figure
    from ablations.figures.studies import study_figures
    from ablations.run.store import load
    fcmae = tmp_path / "fcmae"
    shutil.copytree(RESULTS / "fcmae", fcmae, ignore=shutil.ignore_patterns(
        "*.png", "*.svg", "*.pt", "tb"))
    assert study_figures(load(fcmae), fcmae)
    collapse_figure(pd.read_csv(RESULTS / "fcmae" / "collapse.csv"), tmp_path / "collapse",
                    "collapse", normalised=True)
    assert not problems, _report(problems)


@pytest.mark.parametrize("width", ["column", "page"])
def test_figure2_at_a_column_and_a_page_keeps_its_text_at_7_points(problems, tmp_path, width):
    """Drawn at its printed width (3.3 / 7 in), Figure 2's text is at least 7 pt, and still
    legible (no overlap, every label on its point), with TrueType fonts in its PDF."""
    import matplotlib.text

    from ablations.figures.paper_figure import MIN_POINTS, WIDTHS, paper_figure, regimes_of
    from ablations.run.store import load

    sizes = []
    common.FIGURE_CHECKS.append(lambda fig, path: sizes.extend(
        [(t.get_fontsize(), fig.get_size_inches()[0]) for t in fig.findobj(matplotlib.text.Text)
         if t.get_visible() and t.get_text().strip()]))
    regimes = regimes_of(load(QUICK), ("resnet50-to-convnext-t",), QUICK)
    paths = paper_figure(regimes, tmp_path / "figure2", width=WIDTHS[width], formats=(".pdf",))
    assert not problems, _report(problems)
    assert sizes and min(s for s, _ in sizes) >= MIN_POINTS
    assert {round(w, 2) for _, w in sizes} == {WIDTHS[width]}
    pdf = paths[0].read_bytes()
    assert b"/Type3" not in pdf.replace(b" ", b"") and b"/Subtype /Type3" not in pdf


def test_no_committed_pdf_embeds_type3_fonts():
    pdfs = sorted(RESULTS.rglob("*.pdf"))
    assert pdfs
    bad = [str(p.relative_to(ROOT)) for p in pdfs if b"/Subtype /Type3" in p.read_bytes()]
    assert not bad, f"Type 3 fonts in {bad}"

"""Every figure of a results folder: the chain's (where the folder holds the chain) and
each study's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from models.roadmap import CHAINS

from . import chain as chain_figures
from . import studies as study_figures


REGIMES = tuple(CHAINS)
"""The chains Figure 2 has a panel for (ResNet-50 -> ConvNeXt-T, ResNet-200 -> ConvNeXt-B)."""


def draw_results(df: pd.DataFrame, out: str | Path, chain_name: str) -> list[Path]:
    """Draw the figures of the results table ``df`` into ``out``; the files written."""
    written = []
    if chain_name in set(df.get("study", [])):
        written += chain_figures.all_figures(df, out, chain_name=chain_name)
        written += draw_paper_figure(df, out)
    return written + study_figures.study_figures(df, out)


def draw_paper_figure(df: pd.DataFrame, out: str | Path, steps: list[str] | None = None,
                      width: float = 11.0, formats: tuple[str, ...] | None = None) -> list[Path]:
    """Figure 2 in the paper's style (``paper_figure``) as ``out/figure2.png`` and ``.pdf``
    (or ``formats``), one panel per regime of ``REGIMES`` with runs in ``df``."""
    from .paper_figure import PAPER_FIGURE_FORMATS, paper_figure, regimes_of

    if steps:
        from models.roadmap import chain

        from ..errors import UserError

        known = {st.name for name in REGIMES for st in chain(name, branches=True)}
        unknown = [st for st in steps if st not in known]
        if unknown:
            raise UserError(f"--steps: {', '.join(unknown)} unknown; allowed: step names of "
                            f"{' or '.join(REGIMES)}, e.g. {', '.join(sorted(known)[:4])}")
    regimes = regimes_of(df, REGIMES, Path(out))
    if not regimes:
        return []
    return paper_figure(regimes, Path(out) / "figure2", steps, width,
                        formats or PAPER_FIGURE_FORMATS)


def draw_cell_figure(df: pd.DataFrame, out: str | Path, cell: str, chain_name: str,
                     steps: list[str] | None = None, width: float = 11.0,
                     formats: tuple[str, ...] | None = None) -> list[Path]:
    """Figure 2 of one scale cell (``cell``: its preset name, e.g. ``quick+train_images=7500``)
    where the scale study trained the chain there: ``out/figure2_<cell>.png`` (and ``.pdf``).
    The cell's runs are drawn as the chain's, with the chain's claims there (each step
    against the one before, the verdict's interval): the folder's claims table's ``cell``
    kinds (``analysis.claims.cell_chain_claims``), computed the same way where the folder has
    no table."""
    from ..errors import UserError
    from ..studies.names import study_id
    from .paper_figure import PAPER_FIGURE_FORMATS, paper_figure, regimes_of

    study = study_id("scale", chain_name)
    rows = df[(df.study == study) & (df.preset == cell)]
    cells = sorted(set(df.preset[df.study == study]))
    if rows.empty:
        raise UserError(f"--cell {cell!r}: no runs of {study} there; allowed: "
                        f"{', '.join(cells) or 'none (no scale study in this folder)'}")
    if rows.step_name.nunique() < 3:
        raise UserError(f"--cell {cell}: {rows.step_name.nunique()} steps of the chain trained "
                        "there; a Figure 2 needs the chain (run --study scale --steps with its "
                        "steps at that cell)")
    from ..analysis.claims import CELL_KINDS, folder_claims

    regimes = regimes_of(rows.assign(study=chain_name), (chain_name,), Path(out), cell)
    table = folder_claims(out, df) if (Path(out) / "results.csv").is_file() else None
    if table is not None and regimes:  # the folder's one table of claims, where it has them
        mine = table[(table.study == study) & (table.preset == cell)
                     & table.kind.isin(list(CELL_KINDS.values()))]
        back = {v: k for k, v in CELL_KINDS.items()}
        if not mine.empty:
            from dataclasses import replace

            regimes = [replace(regimes[0], stats=mine.assign(kind=mine.kind.map(back),
                                                             study=chain_name))]
    name = "figure2_" + cell.replace("+", "_").replace("=", "-")
    return paper_figure(regimes, Path(out) / name, steps, width,
                        formats or PAPER_FIGURE_FORMATS)

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

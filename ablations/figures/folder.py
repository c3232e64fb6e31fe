"""Every figure of a results folder: the chain's (where the folder holds the chain) and
each study's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import chain as chain_figures
from . import studies as study_figures


def draw_results(df: pd.DataFrame, out: str | Path, chain_name: str) -> list[Path]:
    """Draw the figures of the results table ``df`` into ``out``; the files written."""
    written = []
    if chain_name in set(df.get("study", [])):
        written += chain_figures.all_figures(df, out, chain_name=chain_name)
    return written + study_figures.study_figures(df, out)

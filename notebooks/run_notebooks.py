"""Bring each notebook up to date with its source, then execute it in place (outputs kept).

The percent-format ``NN_name.py`` files are the sources (reviewable, diffable); each is
paired with its ``.ipynb`` through jupytext. ``python notebooks/run_notebooks.py [NAME ...]``
copies the ``.py`` cells into the ``.ipynb`` (``jupytext --sync``), then runs it, so that the
committed outputs are today's. Run from the repository root or notebooks/.
"""

import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def sync(py: Path) -> Path:
    """Write the cells of the source ``py`` into its paired notebook (outputs of unchanged
    cells kept); returns the notebook's path."""
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--quiet", "--update", "--to", "ipynb", str(py)])
    return py.with_suffix(".ipynb")


def run(path: Path, timeout: int = 600) -> float:
    """Execute the notebook ``path`` in place; returns seconds taken."""
    book = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(book, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    jupytext.write(book, path)
    return time.perf_counter() - t0


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("[0-9]*.py"))
    for name in names:
        notebook = sync(HERE / f"{Path(name).stem}.py")
        print(f"{notebook.name}: {run(notebook):.0f} s", flush=True)

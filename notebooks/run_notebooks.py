"""Execute the notebooks in place (outputs kept), from the repository root or notebooks/."""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def run(path: Path, timeout: int = 600) -> float:
    """Execute ``path`` in place; returns seconds taken."""
    book = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(book, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(book, path)
    return time.perf_counter() - t0


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.name for p in HERE.glob("*.ipynb"))
    for name in names:
        print(f"{name}: {run(HERE / name):.0f} s", flush=True)

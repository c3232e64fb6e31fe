"""Bring each notebook up to date with its source, then execute it in place (outputs kept).

The percent-format ``NN_name.py`` files are the sources (reviewable, diffable); each is
paired with its ``.ipynb`` through jupytext. ``python notebooks/run_notebooks.py [NAME ...]``
copies the ``.py`` cells into the ``.ipynb`` (``jupytext --update``: the outputs of unchanged
cells kept), then runs it, so that the committed outputs are today's. Run from the repository root or notebooks/.

The lesson (``06_lesson.py``) is the one source of two notebooks that are not paired with it:
the teacher's key ``06_lesson_teacher.ipynb`` (every cell, executed with plan B, the committed
``results/lab``: expected verdicts and solutions with their outputs) and the student copy
``06_lesson_student.ipynb`` (no outputs; cells tagged ``solution`` or ``teacher`` left out).
"""

import copy
import os
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
LESSON = "06_lesson"
TEACHER, STUDENT = f"{LESSON}_teacher", f"{LESSON}_student"
STUDENT_LEAVES_OUT = ("solution", "teacher")
"""Tags of the lesson's cells that only the teacher's key holds."""
PLAN_B = "LESSON_PLAN_B"
"""Environment variable that makes the lesson read the committed results/lab (no training)."""


def sync(py: Path) -> Path:
    """Write the cells of the source ``py`` into its paired notebook (outputs of unchanged
    cells kept); returns the notebook's path."""
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--quiet", "--update", "--to", "ipynb", str(py)])
    return py.with_suffix(".ipynb")


def execute(book: nbformat.NotebookNode, timeout: int = 600,
            env: dict[str, str] | None = None) -> float:
    """Execute ``book`` in memory (in notebooks/, with ``env`` set for its kernel); returns
    seconds taken."""
    saved = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    t0 = time.perf_counter()
    try:
        NotebookClient(book, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return time.perf_counter() - t0


def run(path: Path, timeout: int = 600) -> float:
    """Execute the notebook ``path`` in place; returns seconds taken."""
    book = nbformat.read(path, as_version=4)
    seconds = execute(book, timeout)
    jupytext.write(book, path)
    return seconds


def unpaired(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``book`` without jupytext's pairing (a generated notebook is never synced back)."""
    book.metadata.pop("jupytext", None)
    return book


def student_copy(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's notebook of the lesson ``book``: no outputs, no cell tagged ``solution``
    or ``teacher``."""
    out = unpaired(copy.deepcopy(book))
    out.cells = [c for c in out.cells
                 if not set(c.metadata.get("tags", [])) & set(STUDENT_LEAVES_OUT)]
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return out


def teacher_key(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The teacher's key of the lesson ``book``: every cell (executed separately)."""
    return unpaired(copy.deepcopy(book))


def lesson(timeout: int = 600) -> dict[str, float]:
    """Write the student copy and the executed teacher's key from ``06_lesson.py``; returns
    seconds per notebook."""
    source = jupytext.read(HERE / f"{LESSON}.py")
    student = student_copy(source)
    nbformat.write(student, HERE / f"{STUDENT}.ipynb")
    key = teacher_key(source)
    seconds = execute(key, timeout, {PLAN_B: "1"})
    nbformat.write(key, HERE / f"{TEACHER}.ipynb")
    return {f"{STUDENT}.ipynb": 0.0, f"{TEACHER}.ipynb": seconds}


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(p.stem for p in HERE.glob("[0-9]*.py"))
    for name in names:
        if Path(name).stem == LESSON:
            for written, seconds in lesson().items():
                print(f"{written}: {seconds:.0f} s", flush=True)
            continue
        notebook = sync(HERE / f"{Path(name).stem}.py")
        print(f"{notebook.name}: {run(notebook):.0f} s", flush=True)

"""The notebooks: each percent-format source (``NN_name.py``) is in sync with its committed
``.ipynb``, every notebook runs top to bottom (smoke settings, in memory: the committed file
is never rewritten by the tests), and every cell that is not live prints today what the
committed file shows."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["01_design_space", "02_replay_the_roadmap", "03_your_own_ablation", "04_convnext_v2",
         "05_convnext_vs_transformers", "06_lesson"]
LIVE = "live"  # the tag of cells that train or measure live (their outputs differ in smoke)


def _texts(cell) -> list[str]:
    """What a cell printed (stdout, all of it as one text: the kernel may split a stream into
    chunks differently from run to run) and returned, as text."""
    printed, returned = [], []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream" and o.get("name") == "stdout":
            printed.append(o["text"])
        elif o.get("output_type") == "execute_result":
            returned.append(o.get("data", {}).get("text/plain", "").strip())
    return ([("".join(printed)).strip()] if printed else []) + returned


def _cells(book) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in book.cells]


def unsynced(py: Path, ipynb: Path) -> list[int]:
    """Indices of the cells where the source ``py`` and the notebook differ (type or text;
    a missing or extra cell counts too); empty when they are in sync."""
    a, b = _cells(jupytext.read(py)), _cells(nbformat.read(ipynb, as_version=4))
    return [i for i in range(max(len(a), len(b)))
            if i >= len(a) or i >= len(b) or a[i] != b[i]]


LESSON = "06_lesson"
SIGNED = re.compile(r"(?<![\w.\[])[+-]\d+\.\d{2}\b")
INTERVAL = re.compile(r"\[[+-]?\d+\.\d{2}, [+-]?\d+\.\d{2}\]")


def differences_without_interval(book) -> list[str]:
    """Printed lines of ``book`` with a signed accuracy difference (e.g. +0.62) but no 95%
    interval ([lo, hi]) on the same line: what the lesson never prints."""
    bad = []
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        for text in _texts(cell):
            for line in text.splitlines():
                if SIGNED.search(INTERVAL.sub("", line)) and not INTERVAL.search(line):
                    bad.append(line.strip())
    return bad


def test_the_interval_check_catches_a_bare_difference():
    book = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('x')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                           text="gain +0.62 points\nok +0.62 [-0.41, +1.65]\n")]
    book.cells = [cell]
    assert differences_without_interval(book) == ["gain +0.62 points"]


def test_the_lessons_solutions_are_hidden_by_default():
    book = nbformat.read(NOTEBOOKS / f"{LESSON}.ipynb", as_version=4)
    solutions = [c for c in book.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 3
    assert all(c.metadata.get("jupyter", {}).get("source_hidden") for c in solutions)
    prompts = [c for c in book.cells if c.cell_type == "markdown" and "Predict first" in c.source]
    assert len(prompts) >= 6


def test_the_lessons_committed_outputs_print_no_bare_difference():
    book = nbformat.read(NOTEBOOKS / f"{LESSON}.ipynb", as_version=4)
    assert not differences_without_interval(book), differences_without_interval(book)


def test_every_notebook_has_its_source_and_they_are_in_sync():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    assert sorted(p.stem for p in NOTEBOOKS.glob("[0-9]*.py")) == NAMES
    for name in NAMES:
        assert unsynced(NOTEBOOKS / f"{name}.py", NOTEBOOKS / f"{name}.ipynb") == [], \
            f"{name}.py was edited without `python notebooks/run_notebooks.py {name}`"


def test_an_edited_source_cell_is_caught(tmp_path):
    py = tmp_path / "02_replay_the_roadmap.py"
    text = (NOTEBOOKS / py.name).read_text()
    py.write_text(text.replace("df = load(RESULTS)", "df = load(RESULTS)  # edited", 1))
    changed = unsynced(py, NOTEBOOKS / "02_replay_the_roadmap.ipynb")
    assert len(changed) == 1


def test_cells_that_read_committed_results_are_never_live():
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code" and LIVE in cell.metadata.get("tags", []):
                assert "'results'" not in cell.source and "RESULTS" not in cell.source, name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_its_committed_outputs_are_todays(name, monkeypatch):
    monkeypatch.setenv("NOTEBOOK_SMOKE", "1")
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    if name == LESSON:
        assert not differences_without_interval(book), differences_without_interval(book)
    compared = 0
    for old, new in zip(committed.cells, book.cells):
        if old.cell_type != "code" or LIVE in old.metadata.get("tags", []):
            continue
        assert _texts(new) == _texts(old), old.source[:200]
        compared += bool(_texts(old))
    assert compared >= 2, "nothing compared"


def test_the_notebooks_are_committed_run_with_their_figures():
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        images = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert images, f"{name} is committed without its figures"
        assert all(c.get("execution_count") for c in book.cells if c.cell_type == "code"), \
            f"{name} is committed with cells that were not run"


def test_the_committed_outputs_carry_no_warning():
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for cell in book.cells:
            for o in cell.get("outputs", []):
                text = o.get("text", "") if o.get("output_type") == "stream" else ""
                assert "Warning" not in text and o.get("name") != "stderr", (name, text[:200])

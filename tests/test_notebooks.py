"""The notebooks: each percent-format source (``NN_name.py``) is in sync with its committed
``.ipynb``, every notebook runs top to bottom (smoke settings, in memory: the committed file
is never rewritten by the tests), and every cell that is not live prints today what the
committed file shows. The lesson's one source makes two notebooks (``run_notebooks.lesson``):
the student copy (no outputs, no solutions, a prediction cell before every result) and the
teacher's key (expected verdicts and solutions with their outputs), both run with plan B."""

import importlib.util
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
SOURCES = ["01_design_space", "02_replay_the_roadmap", "03_your_own_ablation", "04_convnext_v2",
           "05_convnext_vs_transformers", "06_lesson"]
LESSON = "06_lesson"
TEACHER, STUDENT = f"{LESSON}_teacher", f"{LESSON}_student"
NAMES = SOURCES[:-1] + [STUDENT, TEACHER]
"""The committed notebooks: one per source, two (student, teacher) for the lesson."""
LIVE = "live"  # the tag of cells that train or measure live (their outputs differ in smoke)
PREDICTION = "prediction"  # the tag of the lesson's cells where a student types a prediction

_spec = importlib.util.spec_from_file_location("run_notebooks", NOTEBOOKS / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)


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


def _cells(book) -> list[tuple[str, str, tuple]]:
    return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", [])))
            for c in book.cells]


def unsynced(py: Path, ipynb: Path, view=lambda book: book) -> list[int]:
    """Indices of the cells where the source ``py`` (as ``view`` makes a notebook of it) and
    the notebook differ (type, text or tags; a missing or extra cell counts too); empty when
    they are in sync."""
    a, b = _cells(view(jupytext.read(py))), _cells(nbformat.read(ipynb, as_version=4))
    return [i for i in range(max(len(a), len(b)))
            if i >= len(a) or i >= len(b) or a[i] != b[i]]


def _source_of(name: str) -> tuple[Path, object]:
    """The source of a committed notebook, and how the notebook is made from it."""
    if name == STUDENT:
        return NOTEBOOKS / f"{LESSON}.py", run_notebooks.student_copy
    if name == TEACHER:
        return NOTEBOOKS / f"{LESSON}.py", run_notebooks.teacher_key
    return NOTEBOOKS / f"{name}.py", lambda book: book


def _tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


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


def results_before_a_prediction(book) -> list[str]:
    """What ``book`` prints of the lab's results (a difference with its interval) in a cell
    that no prediction cell precedes since the previous such cell: a spoiled prompt."""
    spoiled, predicted = [], False
    for cell in book.cells:
        if PREDICTION in _tags(cell):
            predicted = True
        elif cell.cell_type == "code" and any(INTERVAL.search(t) for t in _texts(cell)):
            if not predicted:
                spoiled.append(cell.source[:80])
            predicted = False
    return spoiled


def test_the_spoiler_check_catches_a_result_before_its_prediction():
    book = nbformat.v4.new_notebook()
    result = nbformat.v4.new_code_cell("say()")
    result.outputs = [nbformat.v4.new_output("stream", name="stdout", text="+1.00 [+0.50, +1.50]")]
    guess = nbformat.v4.new_code_cell("PREDICTION['x'] = ''", metadata={"tags": [PREDICTION]})
    book.cells = [guess, result]
    assert results_before_a_prediction(book) == []
    book.cells = [guess, result, result]
    assert results_before_a_prediction(book) == ["say()"]


def test_the_student_copy_has_no_outputs_no_solutions_and_prediction_cells():
    book = nbformat.read(NOTEBOOKS / f"{STUDENT}.ipynb", as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert not [c for c in book.cells if _tags(c) & {"solution", "teacher"}]
    assert not [c for c in book.cells if "Solution" in c.source or "expect(" in c.source]
    prompts = [c for c in book.cells if c.cell_type == "markdown" and "Predict first" in c.source]
    predictions = [c for c in book.cells if PREDICTION in _tags(c)]
    assert len(prompts) >= 8 and len(predictions) >= len(prompts)
    # every prompt is followed by a cell where the student types, before the next code cell
    for k, cell in enumerate(book.cells):
        if cell.cell_type == "markdown" and "Predict first" in cell.source:
            following = next(c for c in book.cells[k + 1:] if c.cell_type == "code")
            assert PREDICTION in _tags(following), cell.source[:80]
    assert "jupytext" not in book.metadata  # never synced back onto the source


def test_the_teacher_key_has_solutions_and_expected_verdicts_with_outputs():
    book = nbformat.read(NOTEBOOKS / f"{TEACHER}.ipynb", as_version=4)
    solutions = [c for c in book.cells if "solution" in _tags(c) and c.cell_type == "code"]
    assert len(solutions) >= 3 and all(_texts(c) for c in solutions)
    assert not any(c.metadata.get("jupyter", {}).get("source_hidden") for c in book.cells)
    expected = "".join("".join(_texts(c)) for c in book.cells if "teacher" in _tags(c))
    assert expected.count("expected (committed results/lab") >= 7 and "why:" in expected
    assert "ConvNeXt-T vs ResNet-50 (modern recipe)" in expected  # the two ends, with reason
    assert "jupytext" not in book.metadata


def test_the_lessons_committed_outputs_print_no_bare_difference_nor_spoil_a_prompt():
    book = nbformat.read(NOTEBOOKS / f"{TEACHER}.ipynb", as_version=4)
    assert not differences_without_interval(book), differences_without_interval(book)
    student = [c for c in book.cells if not _tags(c) & {"solution", "teacher"}]
    book.cells = student  # what a student sees when the copy runs (plan B, committed lab)
    assert not results_before_a_prediction(book), results_before_a_prediction(book)
    training = next(c for c in book.cells if LIVE in _tags(c))
    assert not re.search(r"\d\.\d\d", "".join(_texts(training)))  # no top-1 printed


def test_the_lesson_trains_through_the_cli_and_never_on_synthetic_data():
    source = (NOTEBOOKS / f"{LESSON}.py").read_text()
    assert "synthetic" not in source.lower()  # a missing data set is an error, not a fallback
    # the library call behind `run` (studies.planning.train), with its two worker processes
    assert "from ablations.studies import Launch, StudyRequest, seed_list, train" in source
    assert "Launch(jobs=2)" in source and "ablations.cli" not in source
    assert "USE_COMMITTED = False" in source  # plan B is one switch, off by default
    assert "raise LessonStop(e)" in source and "_render_traceback_" in source  # one line


def test_every_notebook_has_its_source_and_they_are_in_sync():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == NAMES
    assert sorted(p.stem for p in NOTEBOOKS.glob("[0-9]*.py")) == SOURCES
    for name in NAMES:
        py, view = _source_of(name)
        assert unsynced(py, NOTEBOOKS / f"{name}.ipynb", view) == [], \
            f"{py.name} was edited without `python notebooks/run_notebooks.py {py.stem}`"


def test_a_solution_left_in_the_student_copy_is_caught(tmp_path):
    source = jupytext.read(NOTEBOOKS / f"{LESSON}.py")
    leaky = run_notebooks.student_copy(source)
    leaky.cells.append(next(c for c in source.cells if "solution" in _tags(c)))
    path = tmp_path / f"{STUDENT}.ipynb"
    nbformat.write(leaky, path)
    assert unsynced(NOTEBOOKS / f"{LESSON}.py", path, run_notebooks.student_copy) != []


def test_an_edited_source_cell_is_caught(tmp_path):
    py = tmp_path / f"{LESSON}.py"
    text = (NOTEBOOKS / py.name).read_text()
    assert unsynced(NOTEBOOKS / py.name, NOTEBOOKS / f"{TEACHER}.ipynb",
                    run_notebooks.teacher_key) == []
    py.write_text(text.replace("ours = verdicts(rows)", "ours = verdicts(rows)  # edited", 1))
    for name, view in ((TEACHER, run_notebooks.teacher_key), (STUDENT, run_notebooks.student_copy)):
        assert len(unsynced(py, NOTEBOOKS / f"{name}.ipynb", view)) == 1


def test_cells_that_read_committed_results_are_never_live():
    for name in NAMES:
        book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code" and LIVE in cell.metadata.get("tags", []):
                assert "'results'" not in cell.source and "RESULTS" not in cell.source, name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_and_its_committed_outputs_are_todays(name, monkeypatch):
    monkeypatch.setenv("NOTEBOOK_SMOKE", "1")
    monkeypatch.setenv(run_notebooks.PLAN_B, "1")  # the lesson reads the committed lab
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    book = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    if name in (STUDENT, TEACHER):
        assert not differences_without_interval(book), differences_without_interval(book)
    if name == STUDENT:
        assert not results_before_a_prediction(book), results_before_a_prediction(book)
        return  # committed without outputs: nothing to compare
    compared = 0
    for old, new in zip(committed.cells, book.cells):
        if old.cell_type != "code" or LIVE in old.metadata.get("tags", []):
            continue
        assert _texts(new) == _texts(old), old.source[:200]
        compared += bool(_texts(old))
    assert compared >= 2, "nothing compared"


def test_the_notebooks_are_committed_run_with_their_figures():
    for name in (n for n in NAMES if n != STUDENT):  # the student copy: no outputs at all
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

"""Every notebook runs top to bottom (smoke settings, in memory: the committed file is
never rewritten by the tests)."""

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name, monkeypatch):
    monkeypatch.setenv("NOTEBOOK_SMOKE", "1")
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors


def test_there_are_five_notebooks_with_figures():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["01_design_space.ipynb", "02_replay_the_roadmap.ipynb",
                     "03_your_own_ablation.ipynb", "04_convnext_v2.ipynb",
                     "05_convnext_vs_transformers.ipynb"]
    for name in names:
        book = nbformat.read(NOTEBOOKS / name, as_version=4)
        images = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert images, f"{name} is committed without its figures"

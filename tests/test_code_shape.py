"""Shape of the code others read and copy: short functions with one job."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60


def _function_lengths(sources: dict[str, str]) -> list[tuple[str, int]]:
    """(file:line:name, lines) of every function of ``sources``: same-named functions (every
    ``__init__``, ``forward``) each count."""
    out = []
    for name, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append((f"{name}:{node.lineno}:{node.name}", node.end_lineno - node.lineno + 1))
    return out


MODULE_LIMIT = 400


def _sources() -> dict[str, str]:
    """Every module of the two packages, sub-packages (ablations/cli) included."""
    return {str(p.relative_to(ROOT)): p.read_text()
            for folder in ("models", "ablations") for p in sorted((ROOT / folder).rglob("*.py"))}


def test_no_function_in_models_or_ablations_is_over_sixty_lines():
    lengths = _function_lengths(_sources())
    names = [n.rsplit(":", 1)[1] for n, _ in lengths]
    assert len(lengths) > 400 and names.count("__init__") > 10  # every function, twins too
    too_long = {name: n for name, n in lengths if n > LIMIT}
    assert not too_long, too_long


def test_a_long_second_function_of_the_same_name_is_found():
    body = "\n".join(f"    x = {i}" for i in range(LIMIT + 5))
    text = f"class A:\n    def forward(self):\n        pass\n\n\nclass B:\n    def forward(self):\n{body}\n"
    text = text.replace("\n    x", "\n        x")
    long_ones = [n for n, k in _function_lengths({"t.py": text}) if k > LIMIT]
    assert long_ones == ["t.py:7:forward"]


def test_the_command_line_only_dispatches_and_each_command_has_its_module():
    main = (ROOT / "ablations" / "__main__.py").read_text()
    assert len(main.splitlines()) < 100
    assert "add_argument" not in main  # options live beside their handlers in ablations/cli
    from ablations.cli import COMMANDS

    for name in COMMANDS:
        text = (ROOT / "ablations" / "cli" / f"{name}.py").read_text()
        assert "def add_parser(" in text and "def handle(" in text, name


def test_no_module_of_the_packages_is_over_four_hundred_lines():
    sources = _sources()
    assert "ablations/cli/run.py" in sources  # sub-packages are counted too
    too_long = {name: len(text.splitlines()) for name, text in sources.items()
                if len(text.splitlines()) > MODULE_LIMIT}
    assert not too_long, too_long


def test_the_default_chain_is_written_once():
    hits = [name for name, text in _sources().items() if '"resnet50-to-convnext-t"' in text]
    assert hits == ["models/roadmap.py"], hits

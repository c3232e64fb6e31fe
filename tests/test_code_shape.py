"""Shape of the code others read and copy: short functions with one job."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60


def _function_lengths():
    for folder in ("models", "ablations"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield f"{folder}/{path.name}:{node.name}", node.end_lineno - node.lineno + 1


def test_no_function_in_models_or_ablations_is_over_sixty_lines():
    lengths = dict(_function_lengths())
    assert len(lengths) > 100  # the walk found the code
    too_long = {name: n for name, n in lengths.items() if n > LIMIT}
    assert not too_long, too_long

"""What several commands share: option helpers, list parsing, table printing (no heavy imports:
``--help`` builds every parser without torch or pandas)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from models.roadmap import CHAINS, DEFAULT_CHAIN

from ..defaults import RESULTS
from ..errors import UserError
from ..studies.names import SEED_FORMS, seed_list  # noqa: F401 (run's --seeds)
from ..system.files import writable_file, writable_folder  # noqa: F401 (the commands' checks)

FORMATS = ("table", "csv", "json")


def comma_list(text: str) -> list[str]:
    """'a, b,c' -> ['a', 'b', 'c'] (items stripped, empty ones dropped)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def int_list(text: str, option: str) -> list[int]:
    """'1,2' -> [1, 2]; anything else is a ``UserError`` naming ``option``."""
    try:
        return [int(v) for v in comma_list(text)]
    except ValueError:
        raise UserError(f"{option} {text!r}: expected comma-separated integers") from None


def labelled(items: list[str]) -> dict[str, str]:
    """``[LABEL=]VALUE`` items -> {label: value}; an item without a label is its own label."""
    out = {}
    for item in items:
        label, sep, value = item.partition("=")
        out[label if sep else item] = value if sep else item
    return out


def choices(text: str, allowed: tuple[str, ...], flag: str) -> list[str]:
    """A comma-separated subset of ``allowed``; otherwise a ``UserError`` naming ``flag``."""
    values = comma_list(text)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise UserError(f"{flag}={text!r}; allowed: a comma-separated list of "
                        f"{', '.join(allowed)}")
    return values


def parse_overrides(items: list[str] | None, what: str) -> dict[str, Any]:
    """``key=value`` pairs; values parsed as YAML scalars/lists (safe loader)."""
    import yaml

    out = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--{what} {item!r}: expected key=value")
        key, _, value = item.partition("=")
        try:
            out[key.strip()] = float(value) if _is_float(value) else yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--{what} {item!r}: value is not valid YAML") from None
    return out


def _is_float(text: str) -> bool:
    # YAML 1.1 reads "2e-3" as a string; numbers with a dot or exponent are floats here.
    try:
        float(text)
    except ValueError:
        return False
    return any(c in text for c in ".eE") and not text.strip().isalpha()


def print_table(df: Any, fmt: str) -> None:
    """``df`` on stdout as an aligned table, CSV or JSON records."""
    if fmt == "csv":
        sys.stdout.write(df.to_csv(index=False))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", indent=1) + "\n")
    else:
        import pandas as pd

        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            print(df.drop(columns=[c for c in ("note", "source") if c in df]).to_string(
                index=False))


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be >= 1")
    return value


def cuda_available() -> bool:
    """Whether torch sees a CUDA device (imports torch: call it after parsing)."""
    import torch

    return torch.cuda.is_available()


def model_names() -> str:
    """The named models, for help texts."""
    from models.named import MODEL_NAMES

    return ", ".join(MODEL_NAMES)


def add_chain(p: Any) -> None:
    """``--chain NAME`` (default: the paper's roadmap)."""
    p.add_argument("--chain", default=DEFAULT_CHAIN, choices=list(CHAINS))


def add_results_folder(p: argparse.ArgumentParser, help: str = "results folder read") -> None:
    """``--results DIR``: the folder a command reads (default: the committed quick results,
    also where ``run`` writes by default). ``--out DIR`` always names a folder written."""
    p.add_argument("--results", default=RESULTS, metavar="DIR",
                   help=f"{help} (default: %(default)s, where run writes by default)")


def add_format(p: argparse.ArgumentParser, default: str = "table") -> None:
    """``--format table|csv|json``."""
    p.add_argument("--format", choices=FORMATS, default=default)


def add_device(p: argparse.ArgumentParser) -> None:
    """``--device`` (resolved after parsing: cuda where there is one)."""
    p.add_argument("--device", help="cpu or cuda[:N] (default: cuda where there is one)")


def add_chain_or_models(p: argparse.ArgumentParser) -> None:
    """``--chain NAME`` or ``--models A,B,...`` (named models), not both."""
    group = p.add_mutually_exclusive_group()
    add_chain(group)
    group.add_argument("--models", help=f"comma-separated named models: {model_names()}")


def read_table(path: str | Path, option: str, columns: tuple[str, ...] = (),
               made_by: str = "") -> Any:
    """The CSV table ``path`` (given by ``option``) as a DataFrame; a missing, unreadable,
    non-CSV or foreign file (one that lacks ``columns``) is one ``UserError`` line naming
    the file, what is wrong and what is expected (``made_by``: the command that writes it)."""
    import pandas as pd

    expected = f"expected: a CSV table{f' made by {made_by}' if made_by else ''}"
    p = Path(path)
    if not p.is_file():
        what = "a folder" if p.is_dir() else "no such file"
        raise UserError(f"{option} {p}: {what}; {expected}")
    try:
        table = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as e:
        raise UserError(f"{option} {p}: not a readable CSV table ({type(e).__name__}); "
                        f"{expected}") from None
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise UserError(f"{option} {p}: lacks the column(s) {', '.join(missing)}; {expected}")
    return table


def check_device(device: str, option: str = "--device", need_present: bool = True) -> None:
    """``device`` must be ``cpu``, ``cuda`` or ``cuda:N`` and (``need_present``) be here:
    one ``UserError`` line before anything is created (imports torch)."""
    import re

    if device == "cpu":
        return
    if not re.fullmatch(r"cuda(:[0-9]+)?", str(device)):
        raise UserError(f"{option}={device!r}; allowed: cpu, cuda or cuda:N")
    if not need_present:
        return
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise UserError(f"{option}={device}: no CUDA device here (no GPU or no driver); "
                        "allowed: cpu")
    index = int(device.partition(":")[2] or 0)
    if index >= count:
        raise UserError(f"{option}={device}: this machine has {count} CUDA device(s); allowed: "
                        f"cpu or cuda:0 to cuda:{count - 1}")

"""``bench`` over several settings: each setting's rows with the machine's matmul peak and
where they were measured, merged into one CSV (a rerun replaces its own rows); float32 on a
GPU as TF32 inside the run only; the first/last step ratios to the references."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import torch

from .bench import Candidate, Setting, achieved_gflop_rate, bench
from ..system.machine import machine_info, matmul_peak_gflops
from ..system.files import atomic_write_text


SETTING_COLUMNS = [f.name for f in dataclasses.fields(Setting)]


def run_settings(candidates: list[Candidate], settings: list[Setting], out_csv: Path,
                 windows: int = 5, min_window_s: float = 0.5, memory: bool = True,
                 log: Callable[[str], None] = print) -> pd.DataFrame:
    """Benchmark every setting and merge the rows into ``out_csv`` (a row per setting and
    model; rows of other settings already in the file are kept, same ones replaced)."""
    cuda = any(s.device.startswith("cuda") for s in settings)
    with _gpu_float32_as_tf32(cuda):
        return _run_settings(candidates, settings, out_csv, windows, min_window_s, memory, log)


@contextlib.contextmanager
def _gpu_float32_as_tf32(enabled: bool) -> Iterator[None]:
    """float32 on GPUs means TF32 matmuls and convs (as in the paper's A100 figure) and
    cuDNN's autotuner, inside the block only: the process's settings are restored after."""
    backends = ((torch.backends.cuda.matmul, "allow_tf32"), (torch.backends.cudnn, "allow_tf32"),
                (torch.backends.cudnn, "benchmark"))
    before = [getattr(m, name) for m, name in backends]
    if enabled:
        for m, name in backends:
            setattr(m, name, True)
    try:
        yield
    finally:
        for (m, name), value in zip(backends, before):
            setattr(m, name, value)


def _run_settings(candidates: list[Candidate], settings: list[Setting], out_csv: Path,
                  windows: int, min_window_s: float, memory: bool,
                  log: Callable[[str], None]) -> pd.DataFrame:
    peaks: dict[tuple[str, str], float] = {}
    frames = []
    for setting in settings:
        log(f"bench: {json.dumps(dataclasses.asdict(setting))}")
        df = bench(candidates, setting, windows, min_window_s, memory=memory, log=log)
        key = (setting.device, setting.dtype)
        if key not in peaks:
            peaks[key] = matmul_peak_gflops(setting.device, setting.dtype)
        achieved = achieved_gflop_rate(df["images_per_s"], df["gflops"], setting.mode)
        df["matmul_peak_gflops"] = round(peaks[key], 1)
        df["fraction_of_peak"] = (achieved / peaks[key]).round(4)
        for name, value in dataclasses.asdict(setting).items():
            df[name] = value
        df["tf32"] = setting.device.startswith("cuda") and setting.dtype == "float32"
        for name, value in machine_info(setting.device).items():
            df[name] = value
        df["measured_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        frames.append(df)
        _merge_into(out_csv, df)
    return pd.concat(frames, ignore_index=True)


def _merge_into(path: Path, df: pd.DataFrame) -> None:
    # Rows are keyed by setting + model; a rerun replaces its own rows, keeps the rest.
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SETTING_COLUMNS + ["model"]
    if path.exists():
        old = pd.read_csv(path)
        if set(key) <= set(old.columns):
            merged = pd.concat([old, df], ignore_index=True)
            merged = merged.drop_duplicates(subset=key, keep="last")
        else:
            merged = df
    else:
        merged = df
    atomic_write_text(path, merged.to_csv(index=False))


def ratio_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per setting: first step vs ResNet-50 and last step vs ConvNeXt-T (images/s ratios)."""
    rows = []
    for values, group in df.groupby(SETTING_COLUMNS, dropna=False):
        steps = group[(group["kind"] == "step") & (~group["plain_convs"].astype(bool))]
        if steps.empty:
            continue
        first = steps.loc[steps["step"].astype(float).idxmin()]
        last = steps.loc[steps["step"].astype(float).idxmax()]
        row = dict(zip(SETTING_COLUMNS, values))
        row.update({"first_step": first["model"],
                    "first_vs_resnet50": first.get("vs_resnet50"),
                    "last_step": last["model"],
                    "last_vs_convnext_tiny": last.get("vs_convnext_tiny")})
        rows.append(row)
    return pd.DataFrame(rows)

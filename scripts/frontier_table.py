"""Table and figure of the quick-preset frontier measured by scripts/frontier.sh.

    python scripts/frontier_table.py runs/frontier results/frontier

Each sub-folder of the first argument is one candidate (a results folder); the table has
one row per (candidate, step) with top-1 and training minutes, and the figure plots, per
candidate, each step's top-1 against the estimated minutes of one seed of the whole chain
(mean step minutes x chain length / workers, as the runs were trained: 2 one-thread
workers side by side on the 2-core machine).
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ablations.run.store import load
from models.roadmap import chain

CHAIN_RUNS = len(chain("resnet50-to-convnext-t"))
WORKERS = 2


def collect(root: Path) -> pd.DataFrame:
    rows = []
    for folder in sorted(p for p in root.iterdir() if (p / "labels.jsonl").exists()):
        df = load(folder)
        for r in df[df.status == "ok"].itertuples():
            spec = pd.read_json(folder / "runs" / r.config_hash / "spec.json", typ="series")
            rows.append({"candidate": folder.name, "step": r.step, "step_name": r.step_name,
                         "top1": r.top1, "train_minutes": r.train_seconds / 60,
                         "wall_minutes": r.wall_seconds / 60, "threads": r.threads,
                         "epochs": spec["recipe"].get("epochs"),
                         "batch_size": spec["recipe"].get("batch_size"),
                         "train_subset": spec["data"].get("train_subset"),
                         "resolution": spec["data"].get("resolution"),
                         "numerics_version": r.numerics_version, "git_commit": r.git_commit})
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 5))
    markers = {0: "o", 3: "s", 12: "^"}
    for k, (name, g) in enumerate(table.groupby("candidate", sort=False)):
        chain_min = g.wall_minutes.mean() * CHAIN_RUNS / WORKERS
        color = plt.get_cmap("tab10")(k)
        for r in g.itertuples():
            ax.scatter(chain_min, r.top1, color=color, marker=markers.get(r.step, "x"), s=40)
        ax.annotate(name, (chain_min, g.top1.max()), xytext=(4, 4), textcoords="offset points",
                    fontsize=7.5, color=color)
    for step, m in markers.items():
        ax.scatter([], [], color="black", marker=m, label=f"step {step}")
    ax.axhline(90.0, color="#c62828", ls="--", lw=0.8, label="target 90.0%")
    ax.axvline(20.0, color="#555555", ls=":", lw=0.8, label="budget 20 min / seed")
    ax.set_xlabel(f"estimated minutes per seed of the {CHAIN_RUNS}-run chain "
                  f"({WORKERS} one-thread workers, 2-core CPU)")
    ax.set_ylabel("test top-1 (%), Fashion-MNIST, seed 0")
    ax.set_title("Quick preset candidates: accuracy vs CPU time", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    for ext in (".png", ".svg"):
        fig.savefig(path.with_suffix(ext), dpi=150 if ext == ".png" else None)


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    table = collect(root)
    table.round(4).to_csv(out / "frontier.csv", index=False)
    summary = table.groupby("candidate", sort=False).agg(
        epochs=("epochs", "first"), batch=("batch_size", "first"),
        subset=("train_subset", "first"), top1_min=("top1", "min"),
        top1_mean=("top1", "mean"), step_minutes=("wall_minutes", "mean"))
    summary["chain_minutes_est"] = summary.step_minutes * CHAIN_RUNS / WORKERS
    print(summary.round(2).to_string())
    figure(table, out / "frontier")
    print(f"wrote {out / 'frontier.csv'} and {out / 'frontier.png'}")


if __name__ == "__main__":
    main()

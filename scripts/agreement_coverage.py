"""Coverage of the agreement interval (Spearman of our step gains vs the paper's) on
simulated chains: results/quick/agreement_coverage.csv.

    python scripts/agreement_coverage.py [--chains 1000]

Scenarios: chains whose true gains have a known correlation with the paper's (0.3, 0.6,
0.8; spread and seed noise as in the committed replay), and the committed replay's own mean
gains taken as the truth (several of them within 0.02 points of each other, which makes
their ranks, and so the true Spearman, fragile).
"""

import argparse
import math

import numpy as np
import pandas as pd
from scipy import stats

from ablations.analysis.agreement import AGREEMENT_METHOD, agreement_coverage, agreement_interval, spearman_rows
from ablations.analysis.stats import study_stats
from ablations.run.store import load

CHAIN = "resnet50-to-convnext-t"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chains", type=int, default=1000)
    ap.add_argument("--out", default="results/quick/agreement_coverage.csv")
    args = ap.parse_args()
    t = study_stats(load("results/quick"), CHAIN, "quick").dropna(subset=["paper_delta"])
    paper, gains = t.paper_delta.to_numpy(), t.delta.to_numpy()
    n = int(t.seeds.min())
    half_to_sd = math.sqrt(n) / float(stats.t.ppf(0.975, n - 1))
    seed_sd = ((t.t_hi - t.t_lo) / 2 * half_to_sd).to_numpy()
    gain_sd, pooled = float(np.std(gains[1:])), float(np.sqrt(np.mean(seed_sd ** 2)))
    rows = []
    for c in (0.3, 0.6, 0.8):
        cov = agreement_coverage(paper, c, gain_sd, pooled, n, args.chains)
        rows.append({"scenario": f"known correlation {c}", "chains": args.chains,
                     "coverage": cov})
        print(rows[-1])
    rng = np.random.default_rng(7)
    truth = float(spearman_rows(gains[None], paper)[0])
    hits = 0
    for k in range(args.chains):
        diffs = gains[:, None] + seed_sd[:, None] * rng.standard_normal((len(gains), n))
        lo, hi = agreement_interval(diffs, paper, 2000, k)
        hits += lo <= truth <= hi
    rows.append({"scenario": "committed mean gains as the truth", "chains": args.chains,
                 "coverage": hits / args.chains})
    print(rows[-1])
    df = pd.DataFrame(rows)
    df["nominal"], df["method"] = 0.95, AGREEMENT_METHOD
    df["seeds"], df["gain_sd"], df["seed_sd"] = n, round(gain_sd, 3), round(pooled, 3)
    df.round(4).to_csv(args.out, index=False)


if __name__ == "__main__":
    main()

"""The bench on a tiny setting: it measures every model, interleaved, and writes its table."""

import math

import pandas as pd
import pytest
import torch

from ablations.measure import bench
from ablations.__main__ import main
from models.roadmap import chain

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_bench_cli_tiny_with_references(tmp_path, capsys):
    args = ["bench", "--steps", "modern-recipe,separate-downsampling", "--resolution", "32", "--batch-size", "2",
            "--windows", "2", "--min-window-s", "0", "--no-memory", "--device", "cpu",
            "--out", str(tmp_path), "--tag", "tiny"]
    assert main(args + ["--mode", "infer,train"]) == 0
    df = pd.read_csv(tmp_path / "bench_tiny.csv")
    # two settings x (two steps + two references)
    assert len(df) == 8
    assert set(df["model"]) == {"0:modern-recipe", "12:separate-downsampling",
                                "torchvision_resnet50", "timm_convnext_tiny"}
    assert set(df["mode"]) == {"infer", "train"}
    assert (df["images_per_s"] > 0).all() and (df["latency_bs1_ms"] > 0).all()
    assert (df["matmul_peak_gflops"] > 0).all()
    for mode in ("infer", "train"):
        sub = df[df["mode"] == mode].set_index("model")
        # each step's ratios are its measured images/s over the other model's (never a
        # model over itself)
        for step in ("0:modern-recipe", "12:separate-downsampling"):
            for ref, column in (("torchvision_resnet50", "vs_resnet50"),
                                ("timm_convnext_tiny", "vs_convnext_tiny")):
                ratio = sub.loc[step, "images_per_s"] / sub.loc[ref, "images_per_s"]
                assert sub.loc[step, column] == pytest.approx(ratio, abs=1e-3)
        # same architecture, same FLOP count as the references
        assert sub.loc["0:modern-recipe", "gflops"] == pytest.approx(
            sub.loc["torchvision_resnet50", "gflops"], rel=1e-9)
        assert sub.loc["12:separate-downsampling", "gflops"] == pytest.approx(
            sub.loc["timm_convnext_tiny", "gflops"], rel=1e-9)
        assert ((sub["fraction_of_peak"] > 0) & (sub["fraction_of_peak"] < 1)).all()
    # plots per setting
    for mode in ("infer", "train"):
        assert (tmp_path / f"bench_tiny_{mode}_float32.png").read_bytes()[:8] == PNG_MAGIC
    out = capsys.readouterr().out
    assert "first_vs_resnet50" in out and "last_vs_convnext_tiny" in out
    # a rerun of one setting replaces its rows and keeps the other setting's
    assert main(args + ["--mode", "train", "--no-plot"]) == 0
    again = pd.read_csv(tmp_path / "bench_tiny.csv")
    assert len(again) == 8
    key = ["mode", "model"]
    before, after = (d.set_index(key).sort_index() for d in (df, again))
    pd.testing.assert_series_equal(before.loc["infer", "images_per_s"],
                                   after.loc["infer", "images_per_s"])  # kept as they were
    assert (before.loc["train", "images_per_s"] != after.loc["train", "images_per_s"]).all()


def test_achieved_flop_rate_counts_two_flops_per_mac_and_three_passes_to_train():
    # 100 images/s of a 4-GMAC model: 800 GFLOP/s inferring, 2400 training (fwd + 2x bwd)
    assert bench.achieved_gflop_rate(100.0, 4.0, "infer") == pytest.approx(800.0)
    assert bench.achieved_gflop_rate(100.0, 4.0, "train") == pytest.approx(2400.0)


def test_bench_measures_memory_of_a_training_step():
    steps = [s for s in chain("resnet50-to-convnext-t") if s.index == 12]
    setting = bench.Setting(mode="train", batch_size=8, resolution=64)
    df = bench.bench(bench.step_candidates(steps, plain=True), setting, windows=1,
                     min_window_s=0.0, memory=True, log=lambda s: None)
    assert list(df["plain_convs"]) == [False, True]
    # ConvNeXt-T's 28.6M float32 weights and their gradients alone are 218 MiB
    assert (df["peak_mem_mb"] > 218).all(), df["peak_mem_mb"].tolist()
    assert math.isnan(df["vs_resnet50"].iloc[0])  # no reference in this run


@pytest.mark.parametrize("argv,message", [
    (["bench", "--mode", "fly"], "--mode='fly'; allowed"),
    (["bench", "--dtype", "float16"], "--dtype='float16'; allowed"),
    (["bench", "--resolution", "16"], "resolution=16; allowed: >= 32"),
])
def test_bench_bad_input(argv, message, capsys):
    assert main(argv + ["--no-memory", "--no-plot"]) == 2
    assert message in capsys.readouterr().err


def test_named_models_are_benched_as_models_not_as_chain_steps():
    # a named-model bench is not a chain: no first/last step ratios, no joining line
    cands = bench.model_candidates(["resnet50", "swin_t"])
    assert [(c.label, c.kind) for c in cands] == [("0:resnet50", "model"), ("1:swin_t", "model")]
    steps = [s for s in chain("resnet50-to-convnext-t") if s.index in (0, 12)]
    assert {c.kind for c in bench.step_candidates(steps)} == {"step"}


def test_gpu_float32_means_tf32_only_inside_the_bench():
    from ablations.measure.bench_settings import _gpu_float32_as_tf32

    flags = lambda: (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,  # noqa: E731
                     torch.backends.cudnn.benchmark)
    torch.backends.cudnn.benchmark = False
    before = flags()
    with _gpu_float32_as_tf32(True):
        assert flags() == (True, True, True)
    assert flags() == before
    with _gpu_float32_as_tf32(False):
        assert flags() == before

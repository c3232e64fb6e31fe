"""`show` as a researcher meets it: a study at a time, within 100 columns, comparisons in
words, the paper's numbers only beside the paper's own steps, scale cells in order."""

from pathlib import Path

from ablations.__main__ import main

RESULTS = str(Path(__file__).resolve().parent.parent / "results" / "quick")
ALONE = "one-at-a-time:resnet50-to-convnext-t"


def test_show_fits_100_columns_and_filters_a_study(capsys):
    assert main(["show", "--results", RESULTS, "--study", ALONE]) == 0
    text = capsys.readouterr().out
    assert max(map(len, text.splitlines())) <= 100
    assert f"\n{ALONE} (quick)" in text and "\nresnet50-to-convnext-t (quick)" not in text
    assert "only: Inverted bottleneck" in text  # the comparison in words, not slugs
    row = next(line for line in text.splitlines() if "only-inverted-bottleneck" in line)
    assert "31.53" in row and "4.64" not in row  # its own GFLOPs; not the chain step's paper's


def test_show_sorts_scale_cells_and_names_the_allowed_studies(capsys):
    assert main(["show", "--results", RESULTS, "--study", "scale:resnet50-to-convnext-t"]) == 0
    cells = [line for line in capsys.readouterr().out.splitlines() if line.startswith("scale:")]
    images = [c for c in cells if "train_images" in c and c.count("=") == 1]
    assert images == sorted(images, key=lambda c: int(c.split("=")[1].rstrip(")")))
    assert cells[0].endswith("(quick)")
    crossed = [i for i, c in enumerate(cells) if c.count("=") > 1]  # after every one-axis cell
    assert not crossed or min(crossed) > max(i for i, c in enumerate(cells) if c.count("=") == 1)
    assert main(["show", "--results", RESULTS, "--study", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--study 'nope'" in err and ALONE in err and len(err.splitlines()) == 1

"""The paper's roadmaps as data: ordered chains of steps, each the previous plus one change.

A step's design is ``dataclasses.replace(previous.design, ...)``; which fields changed is
computed (``Step.changes``), not declared, so a chain cannot silently change two things.
The paper's numbers live here once (``results/paper_reference.csv`` is exported from them).
Where the paper moves more than one knob in one step, so does the step, and its note says
why (ResNet-200 chain: stage ratio and width 84 together; the last step of both chains:
separate downsampling needs the extra norms, and ConvNeXt's layer scale comes with it).
The weight init is a design field too: it stays torchvision's until the last step, which
switches it to ConvNeXt's (not a step of the paper, which does not isolate it).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .design import FIELDS, Design, DesignError
from .presets import preset


@dataclass(frozen=True)
class Step:
    """One point of a roadmap with the paper's reported ImageNet-1K numbers."""

    index: int
    name: str
    title: str
    phase: str
    design: Design
    recipe: str
    changes: tuple[str, ...]
    paper_top1: float | None
    paper_top1_std: float | None
    paper_gflops: float | None
    source: str
    note: str = ""
    branch_of: str | None = None


@dataclass(frozen=True)
class Reference:
    """A model the paper sets beside a chain (not a step of it), with its printed numbers."""

    title: str
    """As the paper names it, e.g. 'Swin-T'."""
    model: str
    """Our name for it (``models.preset``), e.g. 'swin_t': torchvision's own model."""
    paper_top1: float
    paper_gflops: float
    target: bool = False
    """The chain's target line (drawn across the roadmap figure, as the paper's Figure 2)."""


@dataclass(frozen=True)
class Chain:
    """A named roadmap: main steps in order, side branches, and reference models."""

    name: str
    title: str
    steps: tuple[Step, ...]
    branches: tuple[Step, ...] = ()
    references: tuple[Reference, ...] = ()
    """Models for comparison (Table 1 of the paper), the target line first."""

    @property
    def target(self) -> Reference | None:
        """The reference drawn as the roadmap's target line (None: none)."""
        return next((r for r in self.references if r.target), None)


class _Builder:
    """Appends steps, each one a replace() of the previous step's design."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.steps: list[Step] = []
        self.branches: list[Step] = []

    def start(self, name: str, title: str, design: Design, recipe: str,
              top1: float, std: float | None, gflops: float, note: str = "") -> None:
        self.steps.append(Step(-1, name, title, "baseline", design, recipe, (), top1, std,
                               gflops, self.source, note))

    def add(self, name: str, title: str, phase: str, top1: float | None, std: float | None,
            gflops: float, note: str = "", recipe: str | None = None,
            **changes: object) -> None:
        prev = self.steps[-1]
        self.steps.append(self._step(prev, len(self.steps) - 1, name, title, phase, top1, std,
                                     gflops, note, recipe, changes, None))

    def branch(self, name: str, title: str, top1: float, gflops: float,
               **changes: object) -> None:
        """A side variant of the last main step (e.g. the kernel-size sweep)."""
        prev = self.steps[-1]
        self.branches.append(self._step(prev, prev.index, name, title, prev.phase, top1, None,
                                        gflops, "", None, changes, prev.name))

    def _step(self, prev: Step, index: int, name: str, title: str, phase: str, top1: float,
              std: float | None, gflops: float, note: str, recipe: str | None,
              changes: dict[str, object], branch_of: str | None) -> Step:
        design = dataclasses.replace(prev.design, **changes)
        recipe = recipe or prev.recipe
        changed = tuple(f for f in FIELDS if getattr(design, f) != getattr(prev.design, f))
        if recipe != prev.recipe:
            changed = ("recipe",) + changed
        return Step(index, name, title, phase, design, recipe, changed, top1, std, gflops,
                    self.source, note, branch_of)


def _modernize(b: _Builder, first: dict, widen: dict, std: dict,
               top1: dict, gflops: dict, drop_path: float, sep_note: str,
               init_note: str) -> None:
    """The shared modernization sequence of both chains (numbers differ per chain)."""
    b.add("modern-recipe", "ResNet, modern recipe", "training", top1["modern"],
          std.get("modern"), gflops["modern"], recipe="convnext", drop_path=drop_path,
          note="The paper's Table 5 recipe; its stochastic depth is part of the design.")
    b.add("stage-ratio", first["title"], "macro design", top1["ratio"], std.get("ratio"),
          gflops["ratio"], note=first.get("note", ""), **first["changes"])
    b.add("patchify-stem", "Patchify stem (4x4, stride 4)", "macro design", top1["stem"],
          std.get("stem"), gflops["stem"], stem="patchify")
    b.add("depthwise-conv", "Depthwise conv (ResNeXt-ify)", "ResNeXt-ify", top1["dw"],
          std.get("dw"), gflops["dw"], groups="depthwise")
    b.add(widen["name"], widen["title"], "ResNeXt-ify", top1["width"], std.get("width"),
          gflops["width"], widths=widen["widths"])
    b.add("inverted-bottleneck", "Inverted bottleneck", "inverted bottleneck", top1["inv"],
          std.get("inv"), gflops["inv"], block="inverted")
    b.add("move-up-dwconv", "Move up depthwise conv (3x3)", "large kernel", top1["up"],
          std.get("up"), gflops["up"], spatial_position="top")
    # The kernel sweep varies the moved-up 3x3 conv; 7 is kept, the others are branches.
    for k in (5, 9, 11):
        b.branch(f"kernel-{k}", f"Kernel size {k}", top1[f"k{k}"], gflops[f"k{k}"],
                 kernel_size=k)
    b.add("kernel-7", "Kernel size 7", "large kernel", top1["k7"], None, gflops["k7"],
          kernel_size=7)
    b.add("gelu", "ReLU -> GELU", "micro design", top1["gelu"], std.get("gelu"),
          gflops["gelu"], activation="gelu")
    b.add("fewer-activations", "Fewer activations", "micro design", top1["act"],
          std.get("act"), gflops["act"], activations="one")
    b.add("fewer-norms", "Fewer norms", "micro design", top1["norms"], std.get("norms"),
          gflops["norms"], norms="one")
    b.add("bn-to-ln", "BN -> LN", "micro design", top1["ln"], std.get("ln"), gflops["ln"],
          norm="layer", note=gflops.get("ln_note", ""))
    b.add("separate-downsampling", "Separate downsampling", "micro design", top1["sep"],
          std.get("sep"), gflops["sep"], downsample="separate", head_norm=True,
          layer_scale=1e-6, note=sep_note)
    # Init is held at torchvision's Kaiming scheme through every paper step, so that each
    # of them changes one thing; ConvNeXt's truncated-normal init is the last step. Measured
    # (quick preset, 5 seeds, results/README.md "Init"): neutral on ResNet-50 (-0.04,
    # within noise), -0.78 on ConvNeXt-T; switched inside BN -> LN, it had made that step
    # look like a loss (-1.69) that it is not (-0.18, within noise, with the init fixed).
    b.add("trunc-normal-init", "Init: Kaiming -> trunc. normal", "micro design", None, None,
          gflops["sep"], init="trunc-normal", note=init_note)


def _resnet50_to_convnext_t() -> Chain:
    b = _Builder("ConvNeXt paper (arXiv 2201.03545v2), Table 10 and Figure 2")
    b.start("resnet50-original", "ResNet-50, original recipe", preset("resnet50"),
            "resnet-original", 76.13, None, 4.09,
            note="torchvision's 90-epoch SGD recipe")
    _modernize(
        b,
        first={"title": "Stage ratio (3,4,6,3) -> (3,3,9,3)", "changes": {"depths": (3, 3, 9, 3)}},
        widen={"name": "width-96", "title": "Width 64 -> 96", "widths": (96, 192, 384, 768)},
        top1={"modern": 78.82, "ratio": 79.36, "stem": 79.51, "dw": 78.28, "width": 80.50,
              "inv": 80.64, "up": 79.92, "k5": 80.35, "k7": 80.57, "k9": 80.57, "k11": 80.47,
              "gelu": 80.62, "act": 81.27, "norms": 81.41, "ln": 81.47, "sep": 81.97},
        std={"modern": 0.07, "ratio": 0.07, "stem": 0.18, "dw": 0.08, "width": 0.02,
             "inv": 0.03, "up": 0.08, "gelu": 0.14, "act": 0.06, "norms": 0.09, "ln": 0.09,
             "sep": 0.06},
        gflops={"modern": 4.09, "ratio": 4.53, "stem": 4.42, "dw": 2.35, "width": 5.27,
                "inv": 4.64, "up": 4.07, "k5": 4.10, "k7": 4.15, "k9": 4.21, "k11": 4.29,
                "gelu": 4.15, "act": 4.15, "norms": 4.15, "ln": 4.46, "sep": 4.49,
                "ln_note": "Table 10 prints 4.46 GFLOPs; a norm swap adds no conv/linear "
                           "MACs, Figure 2 shows 4.2 and Table 11 keeps FLOPs unchanged at "
                           "this step: a misprint, the exact count is 4.146."},
        drop_path=0.1,
        sep_note="Separate downsampling alone diverged (paper Sec. 2.6); it "
                 "needs LayerNorm before each downsampling conv, after the stem (already "
                 "there) and after the global pool (head norm). Layer scale 1e-6 comes "
                 "with it so that the endpoint is exactly ConvNeXt-T. Table 10 prints "
                 "4.49 GFLOPs; the exact count is 4.456 (Table 1: 4.5).",
        init_note="= ConvNeXt-T. Not a step of the paper (no top-1 of its own; the paper "
                  "does not say how its intermediate steps were initialised). Ours hold "
                  "torchvision's init up to here, so that BN -> LN changes the norm only.",
    )
    return Chain("resnet50-to-convnext-t", "ResNet-50 -> ConvNeXt-T", tuple(b.steps),
                 tuple(b.branches),
                 (Reference("Swin-T", "swin_t", 81.3, 4.5, target=True),
                  Reference("DeiT-S", "vit_s_16", 79.8, 4.6)))


def _resnet200_to_convnext_b() -> Chain:
    b = _Builder("ConvNeXt paper (arXiv 2201.03545v2), Table 11")
    b.start("resnet200-original", "ResNet-200, original recipe", preset("resnet200"),
            "resnet-original", 78.20, None, 15.01)
    _modernize(
        b,
        first={"title": "Stage ratio (3,24,36,3) -> (3,3,27,3), width 84",
               "changes": {"depths": (3, 3, 27, 3), "widths": (84, 168, 336, 672)},
               "note": "The paper widens 64 -> 84 (stem too) in the same step."},
        widen={"name": "width-128", "title": "Width 84 -> 128",
               "widths": (128, 256, 512, 1024)},
        top1={"modern": 81.14, "ratio": 81.33, "stem": 81.59, "dw": 80.54, "width": 81.85,
              "inv": 82.64, "up": 82.04, "k5": 82.32, "k7": 82.30, "k9": 82.27, "k11": 82.18,
              "gelu": 82.19, "act": 82.71, "norms": 83.17, "ln": 83.35, "sep": 83.60},
        std={},
        gflops={"modern": 15.01, "ratio": 14.52, "stem": 14.38, "dw": 7.23, "width": 16.76,
                "inv": 15.68, "up": 14.63, "k5": 14.70, "k7": 14.81, "k9": 14.95,
                "k11": 15.13, "gelu": 14.81, "act": 14.81, "norms": 14.81, "ln": 14.81,
                "sep": 15.35},
        drop_path=0.5,
        sep_note="With the head norm and layer scale as in the R50 chain.",
        init_note="= ConvNeXt-B. Not a step of the paper (see the ResNet-50 chain).",
    )
    return Chain("resnet200-to-convnext-b", "ResNet-200 -> ConvNeXt-B", tuple(b.steps),
                 tuple(b.branches),
                 (Reference("Swin-B", "swin_b", 83.5, 15.4, target=True),
                  Reference("DeiT-B", "vit_b_16", 81.8, 17.6)))


CHAINS = {
    "resnet50-to-convnext-t": _resnet50_to_convnext_t,
    "resnet200-to-convnext-b": _resnet200_to_convnext_b,
}


def get_chain(name: str) -> Chain:
    """The roadmap called ``name`` with its side branches and reference models."""
    try:
        return CHAINS[name]()
    except KeyError:
        raise DesignError(f"chain {name!r} is unknown; allowed: {', '.join(CHAINS)}") from None


def chain(name: str, branches: bool = False) -> list[Step]:
    """The ordered main steps of roadmap ``name`` (plus its side branches if asked)."""
    c = get_chain(name)
    return list(c.steps) + (list(c.branches) if branches else [])


def find_step(chain_name: str, key: str | int) -> Step:
    """A step (main or side branch) of a chain by name or main-step index."""
    steps = chain(chain_name, branches=True)
    for s in steps:
        if s.name == key or (s.branch_of is None and str(s.index) == str(key)):
            return s
    allowed = ", ".join(f"{s.index}:{s.name}" if s.branch_of is None else s.name for s in steps)
    raise DesignError(f"step {key!r} is not in chain {chain_name!r}; allowed: {allowed}")

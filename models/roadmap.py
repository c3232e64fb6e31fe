"""The paper's roadmaps as data: ordered chains of steps, each the previous plus one change.

Each chain is one table, a ``Row`` per step (as timm's ``model_cfgs``): name, title, phase,
the fields it changes, the paper's numbers and a note. A step's design is
``previous.design.replace(**row.change)``; the fields that changed are computed
(``Step.changes``) and must equal the row's declared ones, so a chain cannot silently change
two things. The paper's numbers live here once (``results/paper_reference.csv`` is exported
from them).
Where the paper moves more than one knob in one step, so does the step, and its note says
why (ResNet-200 chain: stage ratio and width 84 together; separate downsampling needs the
extra norms, the head norm among them, to train at all).
Two details of ConvNeXt that the paper does not isolate get steps of their own after its
last one, so that every step changes one thing: layer scale (1e-6), then the weight init
(held at torchvision's until then, switched to ConvNeXt's truncated normal).
"""

from __future__ import annotations

from dataclasses import dataclass

from .design import FIELDS, Design, DesignError
from .named import named_design

DEFAULT_CHAIN = "resnet50-to-convnext-t"
"""The paper's roadmap (Figure 2): what every command and study uses unless told."""


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
    """Our name for it (``models.named_design``), e.g. 'swin_t': torchvision's own model."""
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


@dataclass(frozen=True)
class Row:
    """One line of a roadmap table: a step as the paper reports it."""

    name: str
    title: str
    phase: str
    change: dict[str, object]
    """Design fields this step sets (and ``recipe``: the recipe it switches to)."""
    top1: float | None
    std: float | None
    gflops: float | None
    note: str = ""
    branch: bool = False
    """A side variant of the main step above it (e.g. the kernel-size sweep), not a step."""


def _chain(name: str, title: str, start: Design, source: str, rows: tuple[Row, ...],
           references: tuple[Reference, ...]) -> Chain:
    """Steps from a table: each main row is ``replace(previous main step, **change)``; the
    fields that really changed are computed, so a row cannot silently change two things."""
    first = rows[0]
    steps = [Step(-1, first.name, first.title, first.phase, start, str(first.change["recipe"]),
                  (), first.top1, first.std, first.gflops, source, first.note)]
    branches = []
    for row in rows[1:]:
        prev = steps[-1]
        index, branch_of = (prev.index, prev.name) if row.branch else (prev.index + 1, None)
        changes = dict(row.change)
        recipe = str(changes.pop("recipe", prev.recipe))
        design = prev.design.replace(**changes)
        changed = tuple(f for f in FIELDS if getattr(design, f) != getattr(prev.design, f))
        changed = ("recipe",) * (recipe != prev.recipe) + changed
        if set(changed) != set(row.change):
            raise DesignError(f"roadmap {name}: step {row.name} declares {sorted(row.change)} "
                              f"but changes {sorted(changed)}")
        step = Step(index, row.name, row.title, row.phase, design, recipe, changed, row.top1,
                    row.std, row.gflops, source, row.note, branch_of)
        (branches if row.branch else steps).append(step)
    return Chain(name, title, tuple(steps), tuple(branches), references)


_RECIPE_NOTE = "The paper's Table 5 recipe; its stochastic depth is part of the design."
_LN_NOTE = ("Table 10 prints 4.46 GFLOPs; a norm swap adds no conv/linear MACs, Figure 2 "
            "shows 4.2 and Table 11 keeps FLOPs unchanged at this step: a misprint, the exact "
            "count is 4.146.")
_SEPARATE_NOTE = ("Separate downsampling alone diverged (paper Sec. 2.6); it needs LayerNorm "
                  "before each downsampling conv, after the stem (already there) and after the "
                  "global pool (head norm). Table 10 prints 4.49 GFLOPs; the exact count is "
                  "4.456 (Table 1: 4.5). The paper's step also turns on ConvNeXt's layer "
                  "scale; here that is the next step.")
_LAYER_SCALE_NOTE = ("Not a step of the paper (no top-1 of its own): ConvNeXt's layer scale "
                     "(CaiT), each residual branch scaled by a learned per-channel factor "
                     "that starts at 1e-6. The paper turns it on with separate downsampling; "
                     "here it is isolated. It adds no conv/linear MACs.")
_INIT_NOTE = ("= ConvNeXt-T, the design the paper's last row (separate downsampling, which "
              "also turns on layer scale and ConvNeXt's init) measured: the analysis pairs "
              "that row's top-1 with this step, and folds steps 12-13 into it. Not a row of "
              "its own in the paper (which does not say how its intermediate steps were "
              "initialised); ours hold torchvision's init up to here, so that BN -> LN "
              "changes the norm only.")
_SEPARATE = {"downsample": "separate", "head_norm": True}
_LAYER_SCALE = {"layer_scale": 1e-6}
# Init is held at torchvision's Kaiming scheme through every paper step, so that each of
# them changes one thing; ConvNeXt's truncated-normal init is the last step. Measured (quick
# preset, 5 seeds, results/README.md "Init"): neutral on ResNet-50 (-0.04, within noise),
# -0.78 on ConvNeXt-T; switched inside BN -> LN, it had made that step look like a loss
# (-1.69) that it is not (-0.18, within noise, with the init fixed).
_INIT = {"init": "trunc-normal"}

# Table 10 and Figure 2 of arXiv 2201.03545v2: top-1 (ImageNet-1K), its std over 3 runs,
# GFLOPs as printed. The kernel sweep varies the moved-up 3x3 conv: 7 is kept, the other
# sizes are side branches.
R50_TO_CONVNEXT_T = (
    Row("resnet50-original", "ResNet-50, original recipe", "baseline",
        {"recipe": "resnet-original"}, 76.13, None, 4.09, "torchvision's 90-epoch SGD recipe"),
    Row("modern-recipe", "ResNet, modern recipe", "training",
        {"recipe": "convnext", "drop_path": 0.1}, 78.82, 0.07, 4.09, _RECIPE_NOTE),
    Row("stage-ratio", "Stage ratio (3,4,6,3) -> (3,3,9,3)", "macro design",
        {"depths": (3, 3, 9, 3)}, 79.36, 0.07, 4.53),
    Row("patchify-stem", "Patchify stem (4x4, stride 4)", "macro design",
        {"stem": "patchify"}, 79.51, 0.18, 4.42),
    Row("depthwise-conv", "Depthwise conv (ResNeXt-ify)", "ResNeXt-ify",
        {"groups": "depthwise"}, 78.28, 0.08, 2.35),
    Row("width-96", "Width 64 -> 96", "ResNeXt-ify",
        {"widths": (96, 192, 384, 768)}, 80.50, 0.02, 5.27),
    Row("inverted-bottleneck", "Inverted bottleneck", "inverted bottleneck",
        {"block": "inverted"}, 80.64, 0.03, 4.64),
    Row("move-up-dwconv", "Move up depthwise conv (3x3)", "large kernel",
        {"spatial_position": "top"}, 79.92, 0.08, 4.07),
    Row("kernel-5", "Kernel size 5", "large kernel", {"kernel_size": 5}, 80.35, None, 4.10,
        branch=True),
    Row("kernel-9", "Kernel size 9", "large kernel", {"kernel_size": 9}, 80.57, None, 4.21,
        branch=True),
    Row("kernel-11", "Kernel size 11", "large kernel", {"kernel_size": 11}, 80.47, None, 4.29,
        branch=True),
    Row("kernel-7", "Kernel size 7", "large kernel", {"kernel_size": 7}, 80.57, None, 4.15),
    Row("gelu", "ReLU -> GELU", "micro design", {"activation": "gelu"}, 80.62, 0.14, 4.15),
    Row("fewer-activations", "Fewer activations", "micro design",
        {"activation_count": "one"}, 81.27, 0.06, 4.15),
    Row("fewer-norms", "Fewer norms", "micro design", {"norm_count": "one"}, 81.41, 0.09, 4.15),
    Row("bn-to-ln", "BN -> LN", "micro design", {"norm": "layer"}, 81.47, 0.09, 4.46, _LN_NOTE),
    Row("separate-downsampling", "Separate downsampling", "micro design", _SEPARATE,
        81.97, 0.06, 4.49, _SEPARATE_NOTE),
    Row("layer-scale", "Layer scale 1e-6", "micro design", _LAYER_SCALE, None, None, 4.49,
        _LAYER_SCALE_NOTE),
    Row("trunc-normal-init", "ConvNeXt-T (init: Kaiming -> trunc. normal)", "micro design", _INIT,
        None, None, 4.49, _INIT_NOTE),
)

# Table 11 of arXiv 2201.03545v2 (no std printed). The first step widens 64 -> 84 (stem
# too) together with the stage ratio, as the paper does.
R200_TO_CONVNEXT_B = (
    Row("resnet200-original", "ResNet-200, original recipe", "baseline",
        {"recipe": "resnet-original"}, 78.20, None, 15.01),
    Row("modern-recipe", "ResNet, modern recipe", "training",
        {"recipe": "convnext", "drop_path": 0.5}, 81.14, None, 15.01, _RECIPE_NOTE),
    Row("stage-ratio", "Stage ratio (3,24,36,3) -> (3,3,27,3), width 84", "macro design",
        {"depths": (3, 3, 27, 3), "widths": (84, 168, 336, 672)}, 81.33, None, 14.52,
        "The paper widens 64 -> 84 (stem too) in the same step."),
    Row("patchify-stem", "Patchify stem (4x4, stride 4)", "macro design",
        {"stem": "patchify"}, 81.59, None, 14.38),
    Row("depthwise-conv", "Depthwise conv (ResNeXt-ify)", "ResNeXt-ify",
        {"groups": "depthwise"}, 80.54, None, 7.23),
    Row("width-128", "Width 84 -> 128", "ResNeXt-ify",
        {"widths": (128, 256, 512, 1024)}, 81.85, None, 16.76),
    Row("inverted-bottleneck", "Inverted bottleneck", "inverted bottleneck",
        {"block": "inverted"}, 82.64, None, 15.68),
    Row("move-up-dwconv", "Move up depthwise conv (3x3)", "large kernel",
        {"spatial_position": "top"}, 82.04, None, 14.63),
    Row("kernel-5", "Kernel size 5", "large kernel", {"kernel_size": 5}, 82.32, None, 14.70,
        branch=True),
    Row("kernel-9", "Kernel size 9", "large kernel", {"kernel_size": 9}, 82.27, None, 14.95,
        branch=True),
    Row("kernel-11", "Kernel size 11", "large kernel", {"kernel_size": 11}, 82.18, None, 15.13,
        branch=True),
    Row("kernel-7", "Kernel size 7", "large kernel", {"kernel_size": 7}, 82.30, None, 14.81),
    Row("gelu", "ReLU -> GELU", "micro design", {"activation": "gelu"}, 82.19, None, 14.81),
    Row("fewer-activations", "Fewer activations", "micro design",
        {"activation_count": "one"}, 82.71, None, 14.81),
    Row("fewer-norms", "Fewer norms", "micro design", {"norm_count": "one"}, 83.17, None, 14.81),
    Row("bn-to-ln", "BN -> LN", "micro design", {"norm": "layer"}, 83.35, None, 14.81),
    Row("separate-downsampling", "Separate downsampling", "micro design", _SEPARATE,
        83.60, None, 15.35, "With the head norm, as in the ResNet-50 chain."),
    Row("layer-scale", "Layer scale 1e-6", "micro design", _LAYER_SCALE, None, None, 15.35,
        "Not a step of the paper (see the ResNet-50 chain)."),
    Row("trunc-normal-init", "ConvNeXt-B (init: Kaiming -> trunc. normal)", "micro design", _INIT,
        None, None, 15.35, "= ConvNeXt-B. Not a step of the paper (see the ResNet-50 chain)."),
)


def _resnet50_to_convnext_t() -> Chain:
    return _chain(DEFAULT_CHAIN, "ResNet-50 -> ConvNeXt-T", named_design("resnet50"),
                  "ConvNeXt paper (arXiv 2201.03545v2), Table 10 and Figure 2",
                  R50_TO_CONVNEXT_T, (Reference("Swin-T", "swin_t", 81.3, 4.5, target=True),
                                      Reference("DeiT-S", "vit_s_16", 79.8, 4.6)))


def _resnet200_to_convnext_b() -> Chain:
    return _chain("resnet200-to-convnext-b", "ResNet-200 -> ConvNeXt-B", named_design("resnet200"),
                  "ConvNeXt paper (arXiv 2201.03545v2), Table 11", R200_TO_CONVNEXT_B,
                  (Reference("Swin-B", "swin_b", 83.5, 15.4, target=True),
                   Reference("DeiT-B", "vit_b_16", 81.8, 17.6)))


CHAINS = {
    DEFAULT_CHAIN: _resnet50_to_convnext_t,
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


def parent_step(chain_name: str, step: Step) -> Step:
    """The step ``step`` changes one thing of: a side branch's root, or the main step before
    it (the first step is its own parent)."""
    if step.branch_of:
        return find_step(chain_name, step.branch_of)
    main = chain(chain_name)
    return main[max(0, main.index(step) - 1)]

"""How studies and their steps are named in the store, written once: a study id is
``<kind>:<subject>`` (``one-at-a-time:resnet50-to-convnext-t``, ``sweep:kernel_size``) or a
chain's own name (a chain, a custom chain); a change alone is ``only-<step>``, a change
removed ``without-<step>``."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError

ALONE_PREFIX = "only-"
"""One-at-a-time: the step that applies one change alone to the modern-recipe ResNet."""
REMOVED_PREFIX = "without-"
"""Leave-one-out: the chain's last design with one change undone."""
KINDS = ("one-at-a-time", "one-at-a-time-matched", "leave-one-out", "transformers", "scale",
         "sweep", "fcmae")
"""The kinds whose id carries a subject after a colon (a chain's name, a swept field)."""


@dataclass(frozen=True)
class StudyId:
    """A parsed study id: ``kind`` ('chain' for a chain or custom chain) and ``subject``
    (the chain's name, or the swept field)."""

    kind: str
    subject: str

    def __str__(self) -> str:
        return self.subject if self.kind == "chain" else f"{self.kind}:{self.subject}"


def study_id(kind: str, subject: str) -> str:
    """The stored id of study ``kind`` of ``subject`` (a chain's name or a swept field)."""
    return str(StudyId(kind, subject))


def parse_study(text: str) -> StudyId:
    """A stored study id -> ``StudyId``; an id without a known kind is a chain's."""
    kind, sep, subject = text.partition(":")
    if sep and kind in KINDS:
        return StudyId(kind, subject)
    return StudyId("chain", text)


def sweep_subject(field: str, base: str) -> str:
    """A sweep's subject: the swept field and the model it varies, ``kernel_size@convnext_tiny``
    (sweeps stored before 0.3 name the field alone; they are read as they are)."""
    return f"{field}@{base}"


def alone(step_name: str) -> str:
    """The one-at-a-time step of a chain step."""
    return ALONE_PREFIX + step_name


def removed(step_name: str) -> str:
    """The leave-one-out step of a chain step."""
    return REMOVED_PREFIX + step_name


SEED_FORMS = "a count N (seeds 0..N-1, e.g. 3), a range A-B (e.g. 5-9) or a list A,B,... (e.g. 3,7)"
"""The forms ``--seeds`` takes, for its help and its error line."""


def seed_list(text: str | int) -> list[int]:
    """The seeds ``--seeds`` names: '3' -> [0, 1, 2], '5-9' -> [5, ..., 9], '3,7' -> [3, 7]
    (sorted, each once); anything else is one ``UserError`` naming ``--seeds`` and its forms."""
    raw = str(text).strip()

    def bad(why: str) -> UserError:
        return UserError(f"--seeds={raw!r}: {why}; allowed: {SEED_FORMS}")

    try:
        if "," in raw:
            seeds = [int(v) for v in [v for v in (t.strip() for t in raw.split(',')) if v]]
        elif "-" in raw.lstrip("-"):
            first, _, last = raw.partition("-")
            lo, hi = int(first), int(last)
            if hi < lo:
                raise bad(f"the range ends ({hi}) before it starts ({lo})")
            seeds = list(range(lo, hi + 1))
        else:
            count = int(raw)
            if count < 1:
                raise bad(f"{count} must be >= 1")
            seeds = list(range(count))
    except ValueError as e:
        if isinstance(e, UserError):
            raise
        raise bad("not a number") from None
    if not seeds:
        raise bad("no seed")
    if min(seeds) < 0:
        raise bad("a seed must be >= 0")
    return sorted(set(seeds))


__all__ = ["ALONE_PREFIX", "REMOVED_PREFIX", "KINDS", "StudyId", "study_id", "parse_study",
           "sweep_subject", "alone", "removed", "SEED_FORMS", "seed_list"]

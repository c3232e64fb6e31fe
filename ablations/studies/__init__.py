"""The studies layer: what to train. ``names`` (how studies and their steps are named in
the store), ``steps`` (the chain, one-at-a-time, leave-one-out, custom chains, sweeps,
Transformer references), ``scale`` (the scale study's cells and their cost), ``fcmae``
(pretrain -> fine-tune pairs), ``planning`` (any study planned, checked and trained from
plain values: the one path of the CLI, the notebooks and the lesson). Plans runs through
``run``; reads no results but the measured runs that price a scale cell.
"""

from .. import lazy_exports

_WHERE = {
    "STUDIES": "steps", "custom_chain": "steps", "leave_one_out": "steps",
    "load_custom_chain": "steps", "one_at_a_time": "steps", "parse_sweep": "steps",
    "select_steps": "steps", "study_steps": "steps", "sweep": "steps",
    "transformers": "steps", "ALONE_PREFIX": "names", "KINDS": "names",
    "REMOVED_PREFIX": "names", "StudyId": "names", "alone": "names", "parse_study": "names",
    "removed": "names", "study_id": "names", "SEED_FORMS": "names", "seed_list": "names",
    "StudyRequest": "planning", "StudyPlan": "planning", "Launch": "planning",
    "plan_study": "planning", "prepare": "planning", "train": "planning",
    "resolve_preset": "planning",
}
__getattr__ = lazy_exports(__name__, _WHERE)
__all__ = sorted(_WHERE)

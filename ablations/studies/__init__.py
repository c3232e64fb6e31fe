"""The studies layer: what to train. ``names`` (how studies and their steps are named in
the store), ``designs`` (the chain, one-at-a-time, leave-one-out, custom chains, sweeps,
Transformer references), ``scale`` (the scale study's cells and their cost). Plans runs
through ``run``; reads no results.
"""

from .. import lazy_exports

_WHERE = {
    "STUDIES": "designs", "custom_chain": "designs", "leave_one_out": "designs",
    "load_custom_chain": "designs", "one_at_a_time": "designs", "parse_sweep": "designs",
    "select_steps": "designs", "study_steps": "designs", "sweep": "designs",
    "transformers": "designs", "ALONE_PREFIX": "names", "KINDS": "names",
    "REMOVED_PREFIX": "names", "StudyId": "names", "alone": "names", "parse_study": "names",
    "removed": "names", "study_id": "names",
}
__getattr__ = lazy_exports(__name__, _WHERE)
__all__ = sorted(_WHERE)

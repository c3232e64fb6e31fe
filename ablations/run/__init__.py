"""The running layer: planned runs -> stored results.

``identity`` (what a run is: spec, hash, versions, stored names, file names), ``store``
(the results folder: claims, atomic writes, the table), ``runner`` (``plan`` and
``execute`` in this process), ``workers`` / ``worker_process`` (local worker processes),
``jobs`` (submitit), ``backends`` (``run(runs, options, backend=...)``: one place that picks).
Imports train, data and system.
"""

from .. import lazy_exports

_WHERE = {
    "BACKENDS": "backends", "run": "backends", "NUMERICS_VERSION": "identity",
    "config_hash": "identity", "run_spec": "identity", "SubmitOptions": "jobs",
    "ExecuteOptions": "runner", "PlannedRun": "runner", "execute": "runner", "plan": "runner",
    "Store": "store", "load": "store",
}
__getattr__ = lazy_exports(__name__, _WHERE)
__all__ = sorted(_WHERE)

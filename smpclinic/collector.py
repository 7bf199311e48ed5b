"""Python's cycle collector, tuned for a long-lived Django process: a gunicorn worker
(smpclinic/wsgi.py), the test run (tests/conftest.py) and the benchmark.

By default Python runs a young-generation pass every 700 new objects and a full pass after
every hundred of those. A page such as the case workspace makes a few hundred thousand
short-lived objects (querysets, model instances, template contexts), so the collector
ran dozens of times a request, and each full pass walked every object Django and the app
keep for the life of the process. Cycles are still collected, after 50,000 new objects
instead; what is loaded at start is frozen out of the passes. Nothing in the app relies
on when a cycle is collected (it uses no weak references or finalizers for that).
"""

import gc

THRESHOLDS = (50_000, 50, 100)


def relax() -> None:
    """Collect less often (THRESHOLDS)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_loaded() -> None:
    """Collect once, then leave every object alive now out of later passes: the modules,
    models, URLs and settings loaded at start live as long as the process."""
    gc.collect()
    gc.freeze()

"""The multi-process test starts servers and workers for about two minutes: it runs when
asked for by its marker (`make test-multiprocess`, `-m multiprocess`), and is left out of
any other run, a plain `pytest` included, rather than slowing down every suite run."""

from __future__ import annotations


def pytest_collection_modifyitems(config, items):
    if "multiprocess" in (config.getoption("markexpr") or ""):
        return  # the -m expression decides
    left_out = [item for item in items if item.get_closest_marker("multiprocess")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("multiprocess")]

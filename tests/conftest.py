"""Test-run plumbing shared by every test directory: how pytest-xdist splits the suite.

`make test` runs the suite on two workers with ``--dist loadgroup``: tests are handed out
one by one, except those with an ``xdist_group`` mark, which all run on one worker. A
module whose tests share a module- (or class-, package-) scoped fixture (a backend, an
Xvfb session, a sandboxed install) gets its own group here, so that fixture is set up
once, on one worker, instead of once per worker. Tests that must never run at the same
time as others (dpkg sandboxes sharing the package build) carry an explicit mark.
"""

from __future__ import annotations

import pytest

SHARED_SCOPES = {"module", "class", "package"}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        info = getattr(item, "_fixtureinfo", None)
        definitions = info.name2fixturedefs.values() if info is not None else ()
        if any(d.scope in SHARED_SCOPES for defs in definitions for d in defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))

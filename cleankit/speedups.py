"""Which implementation of the compiled inner loops runs (issue 12).

``cleankit._speedups`` (C, built by ``pip install`` from ``cleankit/_speedups.c``) holds
compiled versions of a few pure-Python loops; each Python function stays as the reference and
runs when the extension is missing (no compiler at install time, an import error) or when
``CLEANKIT_PURE_PYTHON`` is set to anything but ``""`` or ``0`` (to compare the two, or to
rule the extension out when chasing a bug). The tests compare the two on random and real
inputs (tests/test_speedups.py)."""

from __future__ import annotations

import os
from types import ModuleType

PURE_PYTHON_VARIABLE = "CLEANKIT_PURE_PYTHON"


def _load() -> ModuleType | None:
    if os.environ.get(PURE_PYTHON_VARIABLE, "") not in ("", "0"):
        return None
    try:
        from cleankit import _speedups
    except ImportError:
        return None
    return _speedups


# The extension module, or None when the pure-Python loops run. Read once at import, so that
# a process does not mix the two.
compiled: ModuleType | None = _load()

"""A test hook: kill this process at a named point of a run, as a crash or the OOM killer would.

``CLEANKIT_FAULT=NAME`` (or ``NAME:N`` for the N-th time the point is reached) makes the
process send itself SIGKILL at the boundary called ``NAME``; ``CLEANKIT_FAULT=torn-append``
writes only part of a batch of provenance lines before the kill. The fault suite
(``tests/test_faults.py``) uses it to prove that a kill at every boundary is either invisible
or finished by the rerun. Unset (always, outside tests), each check is one dictionary lookup.

The boundaries, in the order a run meets them: ``surveyed`` (site learning done),
``index-flush`` (a batch's near-duplicate signatures committed), ``appended`` (its provenance
lines written), ``rows`` (its rows committed in the run state), ``cleaned`` (every document
committed), ``decided`` (near-duplicate decisions made, nothing committed), ``journaled`` (the
end-of-run journal committed), ``index-decisions`` (the index's decisions committed),
``provenance-swapped`` (the compacted provenance renamed into place), ``outputs-applied``
(duplicate outputs deleted, updated ones written), ``journal-cleared``.
"""

from __future__ import annotations

import os
import signal

_NAME = ""
_COUNT = ""
_seen = 0


def arm(setting: str) -> None:
    """Set the hook as ``CLEANKIT_FAULT`` does (``NAME`` or ``NAME:N``; empty disarms): for a
    test that forks a run instead of starting a new interpreter."""
    global _NAME, _COUNT, _seen
    _NAME, _, _COUNT = setting.partition(":")
    _seen = 0


arm(os.environ.get("CLEANKIT_FAULT", ""))


def boundary(name: str) -> None:
    """Die here if the fault hook names this boundary (and this is the N-th time)."""
    global _seen
    if name != _NAME:
        return
    _seen += 1
    if _seen >= int(_COUNT or 1):
        os.kill(os.getpid(), signal.SIGKILL)


def torn_append() -> bool:
    """Should this append be cut short and the process killed (``CLEANKIT_FAULT=torn-append``)?"""
    global _seen
    if _NAME != "torn-append":
        return False
    _seen += 1
    return _seen >= int(_COUNT or 1)

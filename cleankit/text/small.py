"""When a text is handled without numpy: the start-up path of one small page.

numpy's import costs more CPU (0.12-0.2 s here) than cleaning an 18 kB page does, so
``cleankit clean - < page`` paid it for vectorised code that a page of a few thousand
characters does not need. The few functions every page calls with numpy (the fold views
of :mod:`cleankit.text.fold`, the script mix, the repeats stage's anchor offsets) each have
a pure-Python twin that gives the same answer; :func:`use_numpy` says which one runs.

numpy is used once it is loaded (anything in the process needed it: a large page, the
near-duplicate signatures of a crawl, a traditional page's conversion), and for every text
once the process has handled :data:`PURE_BUDGET` characters without it: a run of many
pages imports numpy after its first few pages, where the vectorised code is faster per
page, and a page too large for the budget imports it at once. The two paths give the same
results (``tests/test_small_path.py`` compares them on every sample file and on generated
text), so which one runs changes only the time taken.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Characters (summed over the calls that ask) a process handles without numpy. An 18 kB
# page asks for about 40,000 (its ~6,500 characters through five or six such calls).
PURE_BUDGET = 200_000

_left = PURE_BUDGET
_forced: bool | None = None
_lock = threading.Lock()


def use_numpy(size: int) -> bool:
    """Whether a call on a text of ``size`` characters takes its numpy path (True) or its
    pure-Python one (False, which spends ``size`` of the budget)."""
    global _left
    if _forced is not None:
        return _forced
    if "numpy" in sys.modules:
        return True
    with _lock:
        if size <= _left:
            _left -= size
            return False
    return True


@contextmanager
def forced(numpy: bool) -> Iterator[None]:
    """Every call inside takes the numpy path (``numpy=True``) or the pure-Python one (for
    tests that compare the two)."""
    global _forced
    before = _forced
    _forced = numpy
    try:
        yield
    finally:
        _forced = before

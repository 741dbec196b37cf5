"""The time budget of one document: no single page may hold a worker forever.

The budget is CPU time of the process (``time.process_time``), not wall time: a machine
running other work, or a worker stopped and resumed (``SIGSTOP``, a suspended laptop), must
not fail a page that would have finished; a soak run whose workers were stopped for a quarter
of an hour by another program failed two ordinary documents on a wall-clock budget. A stage
never waits on I/O, so what holds a worker is always CPU.

:func:`document_deadline` opens the budget around one document's pipeline. It is enforced
three ways, so that it holds whatever a stage is doing:

- the pipeline looks at the clock between stages (:meth:`cleankit.core.pipeline.Pipeline.run`);
- stages with long loops call :func:`check_deadline` every so often (cheap: one clock read);
- in the main thread of a process (a worker, or the CLI with one job), a ``SIGPROF`` timer
  (``ITIMER_PROF``: the process's CPU time) interrupts whatever runs when the budget is
  spent: a Python loop between two bytecodes, and a regular expression search inside ``re``
  or ``regex``, which both look for signals while they backtrack (CPython 3.11+, measured: a
  ``(a|aa)+$`` search is stopped within the timer's tolerance). Code that never returns to
  the interpreter (a C library call) is stopped when it returns. Library callers running a
  pipeline in another thread get the first two only.

Over budget, :class:`OverBudget` is raised. It derives from ``BaseException`` so that a
stage's own ``except Exception`` cannot swallow it; the pipeline turns it into an
:class:`~cleankit.core.errors.InputError` that names the stage, which fails that document
and lets the run go on.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import FrameType

_DEADLINE: ContextVar[float | None] = ContextVar("cleankit_document_deadline", default=None)


class OverBudget(BaseException):
    """The document's time budget is spent (caught by the pipeline, never by a stage)."""


def check_deadline() -> None:
    """Raise :class:`OverBudget` if the current document's budget is spent (no-op outside one)."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.process_time() > deadline:
        raise OverBudget


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    # A SIGPROF that arrives after the budget was closed (the timer fired as it was being
    # cancelled) finds no deadline and is ignored.
    if _DEADLINE.get() is not None:
        raise OverBudget


def _can_use_alarm() -> bool:
    """The timer is ours to use: main thread, and SIGPROF not claimed by someone else."""
    if threading.current_thread() is not threading.main_thread():
        return False
    handler = signal.getsignal(signal.SIGPROF)
    return handler in (signal.SIG_DFL, None) or handler is _on_alarm


@contextmanager
def document_deadline(seconds: float) -> Iterator[None]:
    """Run the body under a budget of ``seconds`` of CPU time (0 or less: no budget)."""
    if seconds <= 0:
        yield
        return
    token = _DEADLINE.set(time.process_time() + seconds)
    previous = None
    armed = _can_use_alarm()
    if armed:
        previous = signal.signal(signal.SIGPROF, _on_alarm)
        signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        # Nested so that an alarm landing while the timer is cancelled (its handler raises
        # OverBudget here) still leaves no deadline and no handler behind.
        try:
            if armed:
                signal.setitimer(signal.ITIMER_PROF, 0)
        finally:
            _DEADLINE.reset(token)
            if armed:
                signal.signal(signal.SIGPROF, previous if previous is not None else signal.SIG_DFL)

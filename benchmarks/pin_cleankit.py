"""Run benchmarks against one fixed version of cleankit while the working tree moves on.

``--cleankit-rev REV`` exports ``cleankit/`` as of that commit (``git archive``) into
``benchmarks/work/cleankit-<hash>/`` and puts it first on ``PYTHONPATH`` for the child
processes; the editable install's finder comes after the path finder, so the snapshot wins.
Without it the children import whatever the working tree holds at that moment.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def pinned(rev: str | None) -> tuple[dict[str, str], str]:
    """Environment for child processes, and which cleankit it runs (commit and subject)."""
    env = dict(os.environ)
    if rev is None:
        described = _git("log", "-1", "--format=%h %s", "--", "cleankit")
        dirty = len(_git("status", "--porcelain", "--", "cleankit").splitlines())
        note = f" + {dirty} uncommitted file(s)" if dirty else ""
        return env, f"working tree (last cleankit commit {described}{note})"
    short = _git("rev-parse", "--short", f"{rev}^{{commit}}")
    target = WORK / f"cleankit-{short}"
    if not (target / "cleankit" / "__init__.py").is_file():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", "--format=tar", short, "cleankit"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(target), env.get("PYTHONPATH", "")) if p)
    return env, f"snapshot of {_git('log', '-1', '--format=%h %s', short)}"

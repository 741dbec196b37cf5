from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# The start-up cache (cleankit.io.cache: checked rule packs, OpenCC tables) of the whole
# session lives in one temporary folder: the tests never write into the user's own cache,
# and every CLI subprocess finds what the first one made.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="cleankit-tests-cache-")

from cleankit import Pipeline, Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline.from_settings(Settings())


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None):
    """Run the installed command in a subprocess, as a user would."""
    import subprocess

    env = dict(os.environ, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "cleankit", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )

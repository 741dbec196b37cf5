from __future__ import annotations

import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

# The start-up cache (cleankit.io.cache: checked rule packs, OpenCC tables) of the whole
# session lives in one temporary folder: the tests never write into the user's own cache,
# and every CLI subprocess finds what the first one made.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="cleankit-tests-cache-")

from cleankit import Pipeline, Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_configure(config: pytest.Config) -> None:
    """cleankit's bytecode, written once before any test (by the controller, not by each
    xdist worker). An editable install compiles none of cleankit's modules, and where
    PYTHONDONTWRITEBYTECODE is set (this machine and its CI set it) no process writes them:
    every CLI subprocess of the suite compiled all ~95 modules again, ~0.17 s of CPU of each
    ``clean`` call (a third of one). A user's Python writes them at its first run."""
    if hasattr(config, "workerinput"):
        return
    import compileall

    compileall.compile_dir(ROOT / "cleankit", quiet=1)


# The longest test files, longest first (per-file CPU and wall times of a full run, 2026-11-28,
# at `suite5`): started first, so that xdist (``--dist loadfile``, ``--no-loadscope-reorder``)
# hands the many short files out at the end, where they fill whichever worker is free. By
# default xdist starts the files with the most tests first, which left the Ray, runner and
# fault-injection files (few tests, minutes each) to the end: a worker idle while the other
# finished one of them. The order of the tests inside a file is kept.
LONG_FILES = (
    "test_ray.py",
    "test_regex_safety.py",
    "test_faults.py",
    "test_runner.py",
    "test_cli.py",
    "test_cli_conventions.py",
    "test_regex_harness.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONG_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FILES)))  # stable: file order kept

# Property tests in CI must pass or fail by the code, not by the seed: the "ci" profile
# derives each test's examples from the test itself (derandomize) and keeps no example
# database between runs. "random" draws fresh examples on every run, and is how new failures
# are looked for by hand (README, "Development"): pytest --hypothesis-profile=random.
# A test's own @settings (max_examples, deadline) still apply under both.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("random", derandomize=False, print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")


@pytest.fixture
def pipeline() -> Pipeline:
    return Pipeline.from_settings(Settings())


@pytest.fixture(scope="module")
def samples_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """samples/ cleaned into a folder by the CLI (in this process), once per test module that
    asks for it."""
    out = tmp_path_factory.mktemp("samples-out") / "out"
    result = run_cli_here("clean", str(SAMPLES), "-o", str(out), "-j", "1")
    assert result.returncode == 0, result.stderr.decode()
    return out


def pids_where(field: int, value: int) -> list[int]:
    """The processes whose /proc/PID/stat field ``field`` (counted after the command's closing
    parenthesis: 1 the parent, 3 the session) is ``value``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[field]) == value:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def child_pids(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (a run's workers)."""
    return pids_where(1, parent)


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


@dataclass
class Ran:
    """What a command gave: as :class:`subprocess.CompletedProcess` names it."""

    returncode: int
    stdout: bytes
    stderr: bytes


def run_cli_here(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> Ran:
    """``cleankit ARGS`` run by ``cleankit.cli.main`` in this process, with standard streams of
    its own (bytes in, bytes out, no terminal), the environment and folder :func:`run_cli`
    gives a subprocess, and the exit code ``main`` ends with: what a subprocess gives, without
    ~0.5 s of CPU of a new interpreter's imports each time. For tests of what a command does;
    what needs a process of its own (signals, a kill, a terminal, the installed entry point,
    ``-j 2``'s forked workers, a fault armed from the environment) uses :func:`run_cli`, and so
    does what reads process-wide state that tests change: ``config --show`` lists every
    registered stage (test modules register their own), a process names a malformed provenance
    line once."""
    from cleankit.cli import main
    from cleankit.cli.common import consoles

    out, err = io.BytesIO(), io.BytesIO()
    streams = (
        io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True),
    )
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    saved_env = {name: os.environ.get(name) for name in ("COLUMNS", "NO_COLOR")}
    folder = os.getcwd()
    os.environ.update(COLUMNS="200", NO_COLOR="1")
    if cwd is not None:
        os.chdir(cwd)
    consoles.set_color("auto")  # rich consoles made afresh, on these streams
    sys.stdin, sys.stdout, sys.stderr = streams
    code: int | str | None = 0
    try:
        main(list(args))
    except SystemExit as stop:
        code = stop.code
    finally:
        for stream in streams[1:]:
            stream.flush()
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        consoles.set_color("auto")
        os.chdir(folder)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    if isinstance(code, str):  # as the interpreter does: the message on stderr, exit 1
        err.write(code.encode() + b"\n")
        code = 1
    return Ran(code or 0, out.getvalue(), err.getvalue())


# A terminal's Ctrl-C reaches a program that left SIGINT at its default. A shell starts a
# background job (`cmd &`) with SIGINT ignored, and that disposition is inherited down to the
# test's subprocess, where Python keeps it (rightly: a background job ignores Ctrl-C); so the
# command is started as from a terminal, SIGINT at its default, whatever ran the suite.
AS_FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'cleankit', *sys.argv[1:]])"
)

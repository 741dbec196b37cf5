"""The speed benchmark's process sampler sees cleankit's workers, which are its nurseries'
children (grandchildren of the command it times), not only its direct children."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import bench_speed

# The timed command forks a "nursery", which forks a "worker" holding ~80 MB for a while: the
# shape of a cleankit run's processes.
NURSERY_AND_WORKER = """
import os, time
nursery = os.fork()
if nursery == 0:
    worker = os.fork()
    if worker == 0:
        block = bytearray(80 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        time.sleep(0.6)
        os._exit(0)
    os.waitpid(worker, 0)
    os._exit(0)
os.waitpid(nursery, 0)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_sampler_reports_a_workers_memory_under_a_nursery() -> None:
    process = subprocess.Popen([sys.executable, "-c", NURSERY_AND_WORKER])
    tree = bench_speed.ProcessTree(process.pid, every=0.02)
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    sampled = tree.stop()
    assert process.returncode == 0
    assert sampled["worker_processes"] == 2  # the nursery and its worker
    assert sampled["worker_peak_rss_mb"] > 80 > sampled["peak_rss_mb"]
    assert 0 < sampled["sampler_cpu"] < 0.5  # its own cost, reported

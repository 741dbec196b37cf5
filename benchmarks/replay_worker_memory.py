"""What one cleaning worker's memory holds after N pages: replay its share of a crawl in this
process and name the memory that grew (how issue 12's worker memos were sized, branch mem10).

    python benchmarks/replay_worker_memory.py CRAWL PAGES [--trace AT ...] [--json FILE]

Cleans every other file of CRAWL, largest first (how the executor hands them to two workers),
up to PAGES, through the default pipeline, building each page's provenance line as a worker
does. Reports, at the end: resident and private memory; every memo the stages keep between
pages (entries and deep bytes, found by walking the modules' globals and the stages'
attributes); and what ``malloc_trim(0)`` gives back.
``--trace AT``: tracemalloc from the start, with a snapshot after page AT and at the end, and
the allocation sites that grew between them (slows the replay ~3x).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import build_record, dumps_lines
from cleankit.core.settings import Settings
from cleankit.run.executor import release_free_heap
from cleankit.run.procstats import memory

ATOMIC = (str, bytes, int, float, bool, type(None))


def deep_size(obj: object, seen: set[int]) -> int:
    """Bytes of ``obj`` and everything it holds not counted yet (``seen``); modules, types,
    functions and compiled models are not followed (they are the tables, not the memo)."""
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, ATOMIC):
        return size
    if isinstance(obj, dict):
        for key, value in obj.items():
            size += deep_size(key, seen) + deep_size(value, seen)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            size += deep_size(item, seen)
    return size


def memos(pipeline: Pipeline) -> dict[str, tuple[int, Callable[[], Any]]]:
    """Every container kept between pages: name -> (entries, a function measuring its bytes)."""
    found: dict[str, tuple[int, Callable[[], Any]]] = {}
    seen_ids: set[int] = set()

    def add(name: str, value: object) -> None:
        if id(value) in seen_ids:
            return
        if isinstance(value, (dict, list, set)) and not isinstance(value, type):
            seen_ids.add(id(value))
            found[name] = (len(value), lambda v=value: deep_size(v, set()))
        elif isinstance(value, functools._lru_cache_wrapper):  # type: ignore[attr-defined]
            seen_ids.add(id(value))
            info = value.cache_info()
            found[name] = (info.currsize, lambda: None)

    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("cleankit"):
            continue
        for attr, value in list(vars(module).items()):
            add(f"{module_name}.{attr}", value)
            if isinstance(value, type):
                for cattr, cvalue in list(vars(value).items()):
                    add(f"{module_name}.{attr}.{cattr}", cvalue)
    for stage in pipeline.stages:
        for attr, value in list(vars(stage).items()):
            add(f"stage {stage.name}.{attr}", value)
    from cleankit.text.plausibility import ChineseModel

    for obj in gc.get_objects():
        if isinstance(obj, ChineseModel):
            for attr, value in vars(obj).items():
                add(f"ChineseModel@{id(obj):x}.{attr}", value)
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("crawl", type=Path)
    parser.add_argument("pages", type=int)
    parser.add_argument("--trace", type=int, help="tracemalloc: compare the heap after this page with the end")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    files = sorted(args.crawl.rglob("*.txt"), key=lambda p: p.stat().st_size, reverse=True)[::2][: args.pages]
    pipeline = Pipeline.from_settings(Settings())
    fingerprint = pipeline.settings.output_fingerprint()
    if args.trace:
        tracemalloc.start(8)
    first = None
    before = memory()
    cpu = time.process_time()
    checkpoints: list[tuple[int, dict[str, float], float]] = []
    for number, path in enumerate(files, 1):
        rel = str(path.relative_to(args.crawl))
        document = pipeline.clean_bytes(path.read_bytes(), source=rel)
        dumps_lines([build_record(document, fingerprint, rel)])
        del document
        if args.trace and number == args.trace:
            gc.collect()
            first = tracemalloc.take_snapshot()
        if number % 1000 == 0 or number == len(files):
            checkpoints.append((number, memory(), round(time.process_time() - cpu, 1)))
            print(number, checkpoints[-1][1:], flush=True)
    cpu = time.process_time() - cpu
    gc.collect()
    out: dict[str, Any] = {"pages": len(files), "cpu": round(cpu, 1), "start": before, "checkpoints": checkpoints}
    if first is not None:
        last = tracemalloc.take_snapshot()
        tracemalloc.stop()
        grew = last.compare_to(first, "traceback")
        out["grew"] = []
        for stat in grew[: args.top]:
            frames = [f"{frame.filename.split('cleankit/')[-1]}:{frame.lineno}" for frame in stat.traceback]
            out["grew"].append([round(stat.size_diff / 1e6, 2), stat.count_diff, frames[:4]])
        out["traced_growth_mb"] = round(sum(s.size_diff for s in grew) / 1e6, 2)
    out["end"] = memory()
    release_free_heap()
    out["after_trim"] = memory()
    table = []
    for name, (entries, measure) in memos(pipeline).items():
        size = measure()
        if entries >= 64:
            table.append((name, entries, size))
    table.sort(key=lambda row: -(row[2] or 0))
    out["memos"] = table
    print(json.dumps(out, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(out, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

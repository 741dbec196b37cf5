"""Replay one cleaning worker's lookups in the memos its stages keep between pages and count,
for several bounds, how many an emptied-at-the-bound or least-recently-used memo would miss
(how issue 12's worker memos were sized, branch mem10).

    python benchmarks/replay_memo_bounds.py CRAWL PAGES

Cleans every other file of CRAWL, largest first (a worker's share at ``-j 2``), up to PAGES,
with every bound lifted, logging each lookup's key; then replays each log. Also prints the
distinct keys after 1,000 pages and at the end (an unbounded memo's size).
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import cleankit.stages.boilerplate as boilerplate
import cleankit.stages.mojibake.context_choice as context_choice
import cleankit.text.plausibility as plausibility
from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings

LOGS: dict[str, list[int]] = {}
AT_1000: dict[str, int] = {}


def logged(name: str, base: type[dict[Any, Any]]) -> Any:
    log = LOGS.setdefault(name, [])

    class Logged(base):  # type: ignore[misc, valid-type]
        def get(self, key: Any, default: Any = None) -> Any:
            log.append(hash(key))
            return super().get(key, default)

    return Logged()


def misses(log: list[int], size: int, lru: bool) -> int:
    memo: OrderedDict[int, None] = OrderedDict()
    missed = 0
    for key in log:
        if key in memo:
            if lru:
                memo.move_to_end(key)
            continue
        missed += 1
        if not lru and len(memo) >= size:
            memo.clear()
        memo[key] = None
        if lru and len(memo) > size:
            memo.popitem(last=False)
    return missed


def main() -> int:
    corpus, limit = Path(sys.argv[1]), int(sys.argv[2])
    huge = 1 << 40
    plausibility.LOGP_CACHE_SIZE = huge
    boilerplate.JUDGED_LINES_KEPT = huge
    context_choice.SIMPLIFIED_KEPT = huge
    pipeline = Pipeline.from_settings(Settings())
    stage = next(s for s in pipeline.stages if s.name == "boilerplate")
    stage._judged = logged("line verdicts (_judged)", boilerplate.LineMemo)
    stage._removed = logged("lines removed by a rule (_removed)", boilerplate.LineMemo)
    context_choice._SIMPLIFIED = logged("simplified forms (_SIMPLIFIED)", dict)
    for label, model in (("", plausibility.chinese_model()), (" (fine model)", plausibility.fine_model())):
        model._logp_cache = logged("logp memo" + label, dict)
        model._unigram_cache = logged("unigram memo" + label, dict)
    files = sorted(corpus.rglob("*.txt"), key=lambda p: p.stat().st_size, reverse=True)[::2][:limit]
    cpu = time.process_time()
    for number, path in enumerate(files, 1):
        pipeline.clean_bytes(path.read_bytes(), source=str(path.relative_to(corpus)))
        if number == 1000:
            AT_1000.update({name: len(set(log)) for name, log in LOGS.items()})
    print(f"{len(files)} pages, cpu {time.process_time() - cpu:.1f} s")
    for name, log in LOGS.items():
        lru = "_judged" in name or "_removed" in name
        distinct = len(set(log))
        print(f"{name}: {len(log)} lookups, {distinct} distinct ({AT_1000.get(name)} after 1,000 pages)")
        print(f"  unbounded misses {distinct} (hit rate {1 - distinct / max(1, len(log)):.4f})")
        for size in (1 << 10, 1 << 11, 1 << 12, 1 << 13, 1 << 14, 1 << 15, 1 << 16):
            if size >= distinct:
                break
            missed = misses(log, size, lru)
            print(f"  {'LRU' if lru else 'emptied at'} {size}: misses {missed} (hit rate {1 - missed / len(log):.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

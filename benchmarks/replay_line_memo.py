"""Replay the boilerplate stage's line-verdict memo lookups of one worker on a crawl and
count the hits of LRU memos of several sizes (how ``JUDGED_LINES_KEPT`` was chosen).

    python benchmarks/replay_line_memo.py CRAWL PAGES

Cleans every other file of CRAWL, largest first (how the executor hands them to two
workers), up to PAGES, in this process, logging each memo lookup; then replays the log.
"""

import sys
import time
from collections import OrderedDict
from pathlib import Path

from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings

corpus = Path(sys.argv[1])
limit = int(sys.argv[2])
pipe = Pipeline.from_settings(Settings())
stage = next(s for s in pipe.stages if s.name == "boilerplate")
log = []


class LogDict(dict):
    def get(self, key, default=None):
        log.append(hash(key))
        return super().get(key, default)


stage._judged = LogDict()
files = sorted((p for p in corpus.rglob("*.txt")), key=lambda p: p.stat().st_size, reverse=True)
# two workers: every other file (the executor feeds whichever is free; alternate is the even split)
files = files[::2][:limit]
t = time.process_time()
for p in files:
    pipe.clean_bytes(p.read_bytes(), source=str(p.relative_to(corpus)))
print("docs", len(files), "lookups", len(log), "distinct", len(set(log)), "cpu", round(time.process_time() - t, 1))


def lru(size):
    memo = OrderedDict()
    hits = 0
    for k in log:
        if k in memo:
            hits += 1
            memo.move_to_end(k)
        else:
            memo[k] = 1
            if len(memo) > size:
                memo.popitem(last=False)
    return hits


def clear(size):
    memo = set()
    hits = 0
    for k in log:
        if k in memo:
            hits += 1
        else:
            if len(memo) >= size:
                memo.clear()
            memo.add(k)
    return hits


print("unbounded", clear(10**9), "clear-at-50000", clear(50000))
for size in (512, 1024, 2048, 4096, 8192, 16384):
    print("lru", size, lru(size))
print("entries now", len(stage._judged))

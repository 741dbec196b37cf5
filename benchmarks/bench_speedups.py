"""The compiled inner loops (``cleankit._speedups``) against their Python references, on the
calls a real run makes (issue 12).

One ``cleankit clean -j 1`` run over the corpus, in this process, records the arguments of
every call to the functions the extension replaces (copies, taken before the call: the
repeats stage's anchor index grows after each call); then each recorded call is replayed
through the Python reference and through the extension, best of ``--repeats`` per side, and
the results compared (any difference is an error, exit status 1).

    nice -n 10 python benchmarks/bench_speedups.py CORPUS [--pages N] [--repeats R]

``--pages N`` cleans the first N files (sorted paths) of the corpus, copied to a temporary
folder. Without the extension built, it says so and exits 1.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Replay = Callable[[], Any]


def record(corpus: Path, pages: int | None) -> dict[str, list[tuple[Replay, Replay]]]:
    """Run the cleaner over ``corpus``; per function, (python, compiled) replays of each call."""
    from cleankit import speedups
    from cleankit.cli import main
    from cleankit.neardup import signature
    from cleankit.stages import repeats
    from cleankit.stages.mojibake import byte_shift
    from cleankit.text.plausibility import ChineseModel

    compiled = speedups.compiled
    assert compiled is not None
    calls: dict[str, list[tuple[Replay, Replay]]] = {
        "total_logp": [],
        "anchor_matches": [],
        "grow": [],
        "min_hashes": [],
    }
    total_logp = ChineseModel.total_logp

    def recording_total_logp(model: ChineseModel, text: str, previous: str | None = None) -> float:
        if text:
            score = model.logp(previous, text[0])
            calls["total_logp"].append(
                (
                    lambda: model._total_logp_after(text, score),
                    lambda: compiled.total_logp(
                        text,
                        score,
                        model._pair_logp,
                        model._unseen_logp,
                        model.bigrams,
                        model._logp,
                        model.unseen_pair_logp,
                    ),
                )
            )
        return total_logp(model, text, previous)

    segments = repeats.RepeatsStage._segments

    def recording_segments(stage: Any, view: str, anchors: Any, kept_views: Any, offsets: Any) -> Any:
        index = {anchor: list(places) for anchor, places in anchors.items()}
        kept = dict(kept_views)
        ints = list(repeats._ints(offsets))
        size = stage.anchor_chars
        calls["anchor_matches"].append(
            (
                lambda: stage._anchor_matches(view, index, kept, ints),
                lambda: compiled.anchor_matches(view, index, kept, ints, size),
            )
        )
        return segments(stage, view, anchors, kept_views, offsets)

    grow = byte_shift._Search.grow

    def recording_grow(search: Any, paths: list[Any], alternatives: list[list[int]]) -> Any:
        if search._context is not None:
            copy = list(paths)
            calls["grow"].append(
                (
                    lambda: search._grow_python(copy, alternatives),
                    lambda: compiled.grow(search._context, copy, alternatives, byte_shift.BEAM * 2, byte_shift.BEAM),
                )
            )
        return grow(search, paths, alternatives)

    min_hashes = signature._min_hashes_python

    def recording_min_hashes(hashes: Any, a: Any, b: Any, result: Any) -> Any:
        start = result.copy()
        calls["min_hashes"].append(
            (
                lambda: min_hashes(hashes, a, b, start.copy()).tolist(),
                lambda: compiled.min_hashes(hashes, a, b, out := start.copy()) or out.tolist(),
            )
        )
        return min_hashes(hashes, a, b, result)

    class Recording:
        # signature() calls the compiled loop directly: routed through the recorder instead.
        min_hashes = staticmethod(recording_min_hashes)

    ChineseModel.total_logp = recording_total_logp  # type: ignore[method-assign]
    repeats.RepeatsStage._segments = recording_segments  # type: ignore[method-assign]
    byte_shift._Search.grow = recording_grow  # type: ignore[method-assign]
    signature._compiled = Recording  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as work:
        source = corpus
        if pages is not None:
            source = Path(work) / "in"
            for path in sorted(p for p in corpus.rglob("*") if p.is_file())[:pages]:
                target = source / path.relative_to(corpus)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        try:
            main(["clean", str(source), "-o", str(Path(work) / "out"), "-q", "-j", "1"])
        except SystemExit as stop:
            if stop.code not in (0, None):
                raise
    return calls


def timed(replays: list[Replay], repeats: int) -> tuple[float, list[Any]]:
    best = float("inf")
    results: list[Any] = []
    for _ in range(repeats):
        start = time.process_time()
        results = [replay() for replay in replays]
        best = min(best, time.process_time() - start)
    return best, results


def same(name: str, python: Any, compiled: Any) -> bool:
    if name == "anchor_matches":  # Segments in Python, tuples from C
        python = [(s.start, s.end, s.kept, s.kept_start, s.kept_end) for s in python]
    return bool(python == compiled)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--pages", type=int)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from cleankit import speedups

    if speedups.compiled is None:
        print("cleankit._speedups is not built or is switched off (CLEANKIT_PURE_PYTHON)")
        return 1
    calls = record(args.corpus, args.pages)
    print("| function | calls | Python CPU s | compiled CPU s | Python / compiled |")
    print("|---|---:|---:|---:|---:|")
    status = 0
    for name, pairs in calls.items():
        # Replayed in the same order as the run made them, so the memos fill as they did.
        python_s, python_results = timed([p for p, _ in pairs], args.repeats)
        compiled_s, compiled_results = timed([c for _, c in pairs], args.repeats)
        differ = sum(not same(name, p, c) for p, c in zip(python_results, compiled_results, strict=True))
        if differ:
            status = 1
            print(f"{name}: {differ} of {len(pairs)} calls differ", file=sys.stderr)
        ratio = python_s / compiled_s if compiled_s else float("inf")
        print(f"| {name} | {len(pairs)} | {python_s:.3f} | {compiled_s:.3f} | {ratio:.1f}× |")
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Throughput of the canonical-text stages (script, punctuation, reflow) on real text.

Run by hand (not part of the tests):

    python benchmarks/bench_canonical.py [--repeat 3] [--source PATH]

Text: the pages in ``samples/`` and the State Council government work reports and CPC
congress reports of the public repository ``aldohemsn/chinese-political-corpora`` (read
from a local git mirror, default ``/work/.mirror/aldohemsn+chinese-political-corpora/repo``,
or a folder of ``.jsonl`` files with a ``content`` field). The reports are simplified; a
traditional copy is made with OpenCC ``s2tw`` to time the conversion path.

Each stage is timed on the documents as they reach it in the pipeline (script after
hygiene, punctuation after script, reflow after paragraphs), and every figure is also
given as a ratio to one plain whole-text OpenCC ``convert()`` per document measured in the
same process on the same documents: the cheapest thing a script stage could do.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from cleankit import Pipeline, Settings  # noqa: E402
from cleankit.core.document import Document  # noqa: E402
from cleankit.stages.hygiene import HygieneStage  # noqa: E402
from cleankit.stages.paragraphs import ParagraphStage  # noqa: E402
from cleankit.stages.punctuation import PunctuationStage  # noqa: E402
from cleankit.stages.reflow import ReflowStage, broken_paragraph_joins  # noqa: E402
from cleankit.stages.script import ScriptStage, converter, script_mix  # noqa: E402

DEFAULT_SOURCE = Path("/work/.mirror/aldohemsn+chinese-political-corpora/repo")
CORPUS_FILES = ("government_work_reports.jsonl", "cpc_congress_reports.jsonl")


def load_reports(source: Path) -> list[str]:
    texts = []
    for name in CORPUS_FILES:
        if (source / "HEAD").exists() or (source / ".git").exists():
            data = subprocess.run(
                ["git", "-C", str(source), "show", f"HEAD:{name}"], capture_output=True, text=True, check=True
            ).stdout
        else:
            data = (source / name).read_text(encoding="utf-8")
        texts += [json.loads(line)["content"] for line in data.splitlines() if line.strip()]
    return texts


def load_samples() -> list[str]:
    return [p.read_bytes().decode("utf-8", errors="replace") for p in sorted((REPO / "samples").glob("*.txt"))]


def after(stages: list, texts: list[str]) -> list[str]:
    """The texts as they leave ``stages``."""
    out = []
    for text in texts:
        document = Document.from_text(text)
        for stage in stages:
            stage.run(document)
        out.append(document.text)
    return out


def timed_rows(rows: list[tuple[Callable[[str], object], list[str]]], repeat: int) -> list[float]:
    """Best time of each row (a function and its texts) over ``repeat`` rounds. The rows are
    timed in turn within each round, so that load from other processes on a shared machine
    falls on all of them alike; the fastest round of a row is the least disturbed one."""
    for function, texts in rows:  # warm-up round, untimed: it also pays for growing the heap
        for text in texts:
            function(text)
    best = [float("inf")] * len(rows)
    for _ in range(repeat):
        for index, (function, texts) in enumerate(rows):
            start = time.perf_counter()
            for text in texts:
                function(text)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def run_stage(stage) -> Callable[[str], object]:
    # A bare Document (no sha256 of the input): only the stage's own work is timed.
    return lambda text: stage.run(Document(id="bench", source="-", text=text))


def megabytes(texts: list[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()

    hygiene, paragraphs = HygieneStage(), ParagraphStage()
    pipeline = Pipeline.from_settings(Settings())
    t2s = converter("t2s.json")
    simplified = load_reports(args.source) + load_samples()
    traditional = [converter("s2tw.json").convert(text) for text in simplified]
    script_mix("warm up the character tables")

    for name, raw, baseline_config in [
        ("simplified (reports + samples)", simplified, "t2s.json"),
        ("traditional (reports via s2tw + samples)", traditional, "t2s.json"),
    ]:
        clean = after([hygiene], raw)
        scripted = after([hygiene, ScriptStage()], raw)
        paragraphed = after([hygiene, ScriptStage(), PunctuationStage(), paragraphs], raw)
        plain = converter(baseline_config)
        rows: list[tuple[str, Callable[[str], object]]] = [
            (f"baseline: plain `OpenCC('{baseline_config}').convert(text)`", plain.convert),
            ("`script` stage (to simplified: glosses, mix, conversion, edits)", run_stage(ScriptStage())),
            ("`script` stage without the skip check (always converts)", run_stage(_AlwaysConvert())),
            ("  of which: script mix count (one pass)", script_mix),
            ("`script` stage, to traditional (s2t)", run_stage(ScriptStage(to="traditional"))),
            ("`punctuation` stage", run_stage(PunctuationStage())),
            ("`punctuation` stage with nfkc", run_stage(PunctuationStage(nfkc=True))),
            ("`reflow` stage", run_stage(ReflowStage())),
            ("whole default pipeline (`clean_text`, restore check included)", pipeline.clean_text),
        ]
        inputs = {
            "`script`": clean,
            "  of": clean,
            "`punctuation`": scripted,
            "`reflow`": paragraphed,
            "whole": raw,
        }
        size = megabytes(raw)
        print(f"\n### {name}: {len(raw)} documents, {size:.1f} MB\n")
        print("| what | MB/s | time vs plain OpenCC convert |")
        print("|---|---:|---:|")
        measured = [
            (function, next((v for k, v in inputs.items() if label.startswith(k)), clean)) for label, function in rows
        ]
        seconds = timed_rows(measured, args.repeat)
        for (label, _), (_, texts), spent in zip(rows, measured, seconds, strict=True):
            print(f"| {label} | {megabytes(texts) / spent:.1f} | {spent / seconds[0]:.2f}× |")

    # Does skipping documents without a traditional-only character lose conversions?
    for name, raw in [("simplified", simplified), ("traditional", traditional)]:
        texts = after([hygiene], raw)
        changed = [text for text in texts if t2s.convert(text) != text]
        lost = sum(script_mix(text)["traditional"] == 0 for text in changed)
        print(f"\n{name}: t2s changes {len(changed)} of {len(texts)} documents; the skip check misses {lost}")
        edits = [edit for text in texts for edit in run_stage(ScriptStage())(text).edits]
        log = sum(len(json.dumps(edit.to_json(), ensure_ascii=False).encode()) for edit in edits)
        print(f"{name}: script edits {len(edits)}, {log / megabytes(texts) / 1e6:.2f} bytes of edit log per input byte")

    reflow_quality(load_reports(args.source))


def reflow_quality(reports: list[str], seed: int = 1) -> None:
    """Cut 30 % of the reports' paragraphs longer than 60 characters at a random point (not
    next to the ends) and count how many cuts reflow joins, and what else it joins."""
    rng = random.Random(seed)
    cuts = found = other = 0
    for report in reports:
        pieces: list[str] = []
        truth: set[int] = set()
        for paragraph in (line.strip() for line in report.split("\n")):
            if not paragraph:
                continue
            if len(paragraph) > 60 and rng.random() < 0.3:
                at = rng.randrange(10, len(paragraph) - 5)
                pieces.append(paragraph[:at])
                truth.add(len(pieces) - 1)
                pieces.append(paragraph[at:])
            else:
                pieces.append(paragraph)
        joins = set(broken_paragraph_joins(pieces))
        cuts += len(truth)
        found += len(truth & joins)
        other += len(joins - truth)
    print(f"\nreflow on synthetic cuts: {found} of {cuts} cuts joined ({found / cuts:.1%}); {other} other joins")


class _AlwaysConvert(ScriptStage):
    """The script stage with the no-traditional-character shortcut switched off."""

    def _may_change(self, mix: dict) -> bool:
        return True


if __name__ == "__main__":
    main()

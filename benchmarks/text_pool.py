"""Real paragraphs for the speed crawl, each handed out at most once.

``make_corpus.py`` cuts every page from one small pool (~2.9 M characters of report text), so
a crawl that needs more text than the pool holds repeats it, and pages that share long
passages by chance become near-duplicates nobody planted: ``bench_speed.py``'s 20,000-page
crawl had 62 % near-duplicate pages where it planted 30 % reprints (benchmarks/README.md,
Speed, "the 10× row explained"). This stream hands out paragraphs without replacement, so a
page that is not a planted reprint shares no paragraph with any other page:

* the text is a seeded shuffle of *chunks*, read lazily (a small crawl reads a few): each
  government work report and CPC congress report of ``aldohemsn/chinese-political-corpora``
  (simplified, as ``make_corpus.py`` reads it), each page of ``samples/``, and each issue file
  of the Executive Yuan Gazette in ``kong0107/ey-gazette-data`` (traditional, Taiwan; every
  ROC year but 104, which ``bench_quality.py`` holds out; field ``HTMLContent``, tags
  stripped), read from local git mirrors at a pinned commit; no text is committed;
* inside a chunk the paragraphs keep their order (a page reads like its source);
* a paragraph is used once: its key is its simplified form reduced to Han characters, so the
  gazette's form lines that differ only in dates, numbers or punctuation are one paragraph;
  paragraphs with fewer than ``MIN_HAN`` Han characters (list markers, dates, numbers) are
  dropped;
* each paragraph is kept in both scripts: report text is simplified and goes to traditional
  pages through OpenCC ``s2tw`` (as ``make_corpus.py``); gazette text is traditional and goes
  to simplified pages through ``tw2s``. A paragraph the page's codec cannot encode is skipped
  (and used up).
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import bench_quality
import make_corpus

GAZETTE_MIRROR = bench_quality.DEFAULT_GAZETTE
GAZETTE_REPO = bench_quality.GAZETTE_REPO
GAZETTE_COMMIT = bench_quality.GAZETTE_COMMIT
GAZETTE_HELD_OUT = ("104/",)  # bench_quality.py's gazette text
MIN_HAN = 8
HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class Chunk:
    kind: str  # "reports" | "sample" | "gazette"
    ref: str  # document name, sample path, or gazette path


@dataclass
class Paragraph:
    simplified: str
    traditional: str


class GitBlobs:
    """Blobs of one commit through a single ``git cat-file --batch`` process."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.commit = commit
        self.process = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def read(self, path: str) -> bytes | None:
        """The blob at ``path`` or None when the mirror lacks it (large blobs may be absent)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(f"{self.commit}:{path}\n".encode())
        self.process.stdin.flush()
        header = self.process.stdout.readline().decode().split()
        if len(header) != 3 or header[1] != "blob":
            return None
        data = self.process.stdout.read(int(header[2]))
        self.process.stdout.read(1)  # the newline after the blob
        return data

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


class ParagraphStream:
    """Paragraphs of real government text in a seeded order, each returned once."""

    def __init__(
        self,
        seed: int,
        reports: Path | None = make_corpus.DEFAULT_SOURCE,
        gazette: Path | None = GAZETTE_MIRROR,
        samples: Path | None = make_corpus.DEFAULT_SAMPLES,
        reuse: bool = False,
    ) -> None:
        """``reuse``: when every paragraph has been used, start again from the first (the
        paragraphs then repeat, so the crawl's near-duplicate share is no longer the planted one:
        for a smoke run on a machine without the mirrors, which only checks that things work)."""
        import opencc

        self.to_traditional = opencc.OpenCC("s2tw.json")
        self.to_simplified = opencc.OpenCC("tw2s.json")
        self.t2s = opencc.OpenCC("t2s.json")
        self.report_texts: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        chunks: list[Chunk] = []
        if reports is not None and reports.exists():
            for name, text in make_corpus._source_texts(reports):
                self.report_texts[name] = text
                chunks.append(Chunk("reports", name))
            self.sources["reports"] = f"{make_corpus.SOURCE_REPO} ({reports})"
        if samples is not None and samples.is_dir():
            chunks += [Chunk("sample", str(path)) for path in sorted(samples.glob("*.txt"))]
            self.sources["samples"] = str(samples)
        self.blobs: GitBlobs | None = None
        if gazette is not None and make_corpus._is_git_dir(gazette):
            listed = subprocess.run(
                ["git", "--git-dir", str(gazette), "ls-tree", "-r", "-z", "--name-only", GAZETTE_COMMIT],
                capture_output=True,
                check=True,
            ).stdout.decode("utf-8")
            paths = sorted(p for p in listed.split("\0") if p.endswith(".xml") and not p.startswith(GAZETTE_HELD_OUT))
            chunks += [Chunk("gazette", path) for path in paths]
            self.blobs = GitBlobs(gazette, GAZETTE_COMMIT)
            self.sources["gazette"] = (
                f"{GAZETTE_REPO}@{GAZETTE_COMMIT[:8]} ({gazette}), */*.xml except {', '.join(GAZETTE_HELD_OUT)}"
            )
        if not chunks:
            raise SystemExit("text_pool: no text source found (reports mirror, gazette mirror or samples)")
        random.Random(f"text-pool:{seed}").shuffle(chunks)
        self.chunks = chunks
        self.seen: set[str] = set()
        self.chunks_read = 0
        self.chars_used = 0
        self.paragraphs_used = 0
        self.duplicates_skipped = 0
        self.reuse = reuse
        self.passes = 1
        self._iterator = self._paragraphs()

    # ------------------------------------------------------------------ reading

    def _chunk_docs(self, chunk: Chunk) -> tuple[str, list[list[str]]]:
        """(native script, documents as lists of paragraphs) of one chunk."""
        if chunk.kind == "reports":
            text = self.report_texts[chunk.ref]
            return "simplified", [make_corpus._paragraphs(text)] if _mostly_han(text) else []
        if chunk.kind == "sample":
            text = Path(chunk.ref).read_text(encoding="utf-8", errors="replace")
            if not _mostly_han(text):
                return "simplified", []
            paragraphs = make_corpus._paragraphs(text)
            head = "".join(paragraphs)[:5000]
            changed = sum(a != b for a, b in zip(head, self.t2s.convert(head), strict=False))
            return ("traditional" if changed > 0.02 * len(head) else "simplified"), [paragraphs]
        assert self.blobs is not None
        raw = self.blobs.read(chunk.ref)
        if raw is None:
            return "traditional", []
        docs = []
        for record in bench_quality._RECORD.findall(raw.decode("utf-8", errors="replace")):
            content = bench_quality._HTMLCONTENT.search(record)
            if content:
                docs.append([line for line in bench_quality._html_lines(content.group(1)) if line])
        return "traditional", docs

    def _paragraphs(self) -> Iterator[Paragraph]:
        while True:
            used = self.paragraphs_used
            yield from self._one_pass()
            if not self.reuse or self.paragraphs_used == used:
                return
            self.passes += 1
            self.seen.clear()

    def _one_pass(self) -> Iterator[Paragraph]:
        for chunk in self.chunks:
            script, docs = self._chunk_docs(chunk)
            self.chunks_read += 1
            for doc in docs:
                doc = [p for p in doc if len(HAN.findall(p)) >= MIN_HAN]
                if not doc:
                    continue
                # One OpenCC call per document (newlines survive the conversion).
                joined = "\n".join(doc)
                if script == "simplified":
                    simplified, traditional = doc, self.to_traditional.convert(joined).split("\n")
                else:
                    simplified, traditional = self.to_simplified.convert(joined).split("\n"), doc
                if len(simplified) != len(doc) or len(traditional) != len(doc):
                    continue  # a conversion changed the line count (not seen; kept safe)
                for simple, trad in zip(simplified, traditional, strict=True):
                    key = "".join(HAN.findall(simple))
                    if key in self.seen:
                        self.duplicates_skipped += 1
                        continue
                    self.seen.add(key)
                    yield Paragraph(simple, trad)

    # ------------------------------------------------------------------ drawing

    def take(self, variant: str, codec: str, chars: int) -> list[str]:
        """The next paragraphs of the stream in ``variant``'s script, about ``chars`` characters
        (the last one cut to fit; its rest is not used again); paragraphs ``codec`` cannot
        encode are skipped and used up."""
        out: list[str] = []
        have = 0
        while have < chars:
            paragraph = next(self._iterator, None)
            if paragraph is None:
                raise SystemExit(
                    f"text_pool: the text sources ran out after {self.chars_used:,} characters "
                    f"({self.chunks_read} chunks); use a smaller crawl or add a source"
                )
            text = paragraph.simplified if variant == "simplified" else paragraph.traditional
            self.paragraphs_used += 1
            if not make_corpus._encodes(text, codec):
                continue
            if have + len(text) > chars:
                text = text[: max(1, chars - have)]
            out.append(text)
            have += len(text)
        self.chars_used += have
        return out

    def stats(self) -> dict[str, object]:
        return {
            "sources": self.sources,
            "chunks": len(self.chunks),
            "chunks_read": self.chunks_read,
            "paragraphs_used": self.paragraphs_used,
            "repeated_paragraphs_skipped": self.duplicates_skipped,
            "chars_drawn": self.chars_used,
            "passes": self.passes,
        }

    def close(self) -> None:
        if self.blobs is not None:
            self.blobs.close()


def _mostly_han(text: str) -> bool:
    """make_corpus.py's test for a usable document (not an English translation or markup)."""
    cjk = len(make_corpus.CJK.findall(text))
    return not (cjk < 0.3 * max(1, len(text)) or cjk < 20)

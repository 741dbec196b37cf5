"""Build a synthetic crawl of real Chinese government text for cleankit's benchmarks.

The text is real: paragraphs of the State Council government work reports and CPC
congress reports (the public repository ``aldohemsn/chinese-political-corpora``, read
from a local git mirror or a folder of ``.jsonl``/``.txt`` files) plus the crawled pages
in ``samples/``. Files are cut from runs of consecutive paragraphs, given typical web
debris (CRLF, no-break and ideographic spaces, indentation runs, blank-line runs,
trailing spaces) and written in a mix of encodings: UTF-8, UTF-8 with BOM, GBK,
GB18030, Big5 (traditional text only) and UTF-16 with BOM. Traditional text is the
simplified text through OpenCC ``s2tw`` (Taiwan forms such as 為/著/眾, which Big5 can
encode; plain ``s2t`` gives 爲/着/衆, outside Big5) plus the traditional sample pages.

Everything is seeded: the same source, seed and sizes give the same bytes. A manifest
(``.manifest.json``, hidden so cleankit skips it) records each file's true encoding; an
existing corpus with the same parameters is reused.

    python benchmarks/make_corpus.py --small          # ~20 MB, 1,000 files
    python benchmarks/make_corpus.py                  # ~200 MB, 5,000 files
"""

from __future__ import annotations

import argparse
import codecs
import json
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_SOURCE = Path("/work/.mirror/aldohemsn+chinese-political-corpora/repo")
SOURCE_REPO = "aldohemsn/chinese-political-corpora"
DEFAULT_SAMPLES = REPO / "samples"
DATA = HERE / "data"
MANIFEST = ".manifest.json"
FORMAT_VERSION = 3

PRESETS: dict[str, tuple[int, float]] = {"small": (1000, 20.0), "full": (5000, 200.0)}
MIN_BYTES = 100
MAX_BYTES = 100_000

# (name written to the manifest, Python codec, share of files, text variant)
ENCODINGS: list[tuple[str, str, float, str]] = [
    ("utf-8", "utf-8", 0.40, "mixed"),
    ("utf-8-sig", "utf-8-sig", 0.10, "mixed"),
    ("gbk", "gbk", 0.20, "simplified"),
    ("gb18030", "gb18030", 0.10, "simplified"),
    ("big5", "big5", 0.12, "traditional"),
    ("utf-16", "utf-16", 0.08, "mixed"),
]
BYTES_PER_CHAR = {"utf-8": 2.9, "utf-8-sig": 2.9, "gbk": 1.95, "gb18030": 1.95, "big5": 1.95, "utf-16": 2.0}
# Characters that encode in every codec above (NBSP does not encode in GBK or Big5).
NBSP_OK = {"utf-8", "utf-8-sig", "gb18030", "utf-16"}
TRADITIONAL_SHARE = 0.15  # of the files whose encoding takes either variant

CJK = re.compile("[\u4e00-\u9fff]")


@dataclass
class Pools:
    """Real documents as lists of paragraphs, by script, plus per-codec encodable subsets."""

    simplified: list[list[str]] = field(default_factory=list)
    traditional: list[list[str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    encodable: dict[tuple[str, str], list[list[str]]] = field(default_factory=dict)

    def chars(self) -> tuple[int, int]:
        return (sum(len(p) for d in self.simplified for p in d), sum(len(p) for d in self.traditional for p in d))

    def for_codec(self, variant: str, codec: str) -> list[list[str]]:
        """Documents of ``variant`` reduced to the paragraphs ``codec`` encodes strictly."""
        key = (variant, codec)
        if key not in self.encodable:
            docs = self.simplified if variant == "simplified" else self.traditional
            kept = []
            for doc in docs:
                paragraphs = [p for p in doc if _encodes(p, codec)]
                if paragraphs:
                    kept.append(paragraphs)
            self.encodable[key] = kept
        return self.encodable[key]


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _source_texts(source: Path) -> list[tuple[str, str]]:
    """(name, text) of each document under ``source``: a git mirror or a plain folder."""
    blobs: list[tuple[str, bytes]] = []
    if _is_git_dir(source):
        git = ["git", "--git-dir", str(source)]
        names = subprocess.run([*git, "ls-tree", "-r", "--name-only", "HEAD"], capture_output=True, check=True)
        for name in names.stdout.decode().splitlines():
            if name.endswith((".jsonl", ".txt")):
                blob = subprocess.run([*git, "show", f"HEAD:{name}"], capture_output=True, check=True).stdout
                blobs.append((name, blob))
    else:
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in (".jsonl", ".txt"):
                blobs.append((str(path.relative_to(source)), path.read_bytes()))
    texts: list[tuple[str, str]] = []
    for name, blob in blobs:
        content = blob.decode("utf-8", errors="replace")
        if not name.endswith(".jsonl"):
            texts.append((name, content))
            continue
        for number, line in enumerate(content.splitlines(), start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            text = (record.get("content") or record.get("text")) if isinstance(record, dict) else None
            if isinstance(text, str):
                texts.append((f"{name}#{number}", text))
    return texts


def _paragraphs(text: str) -> list[str]:
    lines = (line.strip() for line in text.replace("\r\n", "\n").split("\n"))
    return [line for line in lines if line]


def load_pools(source: Path | None, samples: Path | None) -> Pools:
    """Read the real text; the traditional pool is ``s2tw`` of the simplified one plus traditional pages."""
    import opencc

    texts: list[tuple[str, str]] = []
    pools = Pools()
    if source is not None and source.exists():
        texts += _source_texts(source)
        pools.sources.append(str(source))
    elif source is not None:
        print(f"make_corpus: source {source} not found; using samples only", file=sys.stderr)
    if samples is not None and samples.is_dir():
        for path in sorted(samples.glob("*.txt")):
            texts.append((path.name, path.read_text(encoding="utf-8", errors="replace")))
        pools.sources.append(str(samples))
    t2s = opencc.OpenCC("t2s.json")
    s2t = opencc.OpenCC("s2tw.json")
    for _name, text in texts:
        cjk = len(CJK.findall(text))
        if cjk < 0.3 * max(1, len(text)) or cjk < 20:
            continue  # English translations, markup-only pages
        paragraphs = _paragraphs(text)
        if not paragraphs:
            continue
        head = "".join(paragraphs)[:5000]
        changed = sum(a != b for a, b in zip(head, t2s.convert(head), strict=False))
        if changed > 0.02 * len(head):
            pools.traditional.append(paragraphs)
        else:
            pools.simplified.append(paragraphs)
            pools.traditional.append(_paragraphs(s2t.convert("\n".join(paragraphs))))
    if not pools.simplified:
        raise SystemExit("make_corpus: no usable text found (check --source and --samples)")
    return pools


def _target_sizes(rng: random.Random, files: int, total: int) -> list[int]:
    """File sizes in [MIN_BYTES, MAX_BYTES] whose mean is ``total / files``.

    ``MIN + (MAX - MIN) * u**k`` with ``u`` uniform has mean ``MIN + (MAX - MIN) / (k + 1)``;
    ``k`` is solved for the wanted mean, so small presets get more tiny files.
    """
    mean = total / files
    if not MIN_BYTES < mean < MAX_BYTES:
        raise SystemExit(f"make_corpus: mean file size {mean:.0f} B must lie in ({MIN_BYTES}, {MAX_BYTES})")
    k = (MAX_BYTES - MIN_BYTES) / (mean - MIN_BYTES) - 1
    return [int(MIN_BYTES + (MAX_BYTES - MIN_BYTES) * rng.random() ** k) for _ in range(files)]


def _cut(rng: random.Random, docs: list[list[str]], chars: int) -> list[str]:
    """Consecutive real paragraphs from a random place, continuing in another document, cut to ``chars``."""
    doc = rng.choice(docs)
    index = rng.randrange(len(doc))
    out: list[str] = []
    have = 0
    while have < chars:
        if index >= len(doc):
            doc, index = rng.choice(docs), 0
        paragraph = doc[index]
        index += 1
        if have + len(paragraph) > chars:
            paragraph = paragraph[: max(1, chars - have)]
        out.append(paragraph)
        have += len(paragraph)
    return out


def _debris(rng: random.Random, paragraphs: list[str], encoding: str) -> str:
    """Join paragraphs the way scraped pages come: indentation, blank-line runs, odd spaces, CRLF."""
    nbsp = encoding in NBSP_OK
    indents = ["", "\u3000\u3000", "    ", "\t", "  "] + (["\u00a0\u00a0", "\u00a0\u00a0\u00a0\u00a0"] if nbsp else [])
    indent = rng.choice(indents)
    ragged = rng.random() < 0.3  # indentation differs from line to line
    trailing = rng.random() < 0.3
    spaced = rng.random() < 0.2  # spaces (or NBSP) pasted in around numbers and Latin
    parts: list[str] = []
    if rng.random() < 0.3:
        parts.append("\n" * rng.randint(1, 4))
    for paragraph in paragraphs:
        if spaced:
            space = "\u00a0" if nbsp and rng.random() < 0.5 else " "
            paragraph = re.sub(r"(?<=[^\x00-\x7f])([0-9A-Za-z.%]+)(?=[^\x00-\x7f])", rf"{space}\1{space}", paragraph)
        lead = rng.choice(indents) if ragged else indent
        tail = rng.choice(["", " ", "  ", "\t", "\u3000"]) if trailing else ""
        parts.append(lead + paragraph + tail)
        gap = rng.random()
        parts.append("\n" if gap < 0.5 else "\n\n" if gap < 0.85 else "\n" + " " * rng.randint(0, 3) + "\n\n")
    text = "".join(parts)
    if rng.random() < 0.3:
        text = text.replace("\n", "\r\n")
    return text


def _pick_encoding(rng: random.Random) -> tuple[str, str, str]:
    roll = rng.random()
    choice = ENCODINGS[-1]
    for entry in ENCODINGS:
        roll -= entry[2]
        if roll < 0:
            choice = entry
            break
    name, codec, _share, variant = choice
    if variant == "mixed":
        variant = "traditional" if rng.random() < TRADITIONAL_SHARE else "simplified"
    return name, codec, variant


def build_corpus(
    out: Path,
    files: int,
    total_mb: float,
    seed: int = 20240601,
    source: Path | None = DEFAULT_SOURCE,
    samples: Path | None = DEFAULT_SAMPLES,
    rebuild: bool = False,
) -> dict:
    """Write the corpus into ``out`` (reused when its manifest matches) and return the manifest."""
    params = {
        "format": FORMAT_VERSION,
        "files": files,
        "total_mb": total_mb,
        "seed": seed,
        "source": str(source) if source and source.exists() else None,
        "samples": str(samples) if samples and samples.is_dir() else None,
    }
    manifest_path = out / MANIFEST
    if not rebuild and manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("params") == params:
            return manifest
    started = time.perf_counter()
    pools = load_pools(source, samples)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    sizes = _target_sizes(rng, files, int(total_mb * 1_000_000))
    entries = []
    counts: dict[str, int] = {}
    for number, size in enumerate(sizes):
        name, codec, variant = _pick_encoding(rng)
        docs = pools.for_codec(variant, codec)
        chars = max(8, int(size / BYTES_PER_CHAR[name]))
        text = _debris(rng, _cut(rng, docs, chars), name)
        data = text.encode(codec)
        rel = f"site{number % 50:02d}/{number:05d}.txt"
        path = out / rel
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        entries.append({"file": rel, "encoding": name, "variant": variant, "bytes": len(data)})
        counts[name] = counts.get(name, 0) + 1
    simplified, traditional = pools.chars()
    manifest = {
        "params": params,
        "source_repository": SOURCE_REPO if params["source"] else None,
        "source_chars": {"simplified": simplified, "traditional": traditional},
        "files": len(entries),
        "bytes": sum(e["bytes"] for e in entries),
        "encodings": counts,
        "seconds": round(time.perf_counter() - started, 1),
        "entries": entries,
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return manifest


def true_text(raw: bytes, encoding: str) -> str:
    """The text a file of the corpus holds (BOM removed)."""
    return raw.decode(encoding)


def bom_codec(name: str) -> str:
    """Codec name to decode a file whose detector reported ``name`` together with a BOM."""
    return {"utf-8": "utf-8-sig", "utf_8": "utf-8-sig"}.get(name, name)


def strip_bom(raw: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if raw.startswith(bom):
            return raw[len(bom) :]
    return raw


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="corpus folder (default: benchmarks/data/<preset>)")
    parser.add_argument("--small", action="store_true", help="quick preset: 1,000 files, ~20 MB")
    parser.add_argument("--files", type=int, help="number of files (default 5,000; 1,000 with --small)")
    parser.add_argument("--total-mb", type=float, help="total size in MB (default 200; 20 with --small)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="git mirror or folder of .jsonl/.txt")
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES, help="folder of real crawled .txt pages")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if an identical corpus exists")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    preset = "small" if args.small else "full"
    files, total_mb = PRESETS[preset]
    files = args.files or files
    total_mb = args.total_mb or total_mb
    out = args.out or DATA / preset
    manifest = build_corpus(out, files, total_mb, args.seed, args.source, args.samples, args.rebuild)
    print(
        f"{out}: {manifest['files']} files, {manifest['bytes'] / 1e6:.1f} MB, "
        f"encodings {manifest['encodings']}, built in {manifest['seconds']} s"
    )


if __name__ == "__main__":
    main()

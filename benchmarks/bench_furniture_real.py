"""Furniture on really scraped pages (issue 13): hand-labelled lines of real report pages.

``bench_quality.py --suite furniture`` plants furniture into real paragraphs; this benchmark
measures the pages as they were scraped: the 31 provincial government work reports of 2026 in
``johncodes404/china-provincial-gov-reports-2026`` (``output/2026_raw_text/*.csv``, field
``full_text``, commit ``ad4c815c``), each with the site furniture its crawler kept. Which lines
are furniture was decided by hand, page by page, and is stored in
``benchmarks/labels/real_furniture.json`` as line numbers (of ``full_text`` split on LF,
CRLF first made LF) with a hash of the labelled lines, so no text of the source is committed
and a changed source is noticed. The labels also give each page's labelled metadata as the
page shows it (``来源：`` → ``source``, ``时间：`` → ``publish_time``, ``责任编辑：``/``编辑：`` →
``editor``).

Splits are those of ``bench_quality.py`` (same salt, same forced-TUNE rule). The pages of a
split are cleaned in one ``cleankit clean --jsonl`` run whose records carry the page's
``source_url`` as ``url``, so site learning groups them by host (19 of the 31 pages come from
one host); a second run with ``site_fields = []`` shows what the rules alone do.

Measured per split:

* furniture lines removed: a labelled line is *left* when its key (NFKC, no whitespace,
  ``t2s``) occurs in the output more often than the page's other lines account for (for keys
  of 6 characters or more, as a substring: a line glued to a paragraph is still left);
* body paragraphs removed: lines of ≥ 40 characters, ≥ 60 % Han, ending a sentence (the rule
  of ``bench_quality.py``) whose key is nowhere in the output; kept exactly: the line is an
  output line;
* metadata: every labelled field equal to ``metadata.page`` (``editor`` may also be in
  ``authors``).

    python benchmarks/bench_furniture_real.py --split tune
    python benchmarks/bench_furniture_real.py --split heldout --json out.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import opencc

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_quality as bq  # the source, the split rule and the comparison key are shared

LABELS = Path(__file__).resolve().parent / "labels" / "real_furniture.json"


def load_pages(mirror: Path, commit: str) -> dict[str, dict]:
    """Every report page by the id ``bench_quality.py`` gives it: text, url, province, split."""
    docs, raw = bq.load_reports(mirror, commit)
    split = {doc.id: doc.split for doc in docs}
    pages: dict[str, dict] = {}
    for path, _ in bq._git_ls(mirror, commit, bq.REPORTS_DIR):
        if not path.endswith("政府工作报告.csv"):
            continue
        for row in csv.DictReader(io.StringIO(bq._git_show(mirror, commit, path).decode("utf-8-sig"))):
            text = row["full_text"].replace("\r\n", "\n")
            doc_id = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
            assert raw[doc_id] == text
            pages[doc_id] = {
                "text": text,
                "url": row["source_url"],
                "province": row["province"],
                "split": split[doc_id],
            }
    return pages


def expand(ranges: list[list[int]]) -> list[int]:
    return [i for start, end in ranges for i in range(start, end + 1)]


def labelled_hash(lines: list[str], numbers: list[int]) -> str:
    return hashlib.sha1("\n".join(lines[i] for i in numbers).encode("utf-8")).hexdigest()[:12]


def clean_pages(
    work: Path, name: str, pages: list[tuple[str, dict]], exe: str, config: str | None
) -> tuple[list[str], list[dict]]:
    """One ``cleankit clean --jsonl`` run over the pages (records carry ``url``)."""
    run_dir = work / name
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    src = run_dir / "pages.jsonl"
    with src.open("w", encoding="utf-8") as handle:
        for n, (_, page) in enumerate(pages):
            handle.write(json.dumps({"n": n, "url": page["url"], "text": page["text"]}, ensure_ascii=False) + "\n")
    args = [exe, "clean", str(src), "-o", str(run_dir / "out"), "--jsonl", "-q"]
    if config is not None:
        (run_dir / "cleankit.toml").write_text(config, encoding="utf-8")
        args += ["--config", str(run_dir / "cleankit.toml")]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"cleankit clean failed ({proc.returncode}): {proc.stderr[-2000:]}")
    texts = [""] * len(pages)
    for line in (run_dir / "out" / "pages.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        texts[obj["n"]] = obj["text"]
    records: list[dict] = [{} for _ in pages]
    for line in (run_dir / "out" / "provenance.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        records[int(record["source"].rsplit("#", 1)[1]) - 1] = record
    return texts, records


def measure(pages: list[tuple[str, dict]], labels: dict, texts: list[str], records: list[dict]) -> dict:
    t2s = opencc.OpenCC("t2s.json")
    totals: Counter = Counter()
    fields: dict[str, Counter] = {}
    left_lines: list[str] = []
    per_page = []
    for (doc_id, page), clean, record in zip(pages, texts, records, strict=True):
        label = labels[doc_id]
        lines = page["text"].split("\n")
        furniture = set(expand(label["furniture"]))
        unsure = set(expand(label.get("unsure", [])))
        out_keys = [bq.norm_key(x, t2s) for x in clean.split("\n") if x.strip()]
        out_whole = "\n".join(out_keys)
        out_count = Counter(out_keys)
        content = [bq.norm_key(x, t2s) for i, x in enumerate(lines) if x.strip() and i not in furniture]
        content_whole = "\n".join(content)
        content_count = Counter(content)
        planted: Counter = Counter()
        left_here = 0
        for i in sorted(furniture):
            key = bq.norm_key(lines[i], t2s)
            if not key:
                continue
            planted[key] += 1
            totals["furniture"] += 1
            if len(key) >= 6:
                found = out_whole.count(key) - content_whole.count(key)
            else:
                found = out_count[key] - content_count[key]
            if found >= planted[key]:
                left_here += 1
                left_lines.append(f"{page['province']}:{i}: {lines[i].strip()[:40]}")
        totals["left"] += left_here
        for i, line in enumerate(lines):
            para = re.sub(r"\s+", " ", line).strip()
            if i in furniture or i in unsure or not bq._is_body(para):
                continue
            totals["body"] += 1
            totals["body_removed"] += bq.norm_key(para, t2s) not in out_whole
            totals["body_exact"] += para in clean.split("\n")
        meta = (record.get("metadata") or {}).get("page", {})
        page_ok = True
        for name, want in label["metadata"].items():
            got = meta.get(name)
            ok = got == want or (name == "editor" and want in (meta.get("authors") or []))
            counter = fields.setdefault(name, Counter())
            counter["n"] += 1
            counter["ok"] += ok
            page_ok = page_ok and ok
        if label["metadata"]:
            totals["meta_pages"] += 1
            totals["meta_pages_ok"] += page_ok
        per_page.append({"id": doc_id, "province": page["province"], "furniture": len(furniture), "left": left_here})
    return {
        "totals": dict(totals),
        "fields": {k: dict(v) for k, v in fields.items()},
        "left": left_lines,
        "pages": per_page,
    }


def report(name: str, r: dict) -> None:
    t = r["totals"]
    print(
        f"  {name}: furniture removed {bq.pct(t['furniture'] - t['left'], t['furniture'])} "
        f"({t['furniture'] - t['left']} of {t['furniture']}); body paragraphs removed "
        f"{bq.pct(t['body_removed'], t['body'])} ({t['body_removed']} of {t['body']}), kept exactly "
        f"{bq.pct(t['body_exact'], t['body'])}; labelled pages with every field right "
        f"{bq.pct(t.get('meta_pages_ok', 0), t.get('meta_pages', 0))} ({t.get('meta_pages', 0)} pages: "
        + ", ".join(f"{k} {v['ok']}/{v['n']}" for k, v in sorted(r["fields"].items()))
        + ")"
    )
    for line in r["left"]:
        print(f"    left: {line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reports-mirror", type=Path, default=bq.DEFAULT_REPORTS)
    ap.add_argument("--reports-commit", default=bq.REPORTS_COMMIT)
    ap.add_argument("--split", choices=("tune", "heldout"), required=True)
    ap.add_argument("--cleankit", default=shutil.which("cleankit") or "cleankit", help="the cleankit executable")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--keep", type=Path, help="keep the scratch folder here")
    args = ap.parse_args(argv)

    data = json.loads(LABELS.read_text(encoding="utf-8"))
    if data["commit"] != args.reports_commit:
        print(f"note: labels were made at {data['commit'][:8]}, reading {args.reports_commit[:8]}", file=sys.stderr)
    pages = load_pages(args.reports_mirror, args.reports_commit)
    labels = {doc_id: label for doc_id, label in data["pages"].items() if label["split"] == args.split}
    chosen = sorted((doc_id, pages[doc_id]) for doc_id in labels if doc_id in pages)
    unlabelled = sorted(p["province"] for i, p in pages.items() if p["split"] == args.split and i not in labels)
    if unlabelled:
        print(f"pages of this split without labels (not measured): {', '.join(unlabelled)}", file=sys.stderr)
    for doc_id, page in chosen:
        lines = page["text"].split("\n")
        numbers = expand(labels[doc_id]["furniture"])
        if labelled_hash(lines, numbers) != labels[doc_id]["hash"]:
            raise SystemExit(f"{page['province']} ({doc_id}): the labelled lines changed; relabel the page")
    version = subprocess.run([args.cleankit, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version}; {bq.REPORTS_REPO}@{args.reports_commit[:8]}; split {args.split}: {len(chosen)} labelled pages")
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_furniture_real-"))
    work.mkdir(parents=True, exist_ok=True)
    results = {"cleankit": version, "split": args.split, "pages": len(chosen)}
    try:
        variants = (("site learning by url host", None), ("rules only", "[stage.boilerplate]\nsite_fields = []\n"))
        for name, config in variants:
            try:
                texts, records = clean_pages(work, name.replace(" ", "-"), chosen, args.cleankit, config)
            except RuntimeError as exc:  # an older cleankit (a baseline) may not know the setting
                print(f"  {name}: not run: {str(exc).strip().splitlines()[-1]}")
                continue
            results[name] = measure(chosen, labels, texts, records)
            report(name, results[name])
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("NO_COLOR", "1")
    sys.exit(main())

"""The Ray engine (issue 16) against the local engine, on one local 2-CPU Ray instance.

Every test compares the two engines on the same input: clean files byte for byte, provenance
records minus their run ids, the summary's totals, and the near-duplicate index's decisions
(including duplicates planted across shards and documents kept by an earlier run). Under
CI=true a missing Ray fails the module instead of skipping it.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SAMPLES

if os.environ.get("CI") == "true":
    import ray  # noqa: F401  (CI installs cleankit[ray]: a missing Ray is a failure)
else:
    pytest.importorskip("ray")

from cleankit import Settings
from cleankit.audit.records import CleanTextReader
from cleankit.core.pipeline import Pipeline
from cleankit.core.provenance import read_records, restore_from_record
from cleankit.io.files import INDEX_FILE
from cleankit.neardup.distributed import RayNearDupPass
from cleankit.neardup.index import NearDupIndex
from cleankit.run.clean import run_clean
from cleankit.run.executor import LocalExecutor
from cleankit.run.ray_engine import RayExecutor, RaySession
from cleankit.run.summary import RunSummary

FURNITURE = [
    ("首页 > 新闻中心 > 通知公告", "主办单位：广西壮族自治区人民政府办公厅 版权所有"),
    ("您当前的位置：首页 > 政务公开 > 政策文件", "网站标识码4500000001 桂ICP备05001234号"),
    ("当前位置：首页 > 科技动态", "联系我们 | 网站地图 | 主办：南宁市科学技术局"),
]


@pytest.fixture(scope="module")
def session() -> Iterator[RaySession]:
    """One local Ray instance (2 CPUs) for the whole module, stopped at its end."""
    ray_session = RaySession(num_cpus=2)
    ray_session.open()
    yield ray_session
    ray_session.close()


def paragraphs() -> list[str]:
    found: list[str] = []
    for path in sorted(SAMPLES.iterdir()):
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [line.strip() for line in text.splitlines() if len(line.strip()) >= 60]
    return found


PARAGRAPHS = paragraphs()


def notice(number: int, size: int = 3) -> list[str]:
    return PARAGRAPHS[number * size : (number + 1) * size]


def reprint(body: list[str], site: int, rng: random.Random, edits: int = 2) -> str:
    """A notice as one site prints it: its furniture around, a few characters changed."""
    body = list(body)
    for _ in range(edits):
        which = rng.randrange(len(body))
        cut = rng.randrange(len(body[which]) - 2)
        body[which] = body[which][:cut] + "的" + body[which][cut + 1 :]
    header, footer = FURNITURE[site % len(FURNITURE)]
    return "\n\n".join([header, *body, footer]) + "\n"


def crawl(folder: Path, shards: range, notices: range, seed: int) -> None:
    """Each shard a site; each notice reprinted in every shard (duplicates across shards),
    and one page of each shard its own."""
    rng = random.Random(seed)
    for shard in shards:
        site = folder / f"shard{shard}"
        site.mkdir(parents=True, exist_ok=True)
        for number in notices:
            (site / f"notice{number}.txt").write_text(reprint(notice(number), shard, rng), encoding="utf-8")
        own = notice(20 + shard)
        (site / "own.txt").write_text(reprint(own, shard, rng), encoding="utf-8")


def comparable(out: Path) -> dict[str, Any]:
    """What must be the same whichever engine ran: clean files, records without run ids,
    the summary's totals, the index's decisions."""
    files = {
        str(path.relative_to(out)): path.read_bytes()
        for path in sorted(out.rglob("*"))
        if path.is_file() and not path.name.startswith((".", "provenance", "summary", "run-state", "neardup-index"))
    }
    records = sorted(
        ({k: v for k, v in record.items() if k != "run"} for record in read_records(out / "provenance.jsonl")),
        key=lambda record: (record["source"], json.dumps(record, sort_keys=True)),
    )
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summary.pop("last_run")
    found: dict[str, Any] = {"files": files, "records": records, "summary": summary}
    if (out / INDEX_FILE).exists():
        with NearDupIndex(out / INDEX_FILE) as index:
            found["index"] = index.states()
            found["duplicate_of"] = sorted(
                (index.source_of(a), index.source_of(b))
                for a, b in index.db.execute("SELECT rowid, duplicate_of FROM docs WHERE duplicate_of IS NOT NULL")
            )
    return found


def run(inputs: list[Path], out: Path, settings: Settings, executor: Any) -> RunSummary:
    return run_clean(inputs, out, settings, pipeline=Pipeline.from_settings(settings), executor=executor)


def test_core_install_imports_no_ray(tmp_path: Path) -> None:
    """Importing cleankit and a local run through the CLI load nothing of Ray or pyarrow."""
    code = (
        "import sys\n"
        "import cleankit\n"
        "from cleankit.cli import main\n"
        f"sys.argv = ['cleankit', 'clean', {str(SAMPLES)!r}, '-o', {str(tmp_path / 'out')!r}, '-q', '-j', '1']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'pyarrow', 'fsspec', 's3fs')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "[]"
    assert len(list((tmp_path / "out").glob("*.txt"))) == 5


def test_crawl_same_as_local_across_shards_and_runs(tmp_path: Path, session: RaySession) -> None:
    """Duplicates planted across shards, then a second run whose reprints duplicate what the
    first kept: both engines keep and drop the same documents, byte for byte; a rerun of the
    Ray engine skips everything."""
    top = tmp_path / "in"
    crawl(top / "crawl", range(3), range(4), seed=1)
    settings = Settings(jobs=1)
    local, distributed = tmp_path / "local", tmp_path / "ray"
    run([top], local, settings, LocalExecutor(1))
    executor = RayExecutor(session)
    summary = run([top], distributed, settings, executor)
    decided = [p for p in executor.passes if isinstance(p, RayNearDupPass)]
    assert decided and decided[0].figures["verified_pairs"] >= 8
    first = comparable(local)
    assert comparable(distributed) == first
    assert summary.duplicates == 8  # 4 notices in 3 shards, one copy of each kept
    states = first["index"].items()
    duplicate_shards = {source.split("/")[1] for source, (state, _id) in states if state == "duplicate"}
    kept_shards = {source.split("/")[1] for source, (state, _id) in states if state == "kept"}
    assert len(kept_shards | duplicate_shards) == 3 and duplicate_shards

    crawl(top / "more", range(3, 5), range(2, 6), seed=2)  # notices 2 and 3 were kept by the first run
    run([top], local, settings, LocalExecutor(1))
    again = run([top], distributed, settings, RayExecutor(session))
    assert again.skipped == 15 and again.documents == 10
    second = comparable(distributed)
    assert second == comparable(local)
    earlier = {kept for dup, kept in second["duplicate_of"] if dup.startswith("more/")}
    assert any(source.startswith("crawl/") for source in earlier)

    rerun = run([top], distributed, settings, RayExecutor(session))
    assert rerun.skipped == 25 and rerun.documents == 0
    assert comparable(distributed) == second


def test_jsonl_same_as_local(tmp_path: Path, session: RaySession) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for shard in range(2):
        lines = [
            json.dumps({"id": f"{shard}-{n}", "content": reprint(notice(n + shard), shard, random.Random(n))})
            for n in range(4)
        ]
        lines.append(json.dumps({"id": "bad", "other": 1}))
        (src / f"part{shard}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = Settings(jobs=1, jsonl=True, text_field="content")
    run([src], tmp_path / "local", settings, LocalExecutor(1))
    summary = run([src], tmp_path / "ray", settings, RayExecutor(session))
    assert summary.documents == 8 and summary.failed == 2
    assert comparable(tmp_path / "ray") == comparable(tmp_path / "local")


def test_parquet_same_as_local_and_restores(tmp_path: Path, session: RaySession) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "in"
    src.mkdir()
    originals: dict[str, str] = {}
    for shard in range(2):
        ids = [f"doc-{shard}-{n}" for n in range(3)]
        texts = [reprint(notice(n + 3 * shard), shard, random.Random(n)) for n in range(3)]
        originals.update({f"part{shard}.parquet#{i}": t for i, t in zip(ids, texts, strict=True)})
        table = pa.table({"doc": ids, "body": texts, "views": [n * 10 for n in range(3)]})
        pq.write_table(table, src / f"part{shard}.parquet")
    settings = Settings(jobs=1, parquet=True, text_field="body", id_field="doc")
    run([src], tmp_path / "local", settings, LocalExecutor(1))
    summary = run([src], tmp_path / "ray", settings, RayExecutor(session))
    assert summary.documents == 6 and summary.failed == 0
    found = comparable(tmp_path / "ray")
    assert found == comparable(tmp_path / "local")
    out = pq.read_table(tmp_path / "ray" / "part1.parquet")
    assert out.column_names == ["doc", "body", "views"] and out.column("views").to_pylist() == [0, 10, 20]
    reader = CleanTextReader(tmp_path / "ray")
    for record in found["records"]:
        clean = reader(record)
        assert clean == out.column("body")[record["output_line"]].as_py() or record["file"] != "part1.parquet"
        assert restore_from_record(clean, record) == originals[record["source"]]

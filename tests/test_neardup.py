"""Near-duplicate documents across a crawl and across runs (cleankit.neardup.crawl, cleankit.neardup.index)."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import opencc
import pytest
from conftest import GOLDEN, run_cli, run_cli_here
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from cleankit import Settings
from cleankit.core.provenance import restore_bytes_from_record
from cleankit.io.files import INDEX_FILE
from cleankit.neardup.index import NearDupIndex
from cleankit.neardup.signature import SCHEME, SEED, SignatureParams, lean, shingle_hash, signature
from cleankit.run.clean import run_clean
from cleankit.run.executor import LocalExecutor
from cleankit.text.fold import canonical

T2TW = opencc.OpenCC("s2tw")
FURNITURE = [
    ("首页 > 新闻中心 > 通知公告", "主办单位：广西壮族自治区人民政府办公厅 版权所有"),
    ("您当前的位置：首页 > 政务公开 > 政策文件", "网站标识码4500000001 桂ICP备05001234号"),
    ("当前位置：首页 > 科技动态", "联系我们 | 网站地图 | 主办：南宁市科学技术局"),
    ("【字体：大 中 小】 【打印本页】", "本网站由市政府信息中心维护"),
    ("信息来源：市政府办公室 发布时间：2024-05-20", "扫一扫在手机上查看当前页"),
]


def _real_paragraphs() -> list[str]:
    paragraphs: list[str] = []
    for name in ("000_ad233eb0e25883aa.txt", "001_e11f24d6c84acc9d.txt", "004_c5e9d85b3d031f23.txt"):
        text = (GOLDEN / name).read_text(encoding="utf-8")
        paragraphs += [p for p in text.split("\n") if len(p) >= 60]
    return paragraphs


PARAGRAPHS = _real_paragraphs()


def notice(number: int, size: int = 4) -> list[str]:
    """A distinct notice: ``size`` consecutive real paragraphs, disjoint between numbers."""
    return PARAGRAPHS[number * size : (number + 1) * size]


def reprint(paragraphs: list[str], site: int, rng: random.Random, edits: int = 3) -> str:
    """The notice as another site prints it: its own furniture and a few characters changed."""
    body = list(paragraphs)
    for _ in range(edits):
        which = rng.randrange(len(body))
        text = body[which]
        cut = rng.randrange(len(text) - 2)
        body[which] = text[:cut] + "的" + text[cut + 1 :]
    header, footer = FURNITURE[site % len(FURNITURE)]
    return "\n\n".join([header, *body, footer]) + "\n"


def records(out: Path) -> dict[str, dict]:
    lines = (out / "provenance.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["source"]: r for r in map(json.loads, lines)}


def test_numpy_signature_is_datasketchs_minhash() -> None:
    params = SignatureParams(shingle_chars=5, permutations=64)
    view = canonical(PARAGRAPHS[3] + PARAGRAPHS[4])
    reference = MinHash(num_perm=64, seed=SEED, scheme=SCHEME, hashfunc=shingle_hash)
    reference.update_batch(view[i : i + 5].encode("utf-32-le") for i in range(len(view) - 4))
    assert np.array_equal(signature(view, params), reference.hashvalues)


def test_signatures_plug_into_datasketch_lsh() -> None:
    from datasketch import MinHashLSH

    params = SignatureParams(permutations=128, threshold=0.5)
    views = [canonical("".join(notice(n))) for n in range(4)]
    near = canonical("".join(notice(0))[:-40] + "附件：相关材料")
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    for number, view in enumerate(views):
        lsh.insert(number, lean(signature(view, params)))
    assert lsh.query(lean(signature(near, params))) == [0]
    assert lean(signature(views[0], params)).jaccard(lean(signature(near, params))) > 0.8


def test_signature_estimates_jaccard() -> None:
    params = SignatureParams(permutations=256)
    first = canonical("".join(notice(0)))
    second = canonical("".join(notice(0)[:3] + notice(1)[:1]))

    def shingles(view: str) -> set[str]:
        return {view[i : i + 5] for i in range(len(view) - 4)}

    truth = len(shingles(first) & shingles(second)) / len(shingles(first) | shingles(second))
    estimate = float(np.mean(signature(first, params) == signature(second, params)))
    assert abs(truth - estimate) < 0.1


def _crawl(folder: Path, rng: random.Random) -> dict[str, int]:
    """Three notices reprinted by four sites each, and three unrelated pages."""
    folder.mkdir(parents=True, exist_ok=True)
    cluster: dict[str, int] = {}
    for number in range(3):
        for site in range(4):
            name = f"site{site}/notice{number}.txt"
            (folder / name).parent.mkdir(exist_ok=True)
            text = reprint(notice(number), site, rng)
            if site == 3:
                text = T2TW.convert(text)  # a traditional-script reprint
            (folder / name).write_text(text, encoding="utf-8")
            cluster[name] = number
    for number in range(3, 6):
        name = f"other/page{number}.txt"
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(reprint(notice(number), number, rng), encoding="utf-8")
        cluster[name] = number
    return cluster


def test_crawl_keeps_one_copy_per_notice_and_restores_duplicates(tmp_path: Path) -> None:
    src, out = tmp_path / "crawl", tmp_path / "out"
    truth = _crawl(src, random.Random(7))
    result = run_cli("clean", str(src), "-o", str(out), "-j", "2")
    assert result.returncode == 0, result.stderr.decode()
    recs = records(out)
    kept = {s for s, r in recs.items() if r["status"] == "ok"}
    dups = {s: r for s, r in recs.items() if r["status"] == "duplicate"}
    assert len(kept) == 6 and len(dups) == 9
    assert sorted(truth[s] for s in kept) == [0, 1, 2, 3, 4, 5]
    for source, record in dups.items():
        assert truth[record["duplicate_of"]] == truth[source]
        assert record["duplicate_of"] in kept
        assert 0.8 <= record["similarity"] <= 1.0
        assert record["output"] is None and not (out / source).exists()
        # The record alone rebuilds the original (its clean text is empty).
        assert restore_bytes_from_record("", record) == (src / source).read_bytes()
    source = sorted(dups)[0]
    restored = run_cli_here("restore", str(out), source, "--bytes")
    assert restored.returncode == 0, restored.stderr.decode()
    assert restored.stdout == (src / source).read_bytes()
    for source in kept:
        assert (out / source).is_file()
    assert json.loads((out / "summary.json").read_text())["duplicates"] == 9


def test_canonical_copy_is_the_most_complete(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    body = notice(2, size=6)
    (src / "a_truncated.txt").write_text("\n\n".join(body[:5]) + "\n", encoding="utf-8")
    (src / "b_complete.txt").write_text("\n\n".join(body) + "\n", encoding="utf-8")
    (src / "c_complete.txt").write_text("\n\n".join(body) + "\n", encoding="utf-8")
    run_clean([src], out, Settings(jobs=1))
    recs = records(out)
    assert recs["b_complete.txt"]["status"] == "ok"  # most complete, then earliest path
    assert recs["a_truncated.txt"]["duplicate_of"] == "b_complete.txt"
    assert recs["c_complete.txt"]["duplicate_of"] == "b_complete.txt"


def test_similar_but_different_notices_are_kept(tmp_path: Path) -> None:
    # Same site furniture and format, different content: not duplicates.
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    rng = random.Random(3)
    for number in range(6):
        (src / f"{number}.txt").write_text(reprint(notice(number, size=2), 0, rng), encoding="utf-8")
    summary = run_clean([src], out, Settings(jobs=1))
    assert summary.duplicates == 0
    assert all(r["status"] == "ok" for r in records(out).values())


def test_keep_duplicates_writes_them_marked(tmp_path: Path) -> None:
    src, out = tmp_path / "crawl", tmp_path / "out"
    _crawl(src, random.Random(11))
    run_clean([src], out, Settings(keep_duplicates=True))
    dups = [r for r in records(out).values() if r["status"] == "duplicate"]
    assert len(dups) == 9
    for record in dups:
        clean = (out / record["output"]).read_text(encoding="utf-8")
        assert record["duplicate_of"] and "neardup" not in record["steps"]
        assert restore_bytes_from_record(clean, record) == (src / record["source"]).read_bytes()


def test_second_run_dedups_against_the_persisted_index(tmp_path: Path) -> None:
    src, out = tmp_path / "crawl", tmp_path / "out"
    _crawl(src, random.Random(5))
    assert run_cli_here("clean", str(src), "-o", str(out)).returncode == 0
    first = records(out)
    kept_notice0 = next(s for s, r in first.items() if r["status"] == "ok" and "notice0" in s)
    # A later crawl: a new reprint of notice 0 and a page never seen.
    later = tmp_path / "later"
    later.mkdir()
    rng = random.Random(9)
    (later / "new_reprint.txt").write_text(reprint(notice(0), 4, rng), encoding="utf-8")
    (later / "new_page.txt").write_text(reprint(notice(7), 4, rng), encoding="utf-8")
    result = run_cli_here("clean", str(later), "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    second = records(out)
    assert second["new_reprint.txt"]["status"] == "duplicate"
    assert second["new_reprint.txt"]["duplicate_of"] == kept_notice0
    assert second["new_page.txt"]["status"] == "ok"
    assert (out / "new_page.txt").is_file() and not (out / "new_reprint.txt").exists()
    # Records of the first run are untouched.
    assert {s: r for s, r in second.items() if s in first} == first

    stats = run_cli_here("index", "stats", str(out), "--json")
    data = json.loads(stats.stdout)
    assert data["documents"] == 17 and data["kept"] == 7 and data["duplicates"] == 10 and data["runs"] == 2

    # Prune drops the entry whose clean file is gone; the index then no longer matches it.
    (out / kept_notice0).unlink()
    assert b"dropped 1" in run_cli_here("index", "prune", str(out)).stdout
    with NearDupIndex(out / INDEX_FILE) as index:
        assert index.stats()["kept"] == 6


def test_dedup_paragraphs_removes_paragraphs_seen_before(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    shared = PARAGRAPHS[40]
    (src / "a.txt").write_text("\n\n".join([*notice(0, 2), shared]) + "\n", encoding="utf-8")
    (src / "b.txt").write_text("\n\n".join([shared, *notice(3, 2)]) + "\n", encoding="utf-8")
    assert run_cli_here("clean", str(src), "-o", str(out), "--dedup-paragraphs").returncode == 0
    assert shared in (out / "a.txt").read_text(encoding="utf-8")
    text_b = (out / "b.txt").read_text(encoding="utf-8")
    assert shared not in text_b and text_b == "\n\n".join(notice(3, 2)) + "\n"
    record = records(out)["b.txt"]
    (edit,) = [e for e in record["edits"] if e["stage"] == "neardup"]
    assert edit["rule"] == "seen-paragraph" and edit["ref"] == "doc:a.txt"
    assert run_cli_here("restore", str(out), "b.txt", "--bytes").stdout == (src / "b.txt").read_bytes()


def test_index_with_other_settings_is_refused(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text("\n\n".join(notice(0)) + "\n", encoding="utf-8")
    run_clean([src], out, Settings(jobs=1))
    with pytest.raises(ValueError, match="other signature settings"):
        run_clean([src], out, Settings(jobs=1, neardup_permutations=64), force=True)


def test_no_dedup_documents_writes_every_copy(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_text("\n\n".join(notice(1)) + "\n", encoding="utf-8")
    summary = run_clean([src], out, Settings(jobs=1, neardup=False))
    assert summary.duplicates == 0 and (out / "a.txt").is_file() and (out / "b.txt").is_file()
    assert not (out / INDEX_FILE).exists()


def test_cli_names_an_unusable_index(tmp_path: Path) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "a.txt").write_text("\n\n".join(notice(0)) + "\n", encoding="utf-8")
    (out / INDEX_FILE).write_bytes(b"not a database" * 100)
    result = run_cli_here("clean", str(src), "-o", str(out))
    assert result.returncode == 2
    assert INDEX_FILE.encode() in result.stderr


@pytest.mark.parametrize(
    "flag", [{"neardup_threshold": 0.0}, {"neardup_verify": 1.5}, {"neardup_bands": 500}, {"neardup_permutations": 1}]
)
def test_bad_dedup_settings_are_refused(flag: dict) -> None:
    from cleankit.core.settings import SettingsError, validate

    with pytest.raises(SettingsError):
        validate(Settings(**flag))


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet="广西科技创新通知，。ab1 ", max_size=300),
    st.lists(st.tuples(st.integers(0, 299), st.sampled_from(["delete", "insert", "replace"])), max_size=80),
    st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.99, 1.0]),
)
def test_verified_ratio_is_rapidfuzz_ratio(first: str, edits: list[tuple[int, str]], cutoff: float) -> None:
    """The banded shortcut gives the very float of fuzz.ratio, for texts a few edits apart
    (within the band) and many edits apart (past it)."""
    from rapidfuzz import fuzz

    from cleankit.neardup.crawl import verified_ratio

    second = list(first)
    for position, kind in edits:
        at = position % (len(second) + 1)
        if kind == "insert" or at == len(second):
            second.insert(at, "新")
        elif kind == "delete":
            del second[at]
        else:
            second[at] = "ab"[at % 2]
    other = "".join(second)
    assert verified_ratio(first, other, cutoff) == fuzz.ratio(first, other, score_cutoff=cutoff * 100) / 100


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="广西科技创新通知，。ab1 ", max_size=60), st.text(alphabet="广西科技创新通知，。ab1 ", max_size=60)
)
def test_ratio_upper_bound_never_below_the_real_ratio(first: str, second: str) -> None:
    from collections import Counter

    from rapidfuzz import fuzz

    from cleankit.neardup.crawl import CharCounts, ratio_upper_bound

    bound = ratio_upper_bound(CharCounts.of(first), CharCounts.of(second))
    assert fuzz.ratio(first, second) / 100 <= bound + 1e-9
    # The same value as the L1 distance of the two Counters, to the last bit.
    a, b = Counter(first), Counter(second)
    total = a.total() + b.total()
    distance = sum(abs(n - b[c]) for c, n in a.items()) + sum(n for c, n in b.items() if c not in a)
    assert bound == (1 - distance / total if total else 1.0)


def _generations(folder: Path, rng: random.Random) -> None:
    """:func:`_crawl` and second-generation copies: each notice with its last paragraph
    replaced (another page of the same site, close to the notice) reprinted by three sites.
    Deciding them takes two rounds of pairs: a reprint of a variant waits until the
    variant's own decision says whether it is kept."""
    _crawl(folder, rng)
    for number in range(3):
        body = notice(number)[:-1] + notice(20 + number)[:1]
        for site in range(3):
            (folder / f"variant{site}").mkdir(exist_ok=True)
            (folder / f"variant{site}/notice{number}.txt").write_text(reprint(body, site, rng), encoding="utf-8")


def _comparable(out: Path) -> tuple[list[str], dict[str, bytes]]:
    """Records without their run id, sorted, and every clean output: what must not depend on
    the number of workers."""
    lines = []
    for record in records(out).values():
        record.pop("run")
        lines.append(json.dumps(record, sort_keys=True, ensure_ascii=False))
    written = {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*.txt")
        if p.is_file() and not p.name.startswith(".")
    }
    return sorted(lines), written


def _log_pairs(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Append every verified pair (and the process that verified it) to the file the returned
    list holds (set it before each run)."""
    from cleankit.neardup import crawl

    similarity = crawl.NearDupPass._similarity
    log: list[Path] = []

    def logged(self: crawl.NearDupPass, first: Any, second: Any) -> float | None:
        with open(log[0], "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\t{first.source}\t{second.source}\n")
        return similarity(self, first, second)

    monkeypatch.setattr(crawl.NearDupPass, "_similarity", logged)
    return log


def _pairs(log: Path) -> tuple[set[tuple[str, str]], set[int]]:
    rows = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()]
    return {(first, second) for _pid, first, second in rows}, {int(pid) for pid, _f, _s in rows}


def _end_of_run_in_workers(monkeypatch: pytest.MonkeyPatch, pairs_per_task: int, files_per_task: int) -> None:
    """Every verification round and every rewrite goes to the workers, in tasks this small."""
    from cleankit.neardup import crawl

    monkeypatch.setattr(crawl, "WORKER_ROUND_PAIRS", 1)
    monkeypatch.setattr(crawl, "PAIRS_PER_TASK", pairs_per_task)
    monkeypatch.setattr(crawl, "WORKER_REWRITE_FILES", 1)
    monkeypatch.setattr(crawl, "FILES_PER_TASK", files_per_task)


def test_workers_verify_the_pairs_one_worker_verifies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every round goes to the workers, one pair per task: the pairs verified are exactly the
    # pairs a one-worker run verifies (no speculative pair), in other processes, and the
    # records and outputs are the one-worker run's.
    from cleankit.neardup import crawl

    _end_of_run_in_workers(monkeypatch, pairs_per_task=1, files_per_task=2)
    src = tmp_path / "crawl"
    _generations(src, random.Random(7))
    rounds: list[int] = []
    verify = crawl.NearDupPass._verify

    def counted(self: crawl.NearDupPass, pairs: list[tuple[int, int]], scores: dict[Any, Any]) -> None:
        rounds.append(len(pairs))
        verify(self, pairs, scores)

    monkeypatch.setattr(crawl.NearDupPass, "_verify", counted)
    log = _log_pairs(monkeypatch)
    log.append(tmp_path / "one.log")
    one = run_clean([src], tmp_path / "one", Settings(jobs=1))
    assert len([n for n in rounds if n]) >= 2  # the second generation needs a second round
    log[0] = tmp_path / "two.log"
    two = run_clean([src], tmp_path / "two", Settings(jobs=2))
    assert one.duplicates == two.duplicates >= 9
    pairs_one, pids_one = _pairs(tmp_path / "one.log")
    pairs_two, pids_two = _pairs(tmp_path / "two.log")
    assert pids_one == {os.getpid()}
    assert pairs_two == pairs_one and os.getpid() not in pids_two
    assert _comparable(tmp_path / "one") == _comparable(tmp_path / "two")


class _Unreliable(LocalExecutor):
    """Workers that hand the end-of-run tasks (pairs, rewrites) back in reverse order and die
    on every other one."""

    def results(self, tasks: list[Any], work: Any, lost: Any) -> Iterator[Any]:
        from cleankit.neardup.crawl import FileRewriter, PairVerifier

        if not isinstance(work, PairVerifier | FileRewriter):
            yield from super().results(tasks, work, lost)
            return
        for number, task in enumerate(reversed(tasks)):
            yield lost(task, "killed") if number % 2 else work(task)


def test_decisions_do_not_depend_on_how_pairs_come_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _end_of_run_in_workers(monkeypatch, pairs_per_task=2, files_per_task=3)
    src = tmp_path / "crawl"
    _generations(src, random.Random(13))
    one = run_clean([src], tmp_path / "one", Settings(jobs=1))
    odd = run_clean([src], tmp_path / "odd", Settings(jobs=2), executor=_Unreliable(2))
    assert one.duplicates == odd.duplicates >= 9
    assert _comparable(tmp_path / "one") == _comparable(tmp_path / "odd")


class _Keeping(LocalExecutor):
    """Workers whose end-of-run rewrites are kept as the parent received them."""

    def __init__(self, jobs: int) -> None:
        super().__init__(jobs)
        self.rewritten: list[Any] = []

    def results(self, tasks: list[Any], work: Any, lost: Any) -> Iterator[Any]:
        from cleankit.neardup.crawl import FileRewriter

        for result in super().results(tasks, work, lost):
            if isinstance(work, FileRewriter):
                self.rewritten.append(result)
            yield result


def test_the_workers_hand_back_rewritten_records_as_the_lines_the_commit_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The duplicates' new records come back from the workers serialized, with what they
    # change in their rows: the parent copies bytes instead of unpickling every record (a
    # duplicate's carries its whole text) and serializing it again; same run as one worker's.
    _end_of_run_in_workers(monkeypatch, pairs_per_task=2, files_per_task=3)
    src = tmp_path / "crawl"
    _generations(src, random.Random(5))
    one = run_clean([src], tmp_path / "one", Settings(jobs=1))
    keeping = _Keeping(2)
    two = run_clean([src], tmp_path / "two", Settings(jobs=2), executor=keeping)
    assert one.duplicates == two.duplicates >= 9
    handed = [entry for _start, done in keeping.rewritten for entry in done]
    replaced = [entry for entry in handed if entry[0] in ("replace", "prepared")]
    assert len(replaced) >= two.duplicates
    assert [type(value.lines) for _kind, _file, value in replaced] == [bytes] * len(replaced)
    assert _comparable(tmp_path / "one") == _comparable(tmp_path / "two")


def test_candidates_of_every_pending_document_in_one_query_are_each_ones_candidates(tmp_path: Path) -> None:
    # Three documents share buckets with others in every state: a kept one of an earlier run,
    # this run's pending ones, and a duplicate (never a candidate); one pending shares nothing.
    rng = np.random.default_rng(7)
    with NearDupIndex(tmp_path / INDEX_FILE) as index:
        rows = {}
        for name, keys in [
            ("earlier/kept.txt", [11, 12, 13, 14]),
            ("earlier/dup.txt", [11, 22, 23, 24]),
            ("site1/a.txt", [11, 32, 33, 34]),
            ("site2/b.txt", [41, 12, 33, 44]),
            ("site3/c.txt", [51, 52, 53, 14]),
            ("site4/alone.txt", [61, 62, 63, 64]),
        ]:
            sig = rng.integers(0, 2**32, size=8, dtype=np.uint64).astype(np.uint32)
            rows[name] = index.add(name[:16], name, name, 100, (0, -100, name), "r1", sig, keys)
        index.set_state(rows["earlier/kept.txt"], "kept")
        index.set_state(rows["earlier/dup.txt"], "duplicate", rows["earlier/kept.txt"])
        states = ("kept", "pending")
        found = index.pending_candidates(states)
        pending = [rowid for rowid, _source, _quality in index.pending()]
        assert {rowid: found.get(rowid, []) for rowid in pending} == {
            rowid: index.candidates(rowid, states) for rowid in pending
        }
        assert found[rows["site1/a.txt"]] == sorted([rows["earlier/kept.txt"], rows["site2/b.txt"]])
        assert rows["earlier/dup.txt"] not in found[rows["site1/a.txt"]]
        assert rows["site4/alone.txt"] not in found


@pytest.mark.parametrize("jobs", [1, 2])
def test_duplicates_records_rewritten_without_parsing_their_edits_are_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    # A duplicate's line is parsed without its edits and written again with them copied as
    # bytes; the records are those of parsing and serializing the whole line.
    from cleankit.neardup import crawl

    _end_of_run_in_workers(monkeypatch, pairs_per_task=2, files_per_task=3)
    src = tmp_path / "crawl"
    _generations(src, random.Random(11))
    spliced: list[bytes] = []
    splice = crawl.dumps_line_with_edits

    def counted(record: Any, earlier: bytes) -> bytes | None:
        line = splice(record, earlier)
        if line is not None:
            spliced.append(line)
        return line

    with monkeypatch.context() as patched:
        patched.setattr(crawl, "dumps_line_with_edits", counted)
        fast = run_clean([src], tmp_path / "fast", Settings(jobs=jobs))
    with monkeypatch.context() as patched:
        patched.setattr(crawl, "split_edits", lambda _line: None)
        whole = run_clean([src], tmp_path / "whole", Settings(jobs=jobs))
    assert fast.duplicates == whole.duplicates >= 9
    if jobs == 1:  # the workers' calls are in their own processes
        assert len(spliced) == fast.duplicates
    assert _comparable(tmp_path / "fast") == _comparable(tmp_path / "whole")

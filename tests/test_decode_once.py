"""A page is decoded once per run: the site-learning survey's detection is handed to the
cleaner, which decodes the same bytes the same way (and detects again when they changed)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cleankit.core.pipeline as pipeline_module
from cleankit import Settings
from cleankit.run.clean import run_clean

PAGES = {
    "site/a.txt": ("　　关于做好防汛工作的通知\n各区县人民政府：\n请认真贯彻落实。\n网站地图 | 联系我们\n", "gbk"),
    "site/b.txt": ("關於做好防汛工作的通知\n各區縣人民政府：\n請認真貫徹落實。\n網站地圖 | 聯繫我們\n", "big5"),
    "site/c.txt": ("关于开展安全检查的通知\r\n各单位：\r\n请按时报送。\r\n网站地图 | 联系我们\r\n", "utf-16"),
    "site/d.txt": ("关于开展安全检查的通知\n各单位：\n请按时报送。\n网站地图 | 联系我们\n", "utf-8"),
}


def _corpus(root: Path) -> Path:
    for rel, (text, codec) in PAGES.items():
        path = root / "in" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode(codec))
    return root / "in"


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    calls: list[bytes] = []
    detect_and_decode = pipeline_module.detect_and_decode

    def counted(raw: bytes, forced: str | None = None) -> object:
        calls.append(raw)
        return detect_and_decode(raw, forced)

    monkeypatch.setattr(pipeline_module, "detect_and_decode", counted)
    return calls


def test_the_cleaner_does_not_detect_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path)
    settings = Settings(jobs=1)
    calls = _counting(monkeypatch)
    run_clean([corpus], tmp_path / "out", settings)
    assert calls == []  # every page was decoded as its survey decoded it
    records = (tmp_path / "out" / "provenance.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(records) == len(PAGES) and not any('"failed"' in record for record in records)


def test_same_records_with_and_without_the_surveys_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path)
    run_clean([corpus], tmp_path / "shared", Settings(jobs=1))
    # Without site learning there is no survey: every page is detected by the cleaner.
    calls = _counting(monkeypatch)
    run_clean([corpus], tmp_path / "alone", Settings(jobs=1, stage_options={"boilerplate": {"learn": False}}))
    assert len(calls) == len(PAGES)
    shared, alone = tmp_path / "shared" / "provenance.jsonl", tmp_path / "alone" / "provenance.jsonl"
    encodings = [line.split('"encoding":')[1].split(',"output"')[0] for line in shared.read_text().splitlines()]
    assert encodings == [
        line.split('"encoding":')[1].split(',"output"')[0] for line in alone.read_text().splitlines()
    ]


def test_changed_bytes_are_detected_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The survey's decoding is for the bytes it read (their sha256): a page replaced between
    the survey and its cleaning is detected anew."""
    import cleankit.run.clean as clean_module

    corpus = _corpus(tmp_path)
    learn = clean_module._learn

    def learn_then_change(*args: object, **kwargs: object) -> None:
        learn(*args, **kwargs)  # type: ignore[arg-type]
        (corpus / "site" / "a.txt").write_bytes(PAGES["site/b.txt"][0].encode("big5"))

    monkeypatch.setattr(clean_module, "_learn", learn_then_change)
    calls = _counting(monkeypatch)
    run_clean([corpus], tmp_path / "out", Settings(jobs=1))
    assert calls == [PAGES["site/b.txt"][0].encode("big5")]
    assert '"name":"big5' in (tmp_path / "out" / "provenance.jsonl").read_text().splitlines()[0]

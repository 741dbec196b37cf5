"""The --to and --nfkc flags and their settings, end to end through the real command."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli_here

TEXT = "發展新質(zhì)生產力,ＡＢＣ公司\n".encode()


def test_to_and_nfkc_flags(tmp_path: Path) -> None:
    result = run_cli_here("clean", "-", "--to", "tw", "--nfkc", "--provenance", str(tmp_path / "p.jsonl"), stdin=TEXT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == "發展新質生產力，ABC公司\n"
    record = json.loads((tmp_path / "p.jsonl").read_text())
    assert record["metadata"]["script"]["to"] == "tw"
    assert record["metadata"]["script"]["config"] == "s2tw.json"


def test_default_is_simplified() -> None:
    result = run_cli_here("clean", "-", stdin=TEXT)
    assert result.stdout.decode() == "发展新质生产力，ＡＢＣ公司\n"


def test_settings_file_options(tmp_path: Path) -> None:
    (tmp_path / "cleankit.toml").write_text('[stage.script]\nto = "keep"\n[stage.punctuation]\nnfkc = true\n')
    result = run_cli_here("clean", "-", stdin=TEXT, cwd=tmp_path)
    assert result.stdout.decode() == "發展新質生產力，ABC公司\n"


def test_bad_target_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli_here("clean", "-", "--to", "martian", stdin=TEXT)
    assert result.returncode == 2
    assert "martian" in result.stderr.decode()
    (tmp_path / "cleankit.toml").write_text('[stage.script]\nto = "martian"\n')
    result = run_cli_here("clean", "-", stdin=TEXT, cwd=tmp_path)
    assert result.returncode == 2
    assert "cleankit.toml" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()

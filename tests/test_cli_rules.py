"""The rule-pack command line: ``rules list``, ``rules test`` and ``clean --rules``, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLES, run_cli_here

SITE_PACK = """
family: site-x
rules:
  - id: site-x-slogan
    description: the slogan line of site X's footer
    pattern: '^科技让生活更美好$'
    zone: tail
    examples:
      match: ['科技让生活更美好', '科技讓生活更美好']
      no_match: ['科技让生活更美好。我们要继续努力']
"""


def test_rules_list_shows_every_rule_and_user_packs(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE_PACK, encoding="utf-8")
    result = run_cli_here("rules", "list", "--rules", str(tmp_path))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    for rule_id in ("breadcrumb-location", "meta-line", "copyright", "gambling-brand", "site-x-slogan"):
        assert rule_id in out
    assert str(tmp_path / "site.yaml") in out


def test_rules_list_refuses_a_yaml_alias_bomb_naming_the_file(tmp_path: Path) -> None:
    # 10**9 example strings through nine levels of aliases: it used to run to gigabytes.
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    examples = "match: ['科技让生活更美好', '科技讓生活更美好']"
    bomb = "\n".join(lines) + "\n" + SITE_PACK.replace(examples, "match: [*a8]")
    (tmp_path / "bomb.yaml").write_text(bomb, encoding="utf-8")
    result = run_cli_here("rules", "list", "--rules", str(tmp_path))
    err = result.stderr.decode()
    assert result.returncode == 2
    assert str(tmp_path / "bomb.yaml") in err
    assert "anchors (&name) are not allowed in rule packs" in err


def test_rules_test_explains_each_decision() -> None:
    result = run_cli_here("rules", "test", str(SAMPLES / "001_e11f24d6c84acc9d.txt"))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "REMOVE breadcrumb-location" in out
    assert "why: footer: copyright line" in out
    assert "rules fired: contact-block, gambling-brand" in out
    assert '"doc_number": "桂政发〔2021〕39号"' in out
    assert "7 of 331 lines removed" in out


def test_rules_test_can_learn_from_the_site_folder(tmp_path: Path) -> None:
    body = "近日，市科技局召开全市科技创新工作会议，总结2023年工作，部署2024年重点任务。"
    for number in range(6):
        (tmp_path / f"{number}.txt").write_text(f"某某局网站导航条\n题目{number}\n{body}{number}\n", encoding="utf-8")
    result = run_cli_here("rules", "test", str(tmp_path / "0.txt"), "--learn-from", str(tmp_path))
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "learned from 6 page(s)" in out
    assert "REMOVE site-learned" in out and "seen in 6 of 6 pages of this site" in out


def test_clean_with_a_user_pack_and_a_bad_pack(tmp_path: Path) -> None:
    pages = tmp_path / "in"
    pages.mkdir()
    body = "近日，市科技局召开全市科技创新工作会议，总结2023年工作，部署2024年重点任务。"
    (pages / "a.txt").write_text(f"题目\n{body}\n科技让生活更美好\n", encoding="utf-8")
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "site.yaml").write_text(SITE_PACK, encoding="utf-8")
    result = run_cli_here("clean", str(pages), "-o", str(tmp_path / "out"), "--rules", str(packs), "-q")
    assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "out" / "a.txt").read_text(encoding="utf-8") == f"题目\n\n{body}\n"
    record = json.loads((tmp_path / "out" / "provenance.jsonl").read_text().splitlines()[0])
    assert record["stats"]["boilerplate/site-x-slogan"]["reason"] == "site-x: the slogan line of site X's footer"

    (packs / "broken.yaml").write_text(SITE_PACK.replace("site-x-slogan", "bad-one").replace("^科技", "(a+)+科技"))
    result = run_cli_here("clean", str(pages), "-o", str(tmp_path / "out2"), "--rules", str(packs))
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "broken.yaml" in err and "bad-one" in err and "nested quantifiers" in err

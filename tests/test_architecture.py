"""The extension points the layout promises (docs/architecture.md): stages register
themselves, corpus passes run through one protocol, errors say whose fault they are, and the
command line starts without loading the pipeline."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cleankit import Pipeline, Settings
from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.document import Document, Edit
from cleankit.core.errors import CleankitError, ConfigError, InputError, SettingsError, StageBug
from cleankit.core.provenance import build_record, restore_from_record
from cleankit.core.stage import default_stage_names, register_stage, stage_registry
from cleankit.run.clean import run_clean

PAGE = "第一段，全角数字１２３。\n\n第二段文字。\n"


@register_stage("test-fullwidth-digits", order=55, default=False)
@dataclass
class FullwidthDigitsStage:
    """Full-width digits to ASCII (the example of docs/architecture.md)."""

    name: str = "test-fullwidth-digits"

    def run(self, document: Document) -> Document:
        text = document.text
        edits = [
            Edit("", "digit", i, i + 1, c, chr(ord(c) - 0xFEE0), "full-width digit")
            for i, c in enumerate(text)
            if "０" <= c <= "９"
        ]
        document.apply(self.name, edits)
        return document


@dataclass
class CountingPass:
    """A corpus pass that records what the runner handed it."""

    name: str = "counting"
    prepared: list[str] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    finalized: int = 0

    def prepare(self, files: Sequence[tuple[str, Path]]) -> None:
        self.prepared = sorted(rel for rel, _ in files)

    def observe(self, document: Document, output: str) -> int:
        return len(document.text)

    def merge(self, observation: Any) -> None:
        self.merged.append(observation)

    def finalize(self, provenance: Path) -> dict[str, int]:
        self.finalized += 1
        return {}


@register_stage("test-corpus-aware", order=95, default=False)
@dataclass
class CorpusAwareStage:
    """A stage that asks the runner for a pass over the whole corpus."""

    name: str = "test-corpus-aware"
    counting: CountingPass = field(default_factory=CountingPass)

    def run(self, document: Document) -> Document:
        return document

    def corpus_pass(self, settings: Settings) -> CorpusPass:
        return self.counting


@register_stage("test-broken", order=96, default=False)
@dataclass
class BrokenStage:
    """Logs an edit whose old text is not in the document: a bug, not bad input."""

    name: str = "test-broken"

    def run(self, document: Document) -> Document:
        document.apply(self.name, [Edit("", "wrong", 0, 1, "X", "", "not what is there")])
        return document


def test_a_registered_stage_runs_in_its_place_and_restores_exactly() -> None:
    assert "test-fullwidth-digits" in stage_registry()
    assert "test-fullwidth-digits" not in default_stage_names()  # default=False: only when named
    stages = [*default_stage_names(), "test-fullwidth-digits"]
    pipeline = Pipeline.from_settings(Settings(stages=stages))
    document = pipeline.clean_text(PAGE)
    assert "123" in document.text and "１２３" not in document.text
    record = build_record(document, "fp", None)
    assert "test-fullwidth-digits/digit" in record["stats"]
    assert restore_from_record(document.text, record) == PAGE


def test_the_default_order_is_the_registered_order() -> None:
    assert default_stage_names() == [
        "mojibake",
        "hygiene",
        "markup",
        "script",
        "punctuation",
        "boilerplate",
        "paragraphs",
        "repeats",
        "reflow",
    ]


def test_the_old_stage_name_is_accepted() -> None:
    settings = Settings(skip=["dedup"], stage_options={"dedup": {"min_chars": 12}})
    assert "repeats" not in settings.active_stages()
    pipeline = Pipeline.from_settings(Settings(stage_options={"dedup": {"min_chars": 12}}))
    assert next(stage for stage in pipeline.stages if stage.name == "repeats").min_chars == 12  # type: ignore[attr-defined]


def test_corpus_passes_see_every_document(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for number in range(3):
        (src / f"{number}.txt").write_text(f"第{number}页。" * (number + 1), encoding="utf-8")
    settings = Settings(jobs=1, neardup=False, stages=[*default_stage_names(), "test-corpus-aware"])
    pipeline = Pipeline.from_settings(settings)
    run_clean([src], tmp_path / "out", settings, pipeline=pipeline)
    stage = next(s for s in pipeline.stages if isinstance(s, CorpusAwareStage))
    assert stage.counting.prepared == ["0.txt", "1.txt", "2.txt"]
    assert sorted(stage.counting.merged) == sorted(
        len((tmp_path / "out" / f"{n}.txt").read_text(encoding="utf-8")) for n in range(3)
    )
    assert stage.counting.finalized == 1


def test_a_stage_bug_is_an_internal_error_not_bad_input(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "page.txt").write_text(PAGE, encoding="utf-8")
    settings = Settings(jobs=1, neardup=False, stages=["hygiene", "test-broken"])
    summary = run_clean([src], tmp_path / "out", settings)
    assert summary.failed == 1
    assert "internal error in cleankit" in summary.failures[0][1]
    assert not (tmp_path / "out" / "page.txt").exists()


def test_error_hierarchy() -> None:
    assert issubclass(StageBug, CleankitError) and not issubclass(StageBug, InputError)
    assert issubclass(SettingsError, ConfigError) and not issubclass(ConfigError, InputError)
    with pytest.raises(SettingsError, match="unknown stage"):
        Pipeline.from_settings(Settings(stages=["no-such-stage"]))


HEAVY = ("numpy", "opencc", "datasketch", "rapidfuzz", "ftfy", "pypinyin", "yaml", "regex", "cleankit.stages")


def _imported(*args: str) -> set[str]:
    """Modules a fresh interpreter imports to run ``python -m cleankit ARGS``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cleankit", *args], capture_output=True, text=True, check=True
    )
    return {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}


def test_version_imports_nothing_heavy() -> None:
    loaded = _imported("--version")
    assert not [name for name in loaded if name.split(".")[0] in HEAVY or name.startswith("cleankit.stages")]
    assert "typer" not in loaded


def test_help_loads_no_stage() -> None:
    loaded = _imported("--help")
    assert not [name for name in loaded if name.split(".")[0] in HEAVY or name.startswith("cleankit.stages")]


def test_settings_import_no_stage() -> None:
    code = "import sys, cleankit.core.settings; print(any(m.startswith('cleankit.stages') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def _module_imports(package: Path) -> dict[str, set[str]]:
    """Each cleankit module's imports of other cleankit modules made when it is loaded (not
    inside functions, not under ``if TYPE_CHECKING:``)."""
    import ast

    modules = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    graph = _module_imports(Path(__file__).resolve().parents[1] / "cleankit")
    assert "cleankit.core.pipeline" in graph["cleankit.run.clean"]  # the graph is read
    assert _cycles(graph) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

"""Site learning holds every file's survey until the sites are learned: as its JSON text (one
object a file), not the parsed survey's many small objects, which fragment the parent's heap
that every cleaning worker is then forked from (issue 12: peak memory independent of corpus
size; the figures are in benchmarks/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cleankit.core.pipeline import Pipeline
from cleankit.core.settings import Settings
from cleankit.run import clean as clean_module
from cleankit.run.executor import LocalExecutor
from cleankit.run.plan import Task
from cleankit.run.state import RunState

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
SITES = 4


def _tasks(tmp_path: Path) -> list[Task]:
    """Pages of SITES sites: every sample, under the head and tail lines of one sample per site
    (the furniture a site repeats on each of its pages)."""
    samples = [path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))]
    tasks = []
    for site in range(SITES):
        lines = [line for line in samples[site].splitlines() if line.strip()]
        head, tail = "\n".join(lines[:2]), "\n".join(lines[-2:])
        for number, body in enumerate(samples):
            path = tmp_path / "crawl" / f"site{site}" / f"{number}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{head}\n\n{body}\n\n{tail}\n", encoding="utf-8")
            tasks.append(Task(str(path), f"site{site}/{number}.txt", None))
    return tasks


def _surveying(settings: Settings) -> list[object]:
    passes = Pipeline.from_settings(settings).corpus_passes()
    return [p for p in passes if callable(getattr(p, "survey", None))]


def test_the_surveyor_sends_each_survey_as_the_json_the_run_state_caches(tmp_path: Path) -> None:
    passes = _surveying(Settings())
    assert passes
    surveyor = clean_module._Surveyor(passes, {p.name: {} for p in passes}, Settings().max_bytes)  # type: ignore[attr-defined]
    task = _tasks(tmp_path)[0]
    result = surveyor(task)
    raw = Path(task.path).read_bytes()
    for corpus_pass in passes:
        text = result.surveys[corpus_pass.name]  # type: ignore[attr-defined]
        assert isinstance(text, str)
        assert json.loads(text) == json.loads(json.dumps(corpus_pass.survey(task.rel, raw), ensure_ascii=False))  # type: ignore[attr-defined]
    assert set(result.fresh) == {p.name for p in passes}  # type: ignore[attr-defined]


def test_learning_from_the_json_learns_what_the_surveys_say(tmp_path: Path) -> None:
    settings = Settings()
    tasks = _tasks(tmp_path)
    learned_by_run = _surveying(settings)
    (tmp_path / "out").mkdir()
    state = RunState(tmp_path / "out")
    clean_module._learn(learned_by_run, tasks, LocalExecutor(1), state, settings.max_bytes)  # type: ignore[arg-type]
    state.close()
    direct = _surveying(settings)
    for corpus_pass in direct:
        surveys = {task.rel: corpus_pass.survey(task.rel, Path(task.path).read_bytes()) for task in tasks}  # type: ignore[attr-defined]
        corpus_pass.learn((task.rel, surveys[task.rel]) for task in tasks)  # type: ignore[attr-defined]
    contexts = [[p.context(task.rel) for task in tasks] for p in learned_by_run]  # type: ignore[attr-defined]
    assert contexts == [[p.context(task.rel) for task in tasks] for p in direct]  # type: ignore[attr-defined]
    assert any(any(found) for found in contexts)  # the samples' sites do have furniture


def test_each_site_s_learned_shapes_are_hashed_once_for_every_file_s_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run asks for every file's context before cleaning, in its serial part: the files of
    # a site share the digest of its learned shapes, computed for the first of them (asked
    # in the other order, the same contexts).
    from cleankit.stages.boilerplate import sitelearn

    settings = Settings()
    tasks = _tasks(tmp_path)
    surveyed = [_surveying(settings), _surveying(settings)]
    for passes in surveyed:
        for corpus_pass in passes:
            surveys = [(task.rel, corpus_pass.survey(task.rel, Path(task.path).read_bytes())) for task in tasks]  # type: ignore[attr-defined]
            corpus_pass.learn(surveys)  # type: ignore[attr-defined]
    shaped: list[object] = []
    shapes = sitelearn._shapes

    def counted(counts: Any) -> dict[str, list[str]]:
        shaped.append(counts)
        return shapes(counts)

    monkeypatch.setattr(sitelearn, "_shapes", counted)
    forward = [[p.context(task.rel) for task in tasks] for p in surveyed[0]]  # type: ignore[attr-defined]
    backward = [[p.context(task.rel) for task in reversed(tasks)][::-1] for p in surveyed[1]]  # type: ignore[attr-defined]
    assert forward == backward
    assert all(forward[0]) and len(set(forward[0])) == SITES
    assert len(shaped) <= 2 * 2 * SITES * len(surveyed[0])  # per site: its shapes and every site's

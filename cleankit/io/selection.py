"""Which files and folders under an input folder a run takes, and what it passes over.

``--include``/``--exclude`` globs are matched against a file's output path (relative to the
input folder; with several inputs, behind the input folder's name) and against its name;
``--exclude`` also prunes a folder whose path or name matches (``--exclude s.fjlib.net``
leaves that whole site out). A cleankit output folder found under an input (an earlier
run's ``provenance.jsonl`` with its ``summary.json``, its run state or its near-duplicate
index) is passed over: its records, state and index are not documents.

A :class:`Selection` counts what each pattern matched, so a pattern that matched nothing — a
typo, or a folder name given as a file glob — is reported instead of silently selecting
everything or nothing.
"""

from __future__ import annotations

import fnmatch
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cleankit.io.files import INDEX_FILE, LEGACY_INDEX_FILE, PROVENANCE_FILE, STATE_FILE, SUMMARY_FILE


def output_folder_marks(path: Path | str) -> list[str]:
    """The cleankit files that make ``path`` an output folder of a clean run (empty if it is not)."""
    names = (PROVENANCE_FILE, SUMMARY_FILE, STATE_FILE, INDEX_FILE, LEGACY_INDEX_FILE)
    present = [name for name in names if os.path.isfile(os.path.join(path, name))]
    has_records = PROVENANCE_FILE in present and SUMMARY_FILE in present
    has_state = STATE_FILE in present or INDEX_FILE in present or LEGACY_INDEX_FILE in present
    return present if has_records or has_state else []


def _matching(rel: str, patterns: list[str]) -> list[str]:
    name = rel.rsplit("/", 1)[-1]
    return [p for p in patterns if fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(name, p)]


@dataclass
class Selection:
    """The include/exclude patterns of a run, and what they and the walk have met so far."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # How many files (include) or files and folders (exclude) each pattern matched.
    include_hits: Counter[str] = field(default_factory=Counter)
    exclude_hits: Counter[str] = field(default_factory=Counter)
    # Folders left out as a whole, with why: (path as given under the input, reason).
    passed_over: list[tuple[str, str]] = field(default_factory=list)

    def wants_folder(self, rel: str, path: Path | str) -> bool:
        """Walk into this folder (``rel`` relative to the input folder)?"""
        marks = output_folder_marks(path)
        if marks:
            self.passed_over.append((str(path), f"a cleankit output folder ({', '.join(marks)})"))
            return False
        excluded = _matching(rel, self.exclude) if rel else []
        self.exclude_hits.update(excluded)
        return not excluded

    def wants_file(self, rel: str) -> bool:
        """Take this file (``rel`` relative to the input folder)?"""
        if self.include:
            included = _matching(rel, self.include)
            if not included:
                return False
            self.include_hits.update(included)
        excluded = _matching(rel, self.exclude)
        self.exclude_hits.update(excluded)
        return not excluded

    def unmatched(self) -> list[tuple[str, str]]:
        """(flag, pattern) of every pattern that matched nothing."""
        return [("--include", p) for p in self.include if not self.include_hits[p]] + [
            ("--exclude", p) for p in self.exclude if not self.exclude_hits[p]
        ]

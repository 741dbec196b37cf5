"""Settings are data: a dataclass filled from defaults, a ``cleankit.toml`` and flags.

Only the fields in :data:`OUTPUT_FIELDS` change what a document becomes; their hash (with
the cleankit version) decides whether a rerun may skip a document already done.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cleankit import __version__
from cleankit.core.errors import SettingsError
from cleankit.core.stage import canonical_stage_name, check_stage_options, default_stage_names, stage_registry

# Setting names of cleankit 0.1, still read from settings files.
LEGACY_KEYS = {
    "dedup_documents": "neardup",
    "dedup_paragraphs": "neardup_paragraphs",
    "dedup_threshold": "neardup_threshold",
    "dedup_verify": "neardup_verify",
    "dedup_shingle_chars": "neardup_shingle_chars",
    "dedup_permutations": "neardup_permutations",
    "dedup_bands": "neardup_bands",
}

OUTPUT_FIELDS = ("stages", "skip", "encoding", "text_field", "jsonl", "stage_options", "max_bytes")



@dataclass
class Settings:
    # Which stages run, in order; ``skip`` switches single stages off.
    stages: list[str] = field(default_factory=default_stage_names)
    skip: list[str] = field(default_factory=list)
    # Force one input encoding instead of detecting it.
    encoding: str | None = None
    # Input selection for folders (glob patterns on the path relative to the folder).
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    # JSON Lines input/output and the field that holds the text.
    jsonl: bool = False
    text_field: str = "text"
    # The field a JSON Lines output line gets when it failed or is a duplicate
    # (cleankit/run/jsonl.py); the line itself always stays, so output line N is input line N.
    jsonl_status_field: str = "cleankit"
    # Parquet input/output (each row a document; ``text_field`` is the text column) and the
    # column naming each row's document in provenance ("" = the row number).
    parquet: bool = False
    id_field: str = ""
    # Worker processes; 0 means one per core.
    jobs: int = 0
    # Larger inputs are refused with a clear error instead of exhausting memory.
    max_bytes: int = 32 * 1024 * 1024
    # Check on every document that restore rebuilds the original (cheap, catches stage bugs).
    verify_restore: bool = True
    # CPU seconds one document may take (decoding, every stage, the restore check) before it
    # fails, naming the stage; 0 = no limit. Generous: a 32 MiB page took 36-70 s of CPU
    # (benchmarks/bench_memory.py).
    document_seconds: float = 600.0
    # Per-stage options, e.g. {"hygiene": {"nfc": true}}.
    stage_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Near-duplicate documents across the crawl and across runs (README: "Deduplication").
    neardup: bool = True
    keep_duplicates: bool = False
    neardup_paragraphs: bool = False
    # Shortest paragraph (canonical characters) --dedup-paragraphs compares across documents.
    neardup_paragraph_chars: int = 10
    # Estimated Jaccard similarity of character shingles for an LSH candidate pair.
    neardup_threshold: float = 0.5
    # rapidfuzz similarity (0-1, canonical text) a candidate must reach to be a duplicate.
    neardup_verify: float = 0.8
    neardup_shingle_chars: int = 5
    neardup_permutations: int = 128
    # LSH bands; 0 chooses bands and rows for the threshold as datasketch does.
    neardup_bands: int = 0

    def active_stages(self) -> list[str]:
        """The stages that run, by their current names (older names are accepted)."""
        skip = {canonical_stage_name(name) for name in self.skip}
        return [canonical_stage_name(name) for name in self.stages if canonical_stage_name(name) not in skip]

    def effective_jobs(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    def output_fingerprint(self) -> str:
        """Hash of everything that changes the output of a document."""
        data = {name: getattr(self, name) for name in OUTPUT_FIELDS}
        data["version"] = __version__
        if self.parquet:  # only when set: the fingerprints of other runs stay what they were
            data.update(parquet=True, id_field=self.id_field)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, **changes: Any) -> Settings:
        """A copy with the given fields changed (``None`` values leave a field as it is)."""
        data = self.to_dict()
        for key, value in changes.items():
            if value is None:
                continue
            if key not in data:
                raise SettingsError(f"unknown setting {key!r}")
            data[key] = value
        return Settings(**data)


SETTINGS_FILE = "cleankit.toml"
PYPROJECT_FILE = "pyproject.toml"


def find_settings_file(start: Path) -> Path | None:
    """The settings file for a command run in ``start``, found as ruff finds its own: in
    ``start`` and then each parent folder, the first ``cleankit.toml``, or ``pyproject.toml``
    that has a ``[tool.cleankit]`` table (one without it is passed over)."""
    for folder in (start, *start.parents):
        candidate = folder / SETTINGS_FILE
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_FILE
        if pyproject.is_file() and "cleankit" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: settings file not found") from exc
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc


def load_settings(path: Path | None) -> Settings:
    """Defaults, overlaid by a TOML settings file: ``path``, or when None the file
    :func:`find_settings_file` finds from the current folder (none: the defaults).

    A ``pyproject.toml`` holds the settings in ``[tool.cleankit]`` (``[tool.cleankit.clean]``
    or its keys directly, and ``[tool.cleankit.stage.NAME]``)."""
    if path is None:
        path = find_settings_file(Path.cwd())
        if path is None:
            return Settings()
    data = _read_toml(path)
    if path.name == PYPROJECT_FILE:
        tool = data.get("tool", {}).get("cleankit")
        if tool is None:
            raise SettingsError(f"{path}: no [tool.cleankit] table")
        return settings_from_dict(tool, f"{path} [tool.cleankit]")
    return settings_from_dict(data, str(path))


def settings_from_dict(data: dict[str, Any], origin: str = "settings") -> Settings:
    """Read ``[clean]`` (or top-level keys) and ``[stage.NAME]`` tables."""
    known = {f.name: f for f in fields(Settings)}
    if "clean" in data:
        section = data["clean"]
        stray = sorted(key for key in data if key not in ("clean", "stage"))
        if stray:
            raise SettingsError(
                f"{origin}: unknown table or key {stray[0]!r} (settings go in [clean] and [stage.NAME])"
            )
        if not isinstance(section, dict):
            raise SettingsError(f"{origin}: clean must be a table ([clean])")
    else:
        section = {k: v for k, v in data.items() if k != "stage"}
    values: dict[str, Any] = {}
    for key, value in section.items():
        key = LEGACY_KEYS.get(key, key)
        if key not in known or key == "stage_options":
            raise SettingsError(f"{origin}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        default = getattr(Settings(), key)
        expected = (int, float) if isinstance(default, float) else type(default)
        if isinstance(value, bool) and not isinstance(default, bool):
            expected = type(None)  # TOML true is not a number of jobs
        if default is not None and not isinstance(value, expected):
            raise SettingsError(f"{origin}: {key} must be {type(default).__name__}, not {type(value).__name__}")
        if key == "encoding" and not isinstance(value, str):
            raise SettingsError(f"{origin}: encoding must be str, not {type(value).__name__}")
        if isinstance(default, list) and not all(isinstance(item, str) for item in value):
            raise SettingsError(f"{origin}: {key} must be a list of strings")
        values[key] = float(value) if isinstance(default, float) else value
    stage_options = data.get("stage", {})
    if not isinstance(stage_options, dict) or not all(isinstance(v, dict) for v in stage_options.values()):
        raise SettingsError(f"{origin}: [stage.NAME] tables must hold options")
    values["stage_options"] = stage_options
    settings = Settings(**values)
    validate(settings, origin)
    return settings


def validate(settings: Settings, origin: str = "settings") -> None:
    """Check the settings' own values, stage names, and the names and types of stage options
    (what a stage makes of its options' values is checked when the pipeline is built,
    :meth:`cleankit.core.pipeline.Pipeline.from_settings`)."""
    if settings.jsonl and settings.parquet:
        raise SettingsError(f"{origin}: jsonl and parquet are two input formats; choose one")
    if settings.document_seconds < 0:
        raise SettingsError(f"{origin}: document_seconds must be >= 0 (0: no limit), not {settings.document_seconds}")
    for name in ("neardup_threshold", "neardup_verify"):
        if not 0.0 < getattr(settings, name) <= 1.0:
            raise SettingsError(f"{origin}: {name} must be in (0, 1], not {getattr(settings, name)}")
    if settings.neardup_shingle_chars < 1 or settings.neardup_permutations < 2:
        raise SettingsError(f"{origin}: neardup_shingle_chars must be >= 1 and neardup_permutations >= 2")
    if not 0 <= settings.neardup_bands <= settings.neardup_permutations:
        raise SettingsError(f"{origin}: neardup_bands must be between 0 and neardup_permutations")
    if settings.jobs < 0:
        raise SettingsError(f"{origin}: jobs must be 0 (one worker per core) or more, not {settings.jobs}")
    if settings.max_bytes < 1:
        raise SettingsError(f"{origin}: max_bytes must be at least 1, not {settings.max_bytes}")
    if not settings.text_field or not settings.jsonl_status_field:
        raise SettingsError(f"{origin}: text_field and jsonl_status_field must name a JSON field")
    if settings.text_field == settings.jsonl_status_field:
        raise SettingsError(f"{origin}: text_field and jsonl_status_field must be different fields")
    if settings.encoding is not None:
        try:
            codecs.lookup(settings.encoding)
        except LookupError as exc:
            raise SettingsError(f"{origin}: encoding {settings.encoding!r} is not an encoding Python knows") from exc
    known = stage_registry()
    for name in [*settings.stages, *settings.skip, *settings.stage_options]:
        if canonical_stage_name(name) not in known:
            raise SettingsError(f"{origin}: unknown stage {name!r} (known: {', '.join(known)})")
    for name, options in settings.stage_options.items():
        try:
            check_stage_options(canonical_stage_name(name), options)
        except SettingsError as exc:
            raise SettingsError(f"{origin}: {exc}") from exc

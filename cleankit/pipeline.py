"""The pipeline: decoding, then a list of stages built from settings.

Stages register a factory in :data:`STAGE_FACTORIES` under their name; the settings'
``stages`` list says which run and in what order, ``skip`` switches one off, and
``stage_options[name]`` is passed to the factory as keyword arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cleankit.boilerplate import BoilerplateStage
from cleankit.dedup import DedupStage
from cleankit.document import Document
from cleankit.encoding import detect_and_decode, sniff_binary
from cleankit.hygiene import HygieneStage
from cleankit.markup import MarkupStage
from cleankit.mojibake import MojibakeStage
from cleankit.paragraphs import ParagraphStage
from cleankit.provenance import RestoreError, restore_text
from cleankit.punctuation import PunctuationStage
from cleankit.reflow import ReflowStage
from cleankit.script import ScriptStage
from cleankit.settings import Settings, SettingsError
from cleankit.stage import Stage

STAGE_FACTORIES: dict[str, Callable[..., Stage]] = {
    "mojibake": MojibakeStage,
    "hygiene": HygieneStage,
    "script": ScriptStage,
    "punctuation": PunctuationStage,
    "markup": MarkupStage,
    "boilerplate": BoilerplateStage,
    "paragraphs": ParagraphStage,
    "reflow": ReflowStage,
    "dedup": DedupStage,
}


class InputError(ValueError):
    """An input that cannot be cleaned (empty, binary, too large, ...): names the problem."""


def build_stages(settings: Settings) -> list[Stage]:
    stages: list[Stage] = []
    for name in settings.active_stages():
        factory = STAGE_FACTORIES.get(name)
        if factory is None:
            raise SettingsError(f"unknown stage {name!r} (known: {', '.join(STAGE_FACTORIES)})")
        options: dict[str, Any] = settings.stage_options.get(name, {})
        try:
            stages.append(factory(**options))
        except TypeError as exc:
            raise SettingsError(f"stage {name!r}: bad options {options!r}: {exc}") from exc
    return stages


@dataclass
class Pipeline:
    settings: Settings
    stages: list[Stage]

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        return cls(settings, build_stages(settings))

    def clean_bytes(self, raw: bytes, source: str = "-", doc_id: str | None = None) -> Document:
        """Decode and clean one file's bytes. Raises :class:`InputError` for non-text input."""
        if not raw:
            raise InputError("empty file (0 bytes)")
        if len(raw) > self.settings.max_bytes:
            raise InputError(f"file is {len(raw)} bytes, over the max_bytes limit of {self.settings.max_bytes}")
        kind = sniff_binary(raw)
        if kind and not self.settings.encoding:
            raise InputError(f"not a text document: looks like {kind}")
        text, info = detect_and_decode(raw, self.settings.encoding)
        digest = hashlib.sha256(raw).hexdigest()
        document = Document(
            id=doc_id or digest[:16], source=source, text=text, sha256=digest, size=len(raw), encoding=info
        )
        return self.run(document, original=text)

    def clean_text(self, text: str, source: str = "-", doc_id: str | None = None) -> Document:
        document = Document.from_text(text, source, doc_id)
        return self.run(document, original=text)

    def run(self, document: Document, original: str | None = None) -> Document:
        for stage in self.stages:
            document = stage.run(document)
        if self.settings.verify_restore and original is not None:
            rebuilt = restore_text(document.text, document.edits)
            if rebuilt != original:
                raise RestoreError(f"{document.source}: restore check failed; a stage logged its edits wrongly")
        return document

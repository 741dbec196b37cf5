"""The pipeline: decoding, then the list of stages the settings name, then a restore check.

Stages are found in the registry (:mod:`cleankit.core.stage`); the settings' ``stages``
list says which run and in what order, ``skip`` switches one off, and
``stage_options[name]`` is passed to the stage's constructor as keyword arguments. A
pipeline is built once per run (rule packs compiled, converters opened) and shared by
every worker.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from cleankit.core.budget import OverBudget, check_deadline, document_deadline
from cleankit.core.corpus_pass import CorpusPass
from cleankit.core.document import Document, EncodingInfo
from cleankit.core.errors import ConfigError, DocumentTimeout, InputError, SettingsError, StageBug
from cleankit.core.provenance import restore_log
from cleankit.core.settings import Settings
from cleankit.core.stage import NeedsCorpus, Stage, build_stage, canonical_stage_name
from cleankit.io.encoding import decode, detect_and_decode, sniff_binary


def build_stages(settings: Settings) -> list[Stage]:
    stages: list[Stage] = []
    options = {canonical_stage_name(name): value for name, value in settings.stage_options.items()}
    for name in settings.active_stages():
        stages.append(build_stage(name, options.get(name, {})))
    return stages


@dataclass
class Pipeline:
    settings: Settings
    stages: list[Stage]

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        """Build every stage; a stage refusing its options raises :class:`ConfigError`."""
        try:
            return cls(settings, build_stages(settings))
        except ConfigError:
            raise
        except ValueError as exc:  # a stage's own option check (e.g. learn_by)
            raise SettingsError(str(exc)) from exc

    def corpus_passes(self) -> list[CorpusPass]:
        """The passes the stages need over the whole corpus (site learning)."""
        passes: list[CorpusPass] = []
        for stage in self.stages:
            if isinstance(stage, NeedsCorpus):
                found = stage.corpus_pass(self.settings)
                if found is not None:
                    passes.append(found)
        return passes

    def clean_bytes(
        self, raw: bytes, source: str = "-", doc_id: str | None = None, decoding: EncodingInfo | None = None
    ) -> Document:
        """Decode and clean one file's bytes. Raises :class:`InputError` for non-text input,
        and for a document over its time budget (``document_seconds``). ``decoding``: the
        encoding :func:`detect` chose for these very bytes, under these settings, earlier (the
        site-learning survey): the bytes are decoded with it, not detected again."""
        if not raw:
            raise InputError("empty file (0 bytes)")
        if len(raw) > self.settings.max_bytes:
            raise InputError(f"file is {len(raw)} bytes, over the max_bytes limit of {self.settings.max_bytes}")
        kind = sniff_binary(raw)
        if kind and not self.settings.encoding:
            raise InputError(f"not a text document: looks like {kind}")
        step = "decoding"
        started = time.process_time()
        try:
            with document_deadline(self.settings.document_seconds):
                if decoding is None:
                    text, info = detect_and_decode(raw, self.settings.encoding)
                else:
                    text, info = decode(raw, decoding), decoding
                digest = hashlib.sha256(raw).hexdigest()
                document = Document(
                    id=doc_id or digest[:16], source=source, text=text, sha256=digest, size=len(raw), encoding=info
                )
                step = ""
                return self.run(document, original=text, started=started)
        except OverBudget:
            raise self._over_budget(step or "the restore check", started) from None

    def clean_text(self, text: str, source: str = "-", doc_id: str | None = None) -> Document:
        started = time.process_time()
        try:
            with document_deadline(self.settings.document_seconds):
                document = Document.from_text(text, source, doc_id)
                return self.run(document, original=text, started=started)
        except OverBudget:
            raise self._over_budget("the restore check", started) from None

    def run(self, document: Document, original: str | None = None, started: float | None = None) -> Document:
        """The stages, then the restore check. Under a budget (:func:`document_deadline`) the
        clock is also read between stages; a stage that overruns fails the document, named."""
        started = time.process_time() if started is None else started
        for stage in self.stages:
            try:
                document = stage.run(document)
                check_deadline()
            except OverBudget:
                raise self._over_budget(f"stage {stage.name!r}", started) from None
        if self.settings.verify_restore and original is not None:
            rebuilt = restore_log(document.text, document.log)
            if rebuilt != original:
                raise StageBug(f"{document.source}: restore check failed; a stage logged its edits wrongly")
        return document

    def _over_budget(self, where: str, started: float) -> DocumentTimeout:
        # Read where the run stopped, not the budget: the timer fires after it is spent.
        spent = time.process_time() - started
        return DocumentTimeout(
            f"over the time budget of {self.settings.document_seconds:g} CPU s per document (document_seconds): "
            f"stopped in {where} after {spent:.1f} CPU s"
        )

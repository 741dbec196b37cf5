"""One error hierarchy, so that each kind of failure is reported as what it is.

- :class:`InputError` — a document that cannot be cleaned (empty, binary, too large, not
  decodable, a bad JSON Lines line, over its time budget). It fails that document; the run
  goes on.
- :class:`ConfigError` — settings, rule packs or an index that cannot be used. Nothing runs.
- :class:`RestoreError` — a clean text and its provenance record do not fit together.
- :class:`OutputError` — the output folder cannot be written (disk full, read-only, not a
  folder) or is in use by another run. The run stops; a rerun resumes.
- :class:`StageBug` — a stage broke the edit-log contract (overlapping or wrong edits, a
  restore check that fails). This is cleankit's fault, not the input's, and is reported
  as an internal error.

Every class derives from :class:`CleankitError`, and (for callers written against 0.1)
from :class:`ValueError`.
"""

from __future__ import annotations


class CleankitError(ValueError):
    """Base of every error cleankit raises on purpose."""


class InputError(CleankitError):
    """An input that cannot be cleaned (empty, binary, too large, ...): names the problem."""


class DecodeError(InputError):
    """Bytes that cannot be decoded as text under the given (forced) encoding."""


class DocumentTimeout(InputError):
    """A document that ran over its time budget (``document_seconds``); names the stage."""


class ConfigError(CleankitError):
    """Settings, a rule pack or an index that cannot be used."""


class SettingsError(ConfigError):
    """A settings file or value that cannot be used."""


class RuleError(ConfigError):
    """A rule pack that cannot be used; the message names the file and the rule."""


class UsageError(CleankitError):
    """The run as asked cannot be done at all (exit code 2)."""


class RestoreError(CleankitError):
    """The clean text and the provenance record do not fit together."""


class StageBug(CleankitError):
    """A stage logged its edits wrongly: a bug in cleankit, not in the input."""


class EditConflict(StageBug):
    """Edits that overlap, or whose old text does not match the span they name."""


class AuditError(CleankitError):
    """An output folder or record that cannot be audited; the message names it."""


class NearDupIndexError(ConfigError):
    """The near-duplicate index file cannot be used (other parameters, corrupt file): names the file."""


class OutputError(CleankitError):
    """The output folder cannot be written (disk full, read-only, a file, no permission): the
    message names the path and the cause. Not the fault of any one document: the run stops."""


class OutputBusy(OutputError):
    """Another run is writing into the same output folder (it holds the folder's lock)."""

"""cleankit: clean, canonical, deduplicated text from scraped Chinese web pages, with
a provenance log from which every original can be rebuilt exactly.

The names below are loaded on first use, so ``import cleankit`` (and ``cleankit
--version``) costs nothing: the stages and their libraries load only when a pipeline is
built.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Document": "cleankit.core.document",
    "Edit": "cleankit.core.document",
    "EncodingInfo": "cleankit.core.document",
    "InputError": "cleankit.core.errors",
    "CleankitError": "cleankit.core.errors",
    "Pipeline": "cleankit.core.pipeline",
    "Settings": "cleankit.core.settings",
    "load_settings": "cleankit.core.settings",
    "restore_from_record": "cleankit.core.provenance",
    "restore_bytes_from_record": "cleankit.core.provenance",
}

__all__ = [
    "CleankitError",
    "Document",
    "Edit",
    "EncodingInfo",
    "InputError",
    "Pipeline",
    "Settings",
    "__version__",
    "load_settings",
    "restore_bytes_from_record",
    "restore_from_record",
]

if TYPE_CHECKING:
    from cleankit.core.document import Document, Edit, EncodingInfo
    from cleankit.core.errors import CleankitError, InputError
    from cleankit.core.pipeline import Pipeline
    from cleankit.core.provenance import restore_bytes_from_record, restore_from_record
    from cleankit.core.settings import Settings, load_settings


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cleankit' has no attribute {name!r}")
    return getattr(import_module(module), name)

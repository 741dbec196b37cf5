"""cleankit: clean, canonical, deduplicated text from scraped Chinese web pages, with
a provenance log from which every original can be rebuilt exactly."""

__version__ = "0.1.0"

from cleankit.document import Document, Edit, EncodingInfo
from cleankit.pipeline import InputError, Pipeline
from cleankit.provenance import restore_bytes_from_record, restore_from_record
from cleankit.settings import Settings, load_settings

__all__ = [
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

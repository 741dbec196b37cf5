"""Golden outputs for the seed pages: any change in what cleankit makes of them shows here.

Regenerate after an intended change with ``CLEANKIT_UPDATE_GOLDEN=1 pytest tests/test_golden.py``
and review the diff of ``tests/golden/`` like any other change.
"""

from __future__ import annotations

import os

import pytest
from conftest import GOLDEN, SAMPLES

from cleankit import Pipeline, Settings

SAMPLE_FILES = sorted(SAMPLES.iterdir())


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[p.name[:3] for p in SAMPLE_FILES])
def test_sample_matches_golden(sample) -> None:
    document = Pipeline.from_settings(Settings()).clean_bytes(sample.read_bytes(), source=sample.name)
    golden = GOLDEN / sample.name
    if os.environ.get("CLEANKIT_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(document.text, encoding="utf-8")
    assert document.text == golden.read_text(encoding="utf-8")

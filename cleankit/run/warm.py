"""What the stages load on first use, loaded once in the process that forks a run's workers
(the executor's warm nursery, else the parent) when the run has more than one worker, so that
the workers inherit it instead of each loading its own copy.

One process (``-j 1``) loads each of these once, when the first document needs it. With
``-j N`` every worker of every pool (the site-learning survey, the cleaning, the
near-duplicate rounds) is a fresh fork of the parent, so each paid the load again: on the
2,000-page bench crawl each cleaning worker spent ~1.5 s of CPU on pypinyin's dictionaries,
the word model, ftfy, OpenCC's converters and compiling the rule patterns it used — CPU a
one-worker run spends once. Loading is all this does: nothing a document's cleaning decides
depends on whether a table was loaded before it or for it, so outputs are the same bytes.

:func:`warm_shared` loads what every document needs (the character model, the ``t2s``
converter of the comparison views), before the first pool forks; :func:`warm_cleaning` the
rest, while the survey workers run (the warm nursery between its forks; without one, the parent
in a thread beside its feeding of the survey workers). The second set is loaded only for a
run of at least :data:`WARM_ALL_FILES` files: a few documents may never need a gloss check
or a repair's word model, and loading them for nothing costs about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cleankit.core.stage import Warms

if TYPE_CHECKING:
    from cleankit.core.pipeline import Pipeline

# A run with at least this many files loads every table a stage may need before forking its
# cleaning workers (on the bench crawl, each was needed within its first 510 pages).
WARM_ALL_FILES = 500


def wanted(todo: int) -> tuple[bool, bool]:
    """For a run with ``todo`` files to clean: whether to load :func:`warm_shared`'s tables
    (two files or more: one file forks no workers) and :func:`warm_cleaning`'s
    (:data:`WARM_ALL_FILES` or more) before forking its workers."""
    return todo >= 2, todo >= WARM_ALL_FILES


def warm_shared() -> None:
    """Load what decoding and the comparison views need for every document, whatever the
    pipeline."""
    from cleankit.text.cjk import opencc_converter
    from cleankit.text.plausibility import chinese_model

    chinese_model()
    opencc_converter("t2s")


def warm_cleaning(pipeline: Pipeline) -> None:
    """Load what the enabled stages load when a document first needs it: each stage that
    offers :class:`~cleankit.core.stage.Warms` says what that is."""
    for stage in pipeline.stages:
        if isinstance(stage, Warms):
            stage.warm()

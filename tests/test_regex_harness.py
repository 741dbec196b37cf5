"""The timing harness of ``tests/test_regex_safety.py`` checked on patterns it must refuse.

A file of its own: it is one test of several minutes (three patterns of refused shapes, each
timed at n and 2n until the ratio is unmistakable), and under ``--dist loadfile`` it ran after
the 200 other tests of that file on one worker while the other worker sat idle at the end.
"""

from __future__ import annotations

import regex
from test_regex_safety import LARGE_CAP, scaling

from cleankit.stages.boilerplate.regex_safety import pattern_problems


def test_the_timing_catches_what_the_checker_refuses() -> None:
    # The harness itself: patterns of each refused shape do scale badly on its inputs.
    for text in (r"(\w|\d)+$", r"\d*\d*\d*x$", r"(a+)+b"):
        assert pattern_problems(text)
        small, large, n, shape = scaling(regex.compile(text, regex.VERSION0), [])
        # Stopped at the cap counts too: the CI run of c38c081 measured 1.33 s at n=512 for
        # \d*\d*\d*x$ and stopped 2n at 4.0 s, which is not "more than 3x" only because of the cap.
        assert large > 3 * small or large >= LARGE_CAP, (text, small, large, n, shape)

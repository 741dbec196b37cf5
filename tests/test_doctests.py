"""Every example written in a docstring of the package runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cleankit

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(cleankit.__path__, "cleankit.")
    if info.name != "cleankit.__main__"  # importing it runs the command line
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_the_walk_finds_examples() -> None:
    attempted = sum(doctest.testmod(importlib.import_module(name)).attempted for name in MODULES)
    assert attempted >= 16  # the mojibake repairs, the text helpers, markup blocks

# Types of the compiled inner loops (cleankit/_speedups.c); each mirrors a Python reference.
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from typing_extensions import Buffer

_P = TypeVar("_P", bound=tuple[Any, ...])

def total_logp(
    text: str,
    score: float,
    pairs: dict[str, float],
    unseen: dict[str, float],
    bigrams: dict[str, int],
    pair_logp: Callable[[str, str], float],
    unseen_logp: Callable[[str], float],
) -> float: ...
def anchor_matches(
    view: str,
    anchors: dict[str, list[tuple[int, int]]],
    kept_views: dict[int, str],
    offsets: Iterable[int],
    size: int,
) -> list[tuple[int, int, int, int, int]]: ...
def repeated_offsets(joined: str, lengths: list[int], size: int) -> list[list[int]]: ...
def min_hashes(hashes: Buffer, a: Buffer, b: Buffer, result: Buffer) -> None: ...
def feed(context: tuple[object, ...], path: _P, data: list[int], keep: int) -> list[_P]: ...
def grow(
    context: tuple[object, ...], paths: list[_P], alternatives: list[list[int]], feed_keep: int, keep: int
) -> list[_P]: ...

"""MinHash signatures of canonical texts, computed with numpy.

They are exactly what datasketch computes for the same shingle hashes
(``MinHash(scheme="affine32").update_batch``; a test checks it) and can be used as
datasketch ``LeanMinHash``; LSH banding follows datasketch's ``MinHashLSH`` parameters for
the threshold. Each band is stored as one 64-bit key in the index.

datasketch itself is imported only when its answers are not in the start-up cache
(:mod:`cleankit.io.cache`): importing it imports SciPy (for ``_optimal_param``'s integrals),
which cost more than everything else a one-page ``cleankit clean -`` does. The two things
taken from it, the permutations of ``MinHash(seed, scheme)`` and the banding of
``MinHashLSH``'s ``_optimal_param``, are kept on disk under a hash of datasketch's source.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import xxhash

from cleankit.io import cache
from cleankit.speedups import compiled as _compiled
from cleankit.text.rolling_hash import MULTIPLIER, window_hashes

if TYPE_CHECKING:
    from datasketch import LeanMinHash

SEED = 1
SCHEME = "affine32"
# Shingles per block of the min-hash product: 128 x 512 uint32 (256 kB) stays in the CPU's cache
# between the multiply, the add and the minimum (2,048: 8 % slower on the benchmark crawl).
BLOCK = 512


@dataclass(frozen=True)
class SignatureParams:
    shingle_chars: int = 5
    permutations: int = 128
    threshold: float = 0.5
    bands: int = 0

    def banding(self) -> tuple[int, int]:
        """(bands, rows per band): as datasketch's MinHashLSH picks them for the threshold."""
        if self.bands:
            return self.bands, self.permutations // self.bands
        return _banding(self.threshold, self.permutations)

    def to_meta(self) -> dict[str, Any]:
        bands, rows = self.banding()
        return {"shingle_chars": self.shingle_chars, "permutations": self.permutations, "bands": bands, "rows": rows}


@lru_cache(maxsize=16)
def _banding(threshold: float, permutations: int) -> tuple[int, int]:
    def compute() -> list[int]:
        from datasketch.lsh import _optimal_param

        return list(_optimal_param(threshold, permutations, 0.5, 0.5))

    def valid(value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) == 2
            and all(type(v) is int and v >= 1 for v in value)
            and value[0] * value[1] <= permutations
        )

    fingerprint = _datasketch_fingerprint()
    if fingerprint is None:
        bands, rows = compute()
    else:
        key = cache.key_of(fingerprint, "banding", repr(threshold), str(permutations))
        bands, rows = cache.cached("minhash-banding", key, compute, valid)
    return bands, rows


@lru_cache(maxsize=8)
def _permutations(permutations: int) -> tuple[np.ndarray, np.ndarray]:
    def compute() -> list[list[int]]:
        from datasketch import MinHash

        a, b = MinHash(num_perm=permutations, seed=SEED, scheme=SCHEME).permutations
        return [[int(v) for v in a], [int(v) for v in b]]

    def valid(value: Any) -> bool:
        return (
            isinstance(value, list)
            and len(value) == 2
            and all(
                isinstance(part, list)
                and len(part) == permutations
                and all(type(v) is int and 0 <= v <= 0xFFFFFFFF for v in part)
                for part in value
            )
        )

    fingerprint = _datasketch_fingerprint()
    if fingerprint is None:
        a, b = compute()
    else:
        key = cache.key_of(fingerprint, "permutations", str(SEED), SCHEME, str(permutations), np.__version__)
        a, b = cache.cached("minhash-permutations", key, compute, valid)
    return np.array(a, dtype=np.uint32).reshape(-1, 1), np.array(b, dtype=np.uint32).reshape(-1, 1)


def _datasketch_fingerprint() -> str | None:
    """A hash of the datasketch modules the cached answers come from (found without importing
    datasketch), or None when they cannot be read (nothing is cached then)."""
    return cache.source_fingerprint("datasketch", "__init__.py", "minhash.py", "lsh.py", "hashfunc.py")


def shingle_hashes(view: str, size: int) -> np.ndarray:
    """32-bit polynomial hash of every ``size``-character shingle (the whole text if shorter)."""
    points = np.frombuffer(view.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32)
    if len(points) < size:
        size = len(points)  # a text shorter than a shingle is one shingle (none if empty)
    return window_hashes(points, size) if size else np.zeros(0, dtype=np.uint32)


def shingle_hash(shingle: bytes) -> int:
    """The same hash for one shingle (UTF-32-LE bytes), as a datasketch ``hashfunc``."""
    value = 0
    for point in np.frombuffer(shingle, dtype=np.uint32):
        value = (value * MULTIPLIER + int(point)) & 0xFFFFFFFF
    return value


def _fmix32(values: np.ndarray) -> np.ndarray:
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def signature(view: str, params: SignatureParams) -> np.ndarray:
    """MinHash signature (uint32, ``permutations`` values) of a canonical text."""
    a, b = _permutations(params.permutations)
    hashes = _fmix32(shingle_hashes(view, params.shingle_chars))
    result = np.full(params.permutations, np.iinfo(np.uint32).max, dtype=np.uint32)
    if _compiled is not None:
        _compiled.min_hashes(hashes, a, b, result)
        return result
    return _min_hashes_python(hashes, a, b, result)


def _min_hashes_python(hashes: np.ndarray, a: np.ndarray, b: np.ndarray, result: np.ndarray) -> np.ndarray:
    """:func:`signature`'s minimum of ``(a * h + b) mod 2**32`` over the shingle hashes, per
    permutation, into ``result``, in numpy blocks (the reference for ``cleankit._speedups.min_hashes``)."""
    buffer = np.empty((len(result), min(BLOCK, max(1, len(hashes)))), dtype=np.uint32)
    for start in range(0, len(hashes), BLOCK):
        block = hashes[start : start + BLOCK]
        out = buffer[:, : len(block)]
        np.multiply(a, block, out=out)
        np.add(out, b, out=out)
        np.minimum(result, out.min(axis=1), out=result)
    return result


def band_keys(sig: np.ndarray, params: SignatureParams) -> list[int]:
    """One signed 64-bit key per LSH band (what SQLite stores)."""
    bands, rows = params.banding()
    data = sig.astype("<u4")
    return [xxhash.xxh64_intdigest(data[i * rows : (i + 1) * rows].tobytes()) - (1 << 63) for i in range(bands)]


def lean(sig: np.ndarray) -> LeanMinHash:
    from datasketch import LeanMinHash

    return LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME)


def params_from(settings: Any) -> SignatureParams:
    return SignatureParams(
        settings.neardup_shingle_chars,
        settings.neardup_permutations,
        settings.neardup_threshold,
        settings.neardup_bands,
    )

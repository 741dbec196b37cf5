"""One polynomial rolling hash over code points, vectorised with numpy.

Used by the repeats stage (64-bit anchors: which windows of a page occur twice) and by the
near-duplicate signatures (32-bit shingles, as datasketch hashes them). Arithmetic wraps at
the array's width, so the 32-bit hash of a window is the 64-bit one modulo 2**32.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MULTIPLIER = 1_000_003


def window_hashes(points: np.ndarray, size: int, dtype: np.dtype | type | None = None) -> np.ndarray:
    """Hash of every ``size``-long window of ``points`` (one per start offset), in ``dtype``
    (default: that of ``points``; a wider one lets ``points`` stay narrow, half the memory
    of a page's code points as 64-bit): ``h = h * MULTIPLIER + point`` over the window. In
    place: no temporary array per window character."""
    import numpy as np

    count = len(points) - size + 1
    hashes = np.zeros(max(count, 0), dtype=dtype or points.dtype)
    multiplier = hashes.dtype.type(MULTIPLIER)
    for offset in range(size):
        np.multiply(hashes, multiplier, out=hashes)
        np.add(hashes, points[offset : offset + count], out=hashes)
    return hashes

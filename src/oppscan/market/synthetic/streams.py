"""Counter-based random streams: the draw for bar ``i`` is a function of (seed, stream, i) only.

The synthetic market is one continuous market per seed, so the random numbers behind any bar
must not depend on which snapshot asks for it or how far back that snapshot looks. Philox is a
counter-based generator: its output block for counter ``c`` depends on its key and ``c`` alone,
and one block is four 64-bit words. A stream gives each index ``width`` words (a multiple of
four), so reading indices ``[start, start + count)`` sets the counter to ``start * width / 4``
and reads ``count * width`` words: the same words whatever ``start`` and ``count`` were.

Uniforms take the top 53 bits of a word, centred in their cell so they are never 0 or 1;
normals are the inverse normal CDF of a uniform (one word per normal, unlike ziggurat
sampling, whose rejections would break the one-index-one-word correspondence).
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt

from oppscan.market.snapshot import FloatArray

_MASK64 = (1 << 64) - 1
_TO_UNIT = 1.0 / float(1 << 53)


def stream_key(seed: int, name: str, index: int = 0) -> npt.NDArray[np.uint64]:
    """The Philox key of one stream: the seed, and a stable hash of its name and index."""
    # crc32, not hash(): Python salts str hashes per process, and a stream is the same everywhere.
    # An explicit uint64 array: numpy reads a list of ints above 2**63 through float64, which
    # would give neighbouring indices the same key.
    word = (zlib.crc32(name.encode()) << 32) | (index & 0xFFFFFFFF)
    return np.array([seed & _MASK64, word], dtype=np.uint64)


def words(
    key: npt.NDArray[np.uint64], start: int, count: int, width: int
) -> npt.NDArray[np.uint64]:
    """``width`` raw 64-bit words for each index in ``[start, start + count)``, shape
    ``(count, width)``; ``width`` is a multiple of 4 (one Philox block)."""
    if width % 4 or start < 0 or count < 0:
        raise ValueError(f"bad stream window: start={start} count={count} width={width}")
    blocks = width // 4
    generator = np.random.Philox(key=key, counter=[start * blocks, 0, 0, 0])
    raw: npt.NDArray[np.uint64] = generator.random_raw(count * width)
    return raw.reshape(count, width)


def uniforms(raw: npt.NDArray[np.uint64]) -> FloatArray:
    """Uniforms in the open interval (0, 1), one per word."""
    out: FloatArray = ((raw >> np.uint64(11)).astype(np.float64) + 0.5) * _TO_UNIT
    return out


def normals(raw: npt.NDArray[np.uint64]) -> FloatArray:
    """Standard normals, one per word."""
    from scipy.special import ndtri  # imported on use, like the rest of scipy in this package

    out: FloatArray = ndtri(uniforms(raw))
    return out


def half_normals(raw: npt.NDArray[np.uint64]) -> FloatArray:
    """``|N(0, 1)|``, one per word."""
    from scipy.special import ndtri

    out: FloatArray = ndtri(0.5 + 0.5 * uniforms(raw))
    return out

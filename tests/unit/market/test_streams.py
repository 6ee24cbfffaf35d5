"""Counter-based streams: a bar's draw depends on its index, never on the window asked for."""

from __future__ import annotations

import numpy as np

from oppscan.market.synthetic.streams import half_normals, normals, stream_key, uniforms, words


def test_a_window_reads_the_same_words_whatever_its_start_and_length() -> None:
    key = stream_key(7, "hour", 3)
    whole = words(key, 100, 50, 8)
    assert np.array_equal(words(key, 120, 5, 8), whole[20:25])
    assert np.array_equal(words(key, 149, 1, 8), whole[-1:])


def test_neighbouring_streams_and_seeds_differ() -> None:
    # Keys above 2**63 once went through float64 and collapsed: symbols 0 and 1 shared draws.
    first = words(stream_key(0, "day", 0), 0, 4, 4)
    assert not np.array_equal(first, words(stream_key(0, "day", 1), 0, 4, 4))
    assert not np.array_equal(first, words(stream_key(1, "day", 0), 0, 4, 4))
    assert not np.array_equal(first, words(stream_key(0, "hour", 0), 0, 4, 4))


def test_transforms_have_the_right_distribution() -> None:
    raw = words(stream_key(3, "check"), 0, 50_000, 4)
    u = uniforms(raw)
    assert u.min() > 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005
    z = normals(raw)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    h = half_normals(raw)
    assert h.min() >= 0.0 and abs(h.mean() - np.sqrt(2 / np.pi)) < 0.01

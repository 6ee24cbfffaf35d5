"""The snapshot codec, the replay file it writes, and ``oppscan market record``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oppscan.market.codec import (
    SnapshotFormatError,
    decode_snapshot,
    encode_snapshot,
    read_snapshot,
    write_snapshot,
)
from oppscan.market.replay import ReplaySource
from oppscan.market.snapshot import MarketSnapshot
from oppscan.market.synthetic import SyntheticSource


@pytest.fixture(scope="module")
def snapshot() -> MarketSnapshot:
    return SyntheticSource(21).build()


def assert_equal_snapshots(a: MarketSnapshot, b: MarketSnapshot) -> None:
    assert (a.source, a.as_of_ms, a.exchanges, a.symbols) == (
        b.source,
        b.as_of_ms,
        b.exchanges,
        b.symbols,
    )
    assert a.tickers == b.tickers and a.funding == b.funding and a.futures == b.futures
    assert a.fees == b.fees and a.risk_free_rate == b.risk_free_rate
    assert a.ohlcv.keys() == b.ohlcv.keys()
    for key, bars in a.ohlcv.items():
        for column in ("ts", "open", "high", "low", "close", "volume"):
            left, right = getattr(bars, column), getattr(b.ohlcv[key], column)
            assert left.dtype == right.dtype and np.array_equal(left, right), (key, column)
    assert a.books.keys() == b.books.keys()
    for venue, book in a.books.items():
        assert np.array_equal(book.bids, b.books[venue].bids)
        assert np.array_equal(book.asks, b.books[venue].asks)
    assert a.options.keys() == b.options.keys()
    for venue, chain in a.options.items():
        other = b.options[venue]
        assert chain.underlying_price == other.underlying_price
        for column in ("strikes", "expiries_ms", "is_call", "bids", "asks", "iv"):
            left, right = getattr(chain, column), getattr(other, column)
            assert left.dtype == right.dtype and np.array_equal(left, right), (venue, column)


def test_round_trip_is_exact(snapshot: MarketSnapshot) -> None:
    assert_equal_snapshots(snapshot, decode_snapshot(encode_snapshot(snapshot)))


def test_round_trip_of_an_empty_snapshot() -> None:
    empty = MarketSnapshot(source="x", as_of_ms=1, exchanges=(), symbols=())
    assert_equal_snapshots(empty, decode_snapshot(encode_snapshot(empty)))


def test_decoded_arrays_are_contiguous_and_read_only(snapshot: MarketSnapshot) -> None:
    decoded = decode_snapshot(encode_snapshot(snapshot))
    bars = decoded.ohlcv[("binance", "BTC/USDT", "1h")]
    assert bars.close.flags.c_contiguous  # TA-Lib wants contiguous float64
    with pytest.raises(ValueError):
        bars.close[0] = 1.0  # shared between scans: nobody may write into it


def test_garbage_is_refused_plainly() -> None:
    with pytest.raises(SnapshotFormatError):
        decode_snapshot(b"definitely not a snapshot")


def test_no_pickle_in_the_format(snapshot: MarketSnapshot) -> None:
    import io
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(encode_snapshot(snapshot))).namelist()
    assert "index.npy" in names and all(n.endswith(".npy") for n in names)


async def test_replay_round_trip(snapshot: MarketSnapshot, tmp_path: Path) -> None:
    path = tmp_path / "market.npz"
    size = write_snapshot(path, snapshot)
    assert size == path.stat().st_size
    replay = ReplaySource(path)
    assert replay.universe() == snapshot.symbols
    assert replay.name.startswith("replay-")
    assert_equal_snapshots(snapshot, await replay.fetch(0))
    assert_equal_snapshots(snapshot, read_snapshot(path))
    await replay.close()


def test_record_command_writes_a_replayable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oppscan.cli.market_cmd import market_app

    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", "synthetic")
    monkeypatch.setenv("OPPSCAN_SYNTHETIC_SEED", "5")
    path = tmp_path / "recorded.npz"
    result = CliRunner().invoke(market_app, ["record", str(path)])
    assert result.exit_code == 0, result.output
    recorded = read_snapshot(path)
    assert recorded.source == "synthetic-5-40" and len(recorded.symbols) == 40

    # A source that is no file is a bad setting: one line naming it, exit code 2.
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", str(tmp_path / "missing.npz"))
    failed = CliRunner().invoke(market_app, ["record", str(tmp_path / "other.npz")])
    assert failed.exit_code == 2 and "OPPSCAN_MARKET_SOURCE" in failed.output


def test_record_into_a_missing_folder_fails_before_fetching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oppscan.cli.market_cmd import market_app

    # A source that cannot be built: reaching it would fail with its own error, not the folder's.
    monkeypatch.setenv("OPPSCAN_MARKET_SOURCE", str(tmp_path / "no-such-source.npz"))
    target = tmp_path / "missing" / "recorded.npz"
    result = CliRunner().invoke(market_app, ["record", str(target)])
    assert result.exit_code == 2, result.output
    assert "no such folder" in result.output and "OPPSCAN_MARKET_SOURCE" not in result.output
    assert not target.parent.exists()


def test_build_source_chooses_by_setting(tmp_path: Path, snapshot: MarketSnapshot) -> None:
    from oppscan.market.sources import build_source
    from oppscan.settings import Settings

    synthetic = build_source(Settings(market_source="synthetic", synthetic_seed=3))
    assert isinstance(synthetic, SyntheticSource) and synthetic.seed == 3
    path = tmp_path / "m.npz"
    write_snapshot(path, snapshot)
    assert isinstance(build_source(Settings(market_source=str(path))), ReplaySource)
    from oppscan.market.ccxt_source import CcxtSource

    ccxt_source = build_source(Settings(market_source="ccxt", exchanges=["okx"]))
    assert isinstance(ccxt_source, CcxtSource) and ccxt_source.exchange_ids == ("okx",)
    with pytest.raises(ValueError, match="synthetic"):
        build_source(Settings(market_source="nonsense"))


def test_irregular_bar_times_survive_the_round_trip() -> None:
    from oppscan.market.snapshot import Bars

    ts = np.array([0, 60_000, 180_000], dtype=np.int64)  # a missing minute
    prices = np.array([1.0, 2.0, 3.0])
    single = np.array([5], dtype=np.int64)
    snapshot = MarketSnapshot(
        source="x",
        as_of_ms=1,
        exchanges=("e",),
        symbols=("A/USDT",),
        ohlcv={
            ("e", "A/USDT", "1m"): Bars(ts, prices, prices, prices, prices, prices),
            ("e", "A/USDT", "1d"): Bars(
                single, prices[:1], prices[:1], prices[:1], prices[:1], prices[:1]
            ),
        },
    )
    assert_equal_snapshots(snapshot, decode_snapshot(encode_snapshot(snapshot)))

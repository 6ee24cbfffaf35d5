"""Snapshot <-> bytes, without pickle: one ``.npz`` of concatenated columns plus a JSON index.

The same bytes are what ``SharedMarketData`` stores in Redis and what ``oppscan market record``
writes (the replay file format). Every bar, book and option column of the snapshot is appended to
one flat array per column; the JSON index (``orjson``, which round-trips floats exactly) says
where each series starts and how long it is, and carries the scalar data (tickers, funding,
futures, fees). Decoded arrays are read-only views into those columns: snapshots are shared.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from oppscan.market.snapshot import (
    Bars,
    DatedFuture,
    Fees,
    Funding,
    MarketSnapshot,
    OptionChain,
    OrderBook,
    Ticker,
)

FORMAT_VERSION = 2
_BAR_COLUMNS = ("open", "high", "low", "close", "volume")
_OPTION_COLUMNS = ("strikes", "bids", "asks", "iv")


class SnapshotFormatError(ValueError):
    """The bytes are not a snapshot this code can read."""


def encode_snapshot(snapshot: MarketSnapshot) -> bytes:
    index: dict[str, Any] = {
        "version": FORMAT_VERSION,
        "source": snapshot.source,
        "as_of_ms": snapshot.as_of_ms,
        "exchanges": list(snapshot.exchanges),
        "symbols": list(snapshot.symbols),
        "risk_free_rate": snapshot.risk_free_rate,
        "fees": {e: [f.maker, f.taker] for e, f in snapshot.fees.items()},
        "tickers": [
            [e, s, t.bid, t.ask, t.last, t.quote_volume_24h]
            for (e, s), t in snapshot.tickers.items()
        ],
        "funding": [
            [e, s, f.rate, f.interval_hours, f.next_funding_ms, f.mark_price, f.index_price]
            for (e, s), f in snapshot.funding.items()
        ],
        "futures": [
            [e, s, [[c.instrument, c.expiry_ms, c.bid, c.ask] for c in contracts]]
            for (e, s), contracts in snapshot.futures.items()
        ],
    }
    arrays: dict[str, np.ndarray[Any, Any]] = {}

    # Bar times are nearly always evenly spaced: such a series stores [first, step] in the
    # index instead of its array (a sixth of the bytes); irregular ones keep theirs.
    bar_rows: list[list[Any]] = []
    irregular_ts: list[np.ndarray[Any, Any]] = []
    start, ts_start = 0, 0
    for (e, s, tf), bars in snapshot.ohlcv.items():
        steps = np.diff(bars.ts)
        if len(bars) >= 2 and np.all(steps == steps[0]):
            ts_ref: list[int] = [int(bars.ts[0]), int(steps[0])]
        else:
            ts_ref = [-1, ts_start]
            irregular_ts.append(bars.ts)
            ts_start += len(bars)
        bar_rows.append([e, s, tf, start, len(bars), *ts_ref])
        start += len(bars)
    index["ohlcv"] = bar_rows
    all_bars = list(snapshot.ohlcv.values())
    arrays["bars_ts"] = _concat(irregular_ts, np.int64)
    for column in _BAR_COLUMNS:
        arrays[f"bars_{column}"] = _concat([getattr(b, column) for b in all_bars], np.float64)

    book_rows, start = [], 0
    for (e, s), book in snapshot.books.items():
        n_bids, n_asks = int(book.bids.shape[0]), int(book.asks.shape[0])
        book_rows.append([e, s, start, n_bids, n_asks])
        start += n_bids + n_asks
    index["books"] = book_rows
    levels = [side.reshape(-1, 2) for b in snapshot.books.values() for side in (b.bids, b.asks)]
    arrays["book_levels"] = (
        np.concatenate(levels).astype(np.float64) if levels else np.empty((0, 2), np.float64)
    )

    option_rows, start = [], 0
    for (e, s), chain in snapshot.options.items():
        option_rows.append([e, s, chain.underlying_price, start, len(chain)])
        start += len(chain)
    index["options"] = option_rows
    chains = list(snapshot.options.values())
    for column in _OPTION_COLUMNS:
        arrays[f"opt_{column}"] = _concat([getattr(c, column) for c in chains], np.float64)
    arrays["opt_expiries_ms"] = _concat([c.expiries_ms for c in chains], np.int64)
    arrays["opt_is_call"] = _concat([c.is_call for c in chains], np.bool_)

    arrays["index"] = np.frombuffer(orjson.dumps(index), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def decode_snapshot(data: bytes) -> MarketSnapshot:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        index = orjson.loads(arrays.pop("index").tobytes())
    except (OSError, ValueError, KeyError, orjson.JSONDecodeError) as exc:
        raise SnapshotFormatError(f"not an oppscan market snapshot: {exc}") from exc
    if index.get("version") != FORMAT_VERSION:
        raise SnapshotFormatError(f"snapshot format {index.get('version')!r} is not supported")
    for array in arrays.values():
        array.flags.writeable = False

    ohlcv: dict[tuple[str, str, str], Bars] = {}
    for e, s, tf, start, length, first_ts, ts_arg in index["ohlcv"]:
        end = start + length
        columns = {c: arrays[f"bars_{c}"][start:end] for c in _BAR_COLUMNS}
        if first_ts >= 0:  # evenly spaced: ts_arg is the step
            ts = first_ts + ts_arg * np.arange(length, dtype=np.int64)
            ts.flags.writeable = False
        else:  # ts_arg is where the series starts in bars_ts
            ts = arrays["bars_ts"][ts_arg : ts_arg + length]
        ohlcv[(e, s, tf)] = Bars(ts=ts, **columns)

    books: dict[tuple[str, str], OrderBook] = {}
    levels = arrays["book_levels"]
    for e, s, start, n_bids, n_asks in index["books"]:
        books[(e, s)] = OrderBook(
            bids=levels[start : start + n_bids],
            asks=levels[start + n_bids : start + n_bids + n_asks],
        )

    options: dict[tuple[str, str], OptionChain] = {}
    for e, s, underlying, start, length in index["options"]:
        end = start + length
        options[(e, s)] = OptionChain(
            underlying_price=underlying,
            strikes=arrays["opt_strikes"][start:end],
            expiries_ms=arrays["opt_expiries_ms"][start:end],
            is_call=arrays["opt_is_call"][start:end],
            bids=arrays["opt_bids"][start:end],
            asks=arrays["opt_asks"][start:end],
            iv=arrays["opt_iv"][start:end],
        )

    return MarketSnapshot(
        source=index["source"],
        as_of_ms=index["as_of_ms"],
        exchanges=tuple(index["exchanges"]),
        symbols=tuple(index["symbols"]),
        ohlcv=ohlcv,
        tickers={(e, s): Ticker(b, a, last, qv) for e, s, b, a, last, qv in index["tickers"]},
        books=books,
        funding={
            (e, s): Funding(rate, hours, next_ms, mark, idx)
            for e, s, rate, hours, next_ms, mark, idx in index["funding"]
        },
        futures={
            (e, s): tuple(DatedFuture(i, x, b, a) for i, x, b, a in contracts)
            for e, s, contracts in index["futures"]
        },
        options=options,
        fees={e: Fees(maker=m, taker=t) for e, (m, t) in index["fees"].items()},
        risk_free_rate=index["risk_free_rate"],
    )


def write_snapshot(path: str | Path, snapshot: MarketSnapshot) -> int:
    """Write a replay file; returns its size in bytes."""
    data = encode_snapshot(snapshot)
    Path(path).write_bytes(data)
    return len(data)


def read_snapshot(path: str | Path) -> MarketSnapshot:
    return decode_snapshot(Path(path).read_bytes())


def _concat(parts: list[np.ndarray[Any, Any]], dtype: type) -> np.ndarray[Any, Any]:
    if not parts:
        return np.empty(0, dtype=dtype)
    return np.concatenate(parts).astype(dtype, copy=False)

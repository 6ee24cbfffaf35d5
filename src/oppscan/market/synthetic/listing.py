"""The synthetic universe's listing: names, price levels, sizes and volatilities by rank.

The first names and their rough price levels resemble the real crypto market (late 2025) so
numbers look plausible; past the table, names are ``ALT0001/USDT``... with log-normal prices.
None of this is live data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (base asset, approximate USDT price), largest first.
_KNOWN: tuple[tuple[str, float], ...] = (
    ("BTC", 90_000.0), ("ETH", 3_000.0), ("SOL", 140.0), ("XRP", 2.1), ("BNB", 880.0),
    ("DOGE", 0.15), ("ADA", 0.42), ("TRX", 0.28), ("LINK", 12.5), ("AVAX", 13.5),
    ("SUI", 1.6), ("LTC", 85.0), ("BCH", 520.0), ("TON", 1.6), ("XLM", 0.24),
    ("DOT", 2.3), ("UNI", 6.0), ("NEAR", 1.9), ("APT", 2.1), ("AAVE", 170.0),
    ("ATOM", 2.4), ("ETC", 13.0), ("HBAR", 0.14), ("ICP", 4.0), ("FIL", 1.6),
    ("ARB", 0.21), ("OP", 0.33), ("INJ", 5.8), ("SEI", 0.14), ("TIA", 0.6),
    ("RENDER", 1.7), ("IMX", 0.35), ("GRT", 0.045), ("ALGO", 0.13), ("VET", 0.013),
    ("SAND", 0.15), ("MANA", 0.15), ("AXS", 1.0), ("FET", 0.25), ("PEPE", 4.2e-6),
    ("WIF", 0.38), ("BONK", 9e-6), ("FLOKI", 5e-5), ("JUP", 0.25), ("PYTH", 0.07),
    ("LDO", 0.65), ("CRV", 0.38), ("ENS", 10.0), ("DYDX", 0.25), ("GALA", 0.008),
    ("CHZ", 0.03), ("EGLD", 7.0), ("XTZ", 0.5), ("THETA", 0.35), ("KAS", 0.05),
    ("STX", 0.3), ("ORDI", 4.0), ("WLD", 0.6), ("ENA", 0.25), ("SHIB", 8.5e-6),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Listing:
    symbols: list[str]
    price: dict[str, float]
    annual_vol: dict[str, float]
    beta: dict[str, float]
    quote_volume_24h: dict[str, float]  # USD, summed over all exchanges


def build_listing(symbols_count: int, rng: np.random.Generator) -> Listing:
    """``symbols_count`` symbols by size: volume falls, volatility and beta rise with rank."""
    if symbols_count < 1:
        raise ValueError("symbols_count must be at least 1")
    symbols: list[str] = []
    price: dict[str, float] = {}
    vol: dict[str, float] = {}
    beta: dict[str, float] = {}
    qv: dict[str, float] = {}
    for rank in range(symbols_count):
        if rank < len(_KNOWN):
            base, level = _KNOWN[rank]
        else:
            base, level = f"ALT{rank - len(_KNOWN) + 1:04d}", float(np.exp(rng.normal(-1.0, 2.0)))
        symbol = f"{base}/USDT"
        symbols.append(symbol)
        # +-3% around the level so seeds differ a little even for the majors.
        price[symbol] = float(level * np.exp(rng.normal(0.0, 0.03)))
        size = (rank + 1) ** -1.25
        vol[symbol] = float(
            0.45 if rank == 0 else min(1.6, 0.6 + 0.12 * np.log1p(rank) + rng.normal(0, 0.05))
        )
        beta[symbol] = float(1.0 if rank == 0 else np.clip(rng.normal(1.1, 0.2), 0.6, 1.6))
        qv[symbol] = float(6e9 * size * np.exp(rng.normal(0.0, 0.25)))
    return Listing(symbols, price, vol, beta, qv)


def major_symbols(count: int = 40) -> tuple[str, ...]:
    """The largest real pairs, by the listing's rank (the ccxt source's default universe)."""
    return tuple(f"{base}/USDT" for base, _ in _KNOWN[:count])

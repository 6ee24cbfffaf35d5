"""The legs of a relative-value trade (long one asset, short another) on one exchange."""

from __future__ import annotations

from oppscan.domain.models import Leg
from oppscan.market.snapshot import MarketSnapshot


def relative_value_leg(
    market: MarketSnapshot, exchange: str, symbol: str, side: str, price: float, usd: float
) -> Leg:
    # A spot short needs a borrow; where the exchange lists a perpetual, short that instead.
    instrument = "perp" if side == "sell" and (exchange, symbol) in market.funding else "spot"
    return Leg(
        exchange=exchange,
        symbol=symbol,
        side=side,
        price=price,
        size=usd / price,
        instrument=instrument,
    )

"""Market making: quote both sides inside a wide real spread and earn it, net of maker fees.

We improve the best bid and ask by ``IMPROVE_SHARE`` of the spread each, so our quoted spread
is the rest. Each round trip (one fill on each side) captures the quoted spread less two maker
fees, less adverse selection: the move against us from informed flow while we wait for the
other side, modelled as ``ADVERSE_SHARE * sigma_1m * sqrt(fill_minutes)``. ``fill_minutes`` is
how long our quote takes to fill given our share of the symbol's traded volume. Inventory risk
(one sigma of the price over the fill time, on our quote size) sets the risk level. Books are
exchange-specific, so each exchange is its own opportunity; it is never worth it where two
maker fees exceed the spread, which is why liquid majors do not show up here.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Leg, Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import StrategyInfo, StrategyRequest, build_opportunity, depth_usd
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import reference_bars

INFO = StrategyInfo(
    id="market_making",
    name="Market making",
    description=(
        "Two-sided maker quotes inside a wide spread over a deep book: spread capture minus "
        "maker fees and adverse selection, with the inventory risk of waiting for fills."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

VOL_BARS = 120
IMPROVE_SHARE = 0.1  # each side steps in by a tenth of the spread to be first in the queue
ADVERSE_SHARE = 0.5
PARTICIPATION = 0.05  # the share of each side's traded volume our quotes expect to catch
MAX_IMBALANCE = 0.5  # a one-sided book fills one side only: inventory, not spread capture
MIN_QUOTE_VOLUME_USD = 1_000_000.0
DEPTH_BAND_BPS = 50.0
DEPTH_SHARE = 0.1
MIN_SIZE_USD = 1_000.0  # a quote smaller than this is not making a market, just a bet


class MarketMaking:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        found: list[Opportunity] = []
        for (exchange, symbol), ticker in market.tickers.items():
            fees = market.fees.get(exchange)
            # Cheap reject first: no spread wide enough to pay two maker fees, no business.
            if fees is None or ticker.spread_bps * (1 - 2 * IMPROVE_SHARE) <= 2e4 * fees.maker:
                continue
            opp = self._quote(market, request, exchange, symbol)
            if opp is not None:
                found.append(opp)
        return found

    def _quote(
        self, market: MarketSnapshot, request: StrategyRequest, exchange: str, symbol: str
    ) -> Opportunity | None:
        ticker = market.tickers[(exchange, symbol)]
        book = market.books.get((exchange, symbol))
        bars = reference_bars(market, symbol, "1m", VOL_BARS + 1, prefer=exchange)
        fees = market.fees[exchange]
        if book is None or bars is None or book.bids.shape[0] == 0 or book.asks.shape[0] == 0:
            return None
        # The spread we can quote inside is the book's, not the (possibly older) ticker's.
        best_bid, best_ask = float(book.bids[0, 0]), float(book.asks[0, 0])
        mid = (best_bid + best_ask) / 2.0
        spread_bps = (best_ask - best_bid) / mid * 1e4
        if ticker.quote_volume_24h < MIN_QUOTE_VOLUME_USD:
            return None
        imbalance = ind.book_imbalance(book.bids, book.asks)
        if abs(imbalance) > MAX_IMBALANCE:
            return None
        depth = min(depth_usd(book, "buy", DEPTH_BAND_BPS), depth_usd(book, "sell", DEPTH_BAND_BPS))
        capacity = DEPTH_SHARE * depth
        size = min(request.capital_usd / 2.0, capacity)  # half the capital backs each side
        if size < MIN_SIZE_USD:
            return None

        sigma = float(np.diff(np.log(bars.close[-(VOL_BARS + 1) :])).std(ddof=1))
        volume_per_minute_side = ticker.quote_volume_24h / 1440.0 / 2.0
        fill_minutes = max(1.0, size / (PARTICIPATION * volume_per_minute_side))
        quoted_bps = spread_bps * (1 - 2 * IMPROVE_SHARE)
        maker_bps = 2e4 * fees.maker
        adverse_bps = ADVERSE_SHARE * sigma * float(np.sqrt(fill_minutes)) * 1e4
        net_bps = quoted_bps - maker_bps - adverse_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        # One round trip: both quotes filled, which takes about twice one side's fill time.
        horizon_minutes = 2.0 * fill_minutes
        inventory_risk_bps = sigma * float(np.sqrt(fill_minutes)) * 1e4
        our_bid = mid * (1 - quoted_bps / 2e4)
        our_ask = mid * (1 + quoted_bps / 2e4)
        # Confidence rises with the edge's cushion over adverse selection, and falls with a lean.
        cushion = net_bps / max(adverse_bps + maker_bps, 1e-9)
        confidence = ind.logistic(3.0 * (cushion - 0.3)) * (1 - abs(imbalance))
        return build_opportunity(
            INFO,
            market,
            opportunity_type="market_making",
            symbol=symbol,
            exchange=exchange,
            side="both",
            entry_price=our_bid,
            exit_price=our_ask,
            # Below our own bid: the inventory bought there is cut if the price falls three
            # inventory-risk moves further.
            stop_loss=our_bid * (1 - 3 * inventory_risk_bps / 1e4),
            take_profit=our_ask,
            profit_potential_usd=size * net_bps / 1e4,
            required_capital_usd=2 * size,
            confidence=confidence,
            risk_level=_inventory_risk_level(inventory_risk_bps),
            horizon_seconds=horizon_minutes * 60,
            valid_for_ms=5 * 60_000,
            capacity_usd=2 * capacity,
            legs=[
                Leg(
                    exchange=exchange,
                    symbol=symbol,
                    side=side,
                    price=price,
                    size=size / price,
                    post_only=True,
                )
                for side, price in (("buy", our_bid), ("sell", our_ask))
            ],
            evidence={
                "spread_bps": round(spread_bps, 4),
                "quoted_spread_bps": round(quoted_bps, 4),
                "maker_fees_bps": round(maker_bps, 4),
                "adverse_selection_bps": round(adverse_bps, 4),
                "volatility_1m_bps": round(sigma * 1e4, 4),
                "fill_minutes": round(fill_minutes, 3),
                "round_trip_bps": round(net_bps, 4),
                "inventory_risk_bps": round(inventory_risk_bps, 4),
                "inventory_risk_usd": round(size * inventory_risk_bps / 1e4, 2),
                "imbalance": round(imbalance, 4),
                "depth_usd_within_50bps": round(depth, 2),
                "quote_volume_24h": round(ticker.quote_volume_24h, 2),
                "exchange": exchange,
            },
            metadata={"quote_size_usd": round(size, 2)},
        )


def _inventory_risk_level(inventory_risk_bps: float) -> RiskLevel:
    if inventory_risk_bps < 20:
        return RiskLevel.LOW
    if inventory_risk_bps < 60:
        return RiskLevel.MEDIUM
    if inventory_risk_bps < 150:
        return RiskLevel.HIGH
    return RiskLevel.VERY_HIGH


STRATEGY = MarketMaking()

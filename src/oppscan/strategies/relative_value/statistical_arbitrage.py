"""Statistical arbitrage: a symbol's own price, net of the market, stretched and reverting.

On the 1h log returns of the whole universe at once: the market factor is the equal-weighted
basket of the other symbols; each symbol's beta comes from a regression on it; the residuals,
cumulated, are the symbol's idiosyncratic price. Where that residual price has been mean-reverting
(AR(1): Dickey-Fuller t below ``MAX_DF_T``, a short half-life) and now sits ``MIN_Z`` standard
deviations from its mean, trade it back: long the symbol and short the market hedge when it is
cheap, the reverse when rich. The hedge is the most liquid symbol, scaled so the pair has no
net beta to the basket. Every step is a matrix operation over all symbols together.
"""

from __future__ import annotations

import numpy as np

from oppscan.domain.models import Opportunity, RiskLevel
from oppscan.market.snapshot import MarketSnapshot
from oppscan.strategies import (
    Execution,
    LiquidityGates,
    StrategyInfo,
    StrategyRequest,
    build_opportunity,
    round_trip,
)
from oppscan.strategies import indicators as ind
from oppscan.strategies.market_views import log_close_matrix
from oppscan.strategies.relative_value.legs import relative_value_leg

INFO = StrategyInfo(
    id="statistical_arbitrage",
    name="Statistical arbitrage",
    description=(
        "Residual of each symbol against the market basket (regression beta); trades a "
        "stretched residual z-score where the residual has been mean-reverting, market-hedged."
    ),
    needs=("ohlcv", "tickers", "order_books", "fees"),
)

TIMEFRAME = "1h"
WINDOW = 480  # 20 days of 1h bars (returns need one bar more); a live fetch returns 500
Z_WINDOW = 120
RECENT_BARS = 6
MIN_Z = 2.0
# Every symbol is tested at once: about 0.1% of random-walk residuals reach -4.0 (one test's 1%
# value is -3.43), so 40 symbols give a false reversion in about one scan in 25 before the
# z-score filter (-3.5 let one through in about one scan in eight on the control markets).
MAX_DF_T = -4.0
MAX_HALF_LIFE = 48.0
MIN_SYMBOLS = 5
MIN_HEDGE_RATIO = 0.05  # a symbol with (almost) no beta to the basket has nothing to hedge
GATES = LiquidityGates()


class StatisticalArbitrage:
    info = INFO

    def scan(self, market: MarketSnapshot, request: StrategyRequest) -> list[Opportunity]:
        names, log_prices = log_close_matrix(market, TIMEFRAME, WINDOW + 1)
        if len(names) < MIN_SYMBOLS:
            return []
        returns = np.diff(log_prices, axis=0)  # (WINDOW, N)
        # Each symbol against the basket of the others: its own move must not be in its factor.
        n = returns.shape[1]
        factor = (returns.sum(axis=1, keepdims=True) - returns) / (n - 1)
        fc = factor - factor.mean(axis=0)
        beta = (fc * (returns - returns.mean(axis=0))).sum(axis=0) / (fc * fc).sum(axis=0)
        # The intercept stays in: demeaned residuals would sum to zero and pin the last level
        # to the first, hiding exactly the stretch we look for (an idiosyncratic drift is then
        # a trend the Dickey-Fuller test rejects, as it should).
        residual = returns - factor * beta
        r_squared = 1.0 - residual.var(axis=0) / returns.var(axis=0)
        level = np.cumsum(residual, axis=0)
        # Reversion is judged on the history before the latest bars, which hold the stretch.
        fit = ind.ar1_fit(level[:-RECENT_BARS])
        # Measured against the recent window: the basket is an imperfect factor, and what it
        # leaves in the residual wanders slowly; a few days is many half-lives of a real signal.
        recent = level[-Z_WINDOW:]
        deviation = level[-1] - recent.mean(axis=0)
        z = deviation / recent.std(axis=0)
        candidates = np.flatnonzero(
            (np.abs(z) >= MIN_Z) & (fit.t_stat <= MAX_DF_T) & (fit.half_life <= MAX_HALF_LIFE)
        )
        hedge_symbol = names[0]  # the universe is ordered by size: the most liquid
        found: list[Opportunity] = []
        for k in candidates:
            if names[k] == hedge_symbol:
                continue
            opp = self._trade(
                market,
                request,
                symbol=names[k],
                hedge_symbol=hedge_symbol,
                hedge_ratio=float(beta[k] / beta[0]) if beta[0] > 0 else 0.0,
                stats={
                    "residual_z": float(z[k]),
                    "deviation": float(deviation[k]),
                    "beta": float(beta[k]),
                    "r_squared": float(r_squared[k]),
                    "dickey_fuller_t": float(fit.t_stat[k]),
                    "half_life_bars": float(fit.half_life[k]),
                },
            )
            if opp is not None:
                found.append(opp)
        return found

    def _trade(
        self,
        market: MarketSnapshot,
        request: StrategyRequest,
        *,
        symbol: str,
        hedge_symbol: str,
        hedge_ratio: float,
        stats: dict[str, float],
    ) -> Opportunity | None:
        z, half_life = stats["residual_z"], stats["half_life_bars"]
        side = "buy" if z < 0 else "sell"
        hedge_side = "sell" if side == "buy" else "buy"
        if not hedge_ratio >= MIN_HEDGE_RATIO:
            # No market exposure to hedge: a lone bet on the residual is not market-neutral.
            return None
        horizon = min(2.0 * half_life, MAX_HALF_LIFE)
        gross = abs(stats["deviation"]) * ind.reversion_fraction(horizon, half_life)
        best: tuple[float, Execution, Execution, float] | None = None
        for exchange in market.exchanges:
            usd = request.capital_usd / (1 + hedge_ratio)
            main = round_trip(market, exchange, symbol, side, usd, GATES)
            if main is None:
                continue
            usd = main.size_usd
            hedge = round_trip(market, exchange, hedge_symbol, hedge_side, usd * hedge_ratio, GATES)
            if hedge is None:
                continue
            usd = min(usd, hedge.size_usd / hedge_ratio)
            cost = (main.cost_bps + hedge.cost_bps * hedge_ratio) / (1 + hedge_ratio)
            if best is None or cost < best[0]:
                best = (cost, main, hedge, usd)
        if best is None:
            return None
        cost_bps, main, hedge, usd = best
        capital = usd * (1 + hedge_ratio)
        gross_bps = gross * 1e4 / (1 + hedge_ratio)
        net_bps = gross_bps - cost_bps
        if not net_bps > 0:  # also rejects nan from gappy data
            return None

        exchange = main.exchange
        price = main.entry_price
        legs = [
            relative_value_leg(market, exchange, symbol, side, price, usd),
            relative_value_leg(
                market, exchange, hedge_symbol, hedge_side, hedge.entry_price, usd * hedge_ratio
            ),
        ]
        sign = 1.0 if side == "buy" else -1.0
        target = price * float(np.exp(sign * gross))
        df_margin = MAX_DF_T - stats["dickey_fuller_t"]
        confidence = ind.logistic(2.0 * (abs(z) - 2.5)) * ind.logistic(df_margin + 1.0)
        return build_opportunity(
            INFO,
            market,
            opportunity_type="statistical_arbitrage",
            symbol=symbol,
            exchange=exchange,
            side=side,
            entry_price=price,
            exit_price=target,
            stop_loss=price * float(np.exp(-sign * 1.5 * abs(stats["deviation"]))),
            take_profit=target,
            profit_potential_usd=capital * net_bps / 1e4,
            required_capital_usd=capital,
            confidence=confidence,
            risk_level=RiskLevel.MEDIUM if half_life <= 24 else RiskLevel.HIGH,
            horizon_seconds=horizon * 3_600,  # 1h bars
            valid_for_ms=3_600_000,
            capacity_usd=_capacity(main, hedge, hedge_ratio),
            legs=legs,
            evidence={
                **{k: round(v, 6) for k, v in stats.items()},
                "hedge_symbol": hedge_symbol,
                "hedge_ratio": round(hedge_ratio, 6),
                "factor": "equal-weighted basket of the universe, 1h log returns",
                "window_bars": WINDOW,
                "horizon_bars": round(horizon, 2),
                "expected_move_bps": round(gross_bps, 3),
                "cost_bps": round(cost_bps, 3),
                "exchange": exchange,
            },
        )


def _capacity(main: Execution, hedge: Execution, hedge_ratio: float) -> float:
    """The most capital both legs' books take together."""
    return min(main.capacity_usd, hedge.capacity_usd / hedge_ratio) * (1 + hedge_ratio)


STRATEGY = StatisticalArbitrage()

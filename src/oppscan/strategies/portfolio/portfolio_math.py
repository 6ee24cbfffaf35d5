"""The user's portfolio seen through a snapshot: values, returns, risk measures.

Shared by the three portfolio strategies (hedge, risk management, optimisation). Every holding is
priced at the mid of the exchange that trades it most (the deepest market to act in), and its
returns come from that exchange's bars; cash earns nothing over a day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oppscan.domain.models import Portfolio
from oppscan.market.snapshot import FloatArray, MarketSnapshot
from oppscan.strategies import StrategyRequest, StrategySkipped

PERIODS_PER_YEAR = {"1h": 24 * 365.0, "4h": 6 * 365.0, "1d": 365.0}
# A portfolio trade may take the depth within this band of the touch, and this share of the volume.
DEPTH_BAND_BPS = 50.0
VOLUME_SHARE = 0.02


def require_holdings(request: StrategyRequest) -> Portfolio:
    if request.portfolio is None or not request.portfolio.holdings:
        raise StrategySkipped("no holdings in the request")
    return request.portfolio


def main_exchange(market: MarketSnapshot, symbol: str) -> str | None:
    """The exchange with the most 24h volume in ``symbol`` (None: not quoted anywhere)."""
    quoted = [(t.quote_volume_24h, e) for (e, s), t in market.tickers.items() if s == symbol]
    return max(quoted)[1] if quoted else None


@dataclass(frozen=True, slots=True)
class PortfolioView:
    symbols: tuple[str, ...]  # holdings that can be priced and have bars, in request order
    exchanges: tuple[str, ...]
    quantities: FloatArray
    prices: FloatArray
    cash_usd: float
    returns: FloatArray  # simple returns, shape (bars, assets), oldest first
    timeframe: str
    unpriced: tuple[str, ...]  # holdings the snapshot cannot price (left out of every measure)

    @property
    def values(self) -> FloatArray:
        return np.asarray(self.quantities * self.prices, dtype=np.float64)

    @property
    def total_usd(self) -> float:
        return float(self.values.sum() + self.cash_usd)

    @property
    def weights(self) -> FloatArray:
        """Each holding's share of the total value, cash included in the total."""
        return np.asarray(self.values / self.total_usd, dtype=np.float64)

    def portfolio_returns(self, weights: FloatArray | None = None) -> FloatArray:
        w = self.weights if weights is None else weights
        return np.asarray(self.returns @ w, dtype=np.float64)


def portfolio_view(
    market: MarketSnapshot, portfolio: Portfolio, timeframe: str = "1d", lookback: int = 365
) -> PortfolioView:
    symbols, exchanges, qty, prices, series, unpriced = [], [], [], [], [], []
    for holding in portfolio.holdings:
        exchange = main_exchange(market, holding.symbol)
        bars = None if exchange is None else market.bars(exchange, holding.symbol, timeframe)
        if exchange is None or bars is None or len(bars) < 30:
            unpriced.append(holding.symbol)
            continue
        symbols.append(holding.symbol)
        exchanges.append(exchange)
        qty.append(holding.quantity)
        prices.append(market.tickers[(exchange, holding.symbol)].mid)
        series.append(bars.close[-(lookback + 1) :])
    if not symbols:
        raise StrategySkipped(f"no holding is priced in this market: {sorted(unpriced)}")
    n = min(s.shape[0] for s in series)  # align on the most recent common bars
    closes = np.column_stack([s[-n:] for s in series])
    return PortfolioView(
        symbols=tuple(symbols),
        exchanges=tuple(exchanges),
        quantities=np.array(qty, dtype=np.float64),
        prices=np.array(prices, dtype=np.float64),
        cash_usd=portfolio.cash_usd,
        returns=np.asarray(closes[1:] / closes[:-1] - 1.0, dtype=np.float64),
        timeframe=timeframe,
        unpriced=tuple(unpriced),
    )


@dataclass(frozen=True, slots=True)
class TailRisk:
    """One-period loss measures as positive fractions of the portfolio value."""

    var95_hist: float
    var99_hist: float
    cvar95_hist: float
    cvar99_hist: float
    var95_param: float
    var99_param: float
    cvar95_param: float
    cvar99_param: float
    volatility: float  # per period
    max_drawdown: float

    def as_evidence(self, total_usd: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for name in ("var95", "var99", "cvar95", "cvar99"):
            for method in ("hist", "param"):
                value = getattr(self, f"{name}_{method}")
                out[f"{name}_{method}"] = value
                out[f"{name}_{method}_usd"] = value * total_usd
        out["daily_volatility"] = self.volatility
        out["max_drawdown"] = self.max_drawdown
        return out


def _hist(returns: FloatArray, level: float) -> tuple[float, float]:
    losses = -returns
    var = float(np.quantile(losses, level))
    tail = losses[losses >= var]
    return max(var, 0.0), max(float(tail.mean()) if tail.size else var, 0.0)


def _param(mean: float, sd: float, level: float) -> tuple[float, float]:
    from scipy.special import ndtri  # imported on use: importing the catalog must not load scipy

    z = float(ndtri(level))
    density = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return max(-mean + z * sd, 0.0), max(-mean + sd * density / (1 - level), 0.0)


def max_drawdown(returns: FloatArray) -> float:
    path = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(np.concatenate([[1.0], path]))[1:]
    return float(np.max(1.0 - path / peak)) if path.size else 0.0


def tail_risk(returns: FloatArray) -> TailRisk:
    """Historical and normal (parametric) VaR/CVaR at 95% and 99%, and the max drawdown."""
    mean, sd = float(returns.mean()), float(returns.std(ddof=1))
    v95, c95 = _hist(returns, 0.95)
    v99, c99 = _hist(returns, 0.99)
    p95, pc95 = _param(mean, sd, 0.95)
    p99, pc99 = _param(mean, sd, 0.99)
    return TailRisk(v95, v99, c95, c99, p95, p99, pc95, pc99, sd, max_drawdown(returns))


def herfindahl(weights: FloatArray) -> float:
    """Concentration of positive weights renormalised to sum to one (1/n .. 1)."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    return float(((w / total) ** 2).sum()) if total > 0 else 0.0


def asset_returns(
    market: MarketSnapshot, symbol: str, timeframe: str, bars: int
) -> tuple[str, FloatArray] | None:
    exchange = main_exchange(market, symbol)
    series = None if exchange is None else market.bars(exchange, symbol, timeframe)
    if exchange is None or series is None or len(series) < 30:
        return None
    close = series.close[-(bars + 1) :]
    return exchange, np.asarray(close[1:] / close[:-1] - 1.0, dtype=np.float64)

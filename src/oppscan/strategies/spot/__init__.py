"""Spot strategies: trades in one symbol's spot market, long only unless the portfolio holds the
asset. Momentum, mean reversion, breakout and scalping are directional round trips (taker in,
out at a target or a stop) that share ``directional.py``; market making quotes both sides of a
wide spread and earns it net of maker fees."""

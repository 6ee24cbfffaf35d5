"""The Black-Scholes price that renders the synthetic option quotes.

An alias of ``oppscan.market.black_scholes.bs_price`` (the one implementation), kept so that
``render.py`` imports keep working; new code imports ``oppscan.market.black_scholes``.
"""

from __future__ import annotations

from oppscan.market.black_scholes import bs_price as black_scholes_price

__all__ = ["black_scholes_price"]

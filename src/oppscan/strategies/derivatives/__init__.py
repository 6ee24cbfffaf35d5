"""Derivatives strategies: trades whose edge lives in perpetuals, dated futures or options
(funding-rate arbitrage, leveraged perp trends and cash and carry, implied against realised
volatility, and multi-leg option structures priced against the chain's smile)."""

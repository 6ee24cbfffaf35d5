"""Relative-value strategies: long one asset and short another so that the market's move cancels
and only the spread between them is traded (pairs trading on cointegrated pairs, statistical
arbitrage on a symbol's residual against the market). ``legs.py`` builds the two legs, shorting
the perpetual where the exchange lists one."""

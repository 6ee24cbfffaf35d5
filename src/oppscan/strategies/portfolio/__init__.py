"""Portfolio strategies: they need the user's portfolio and act on it as a whole (hedge each
holding, measure and cut its tail risk, rebalance to target weights). ``portfolio_math.py`` holds
what the three share: the holdings priced through the snapshot, their returns and risk measures."""

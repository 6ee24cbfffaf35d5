"""oppscan: opportunity scans over shared market data."""

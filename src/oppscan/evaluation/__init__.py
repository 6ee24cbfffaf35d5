"""Forward tests: scan a market over time and follow what each signal went on to do."""

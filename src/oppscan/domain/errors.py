"""Faults every layer may name: raised by an adapter, answered by an entrypoint.

They live here, beside the nouns, so the API can map a store outage to 503 without importing
the store's adapters, and a scan can end ``failed`` with a market outage's reason.
"""

from __future__ import annotations


class StoreUnavailable(Exception):
    """The store cannot be reached. Never to be answered as "not found".

    Transient: the operation may succeed if tried again. Its message is for the log (it may name
    the store's address); a user is told only that the scan store was unreachable.
    """


class MarketDataUnavailable(RuntimeError):
    """No market snapshot could be had in time (the fetching process is stuck or the source
    fails).

    ``source`` names what failed for a user (an exchange, or the market source's name), without
    an address; the message is the detail, for the log.
    """

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class InvalidCompletion(ValueError):
    """A store refused a strategy's completion as a whole, writing nothing: a result's score or
    number is not finite, or its payload is malformed. The message says which and why."""


class NonFiniteValue(ValueError):
    """A strategy produced a number that is not finite (inf or nan) for an opportunity."""

    def __init__(self, field: str, symbol: str) -> None:
        super().__init__(f"strategy produced a non-finite {field} for {symbol}")
        self.field = field
        self.symbol = symbol

"""What a user may read of a fault: what failed, never where it lives.

A user reads a strategy's ``error`` and a scan's ``error``. Faults of the infrastructure get a
stable message naming what failed (the store, the job queue, the market source or exchange); the
detail, addresses included, goes to the log line. A strategy's own exception keeps its words, with
its URLs, host:port pairs, IP addresses and file paths replaced (``public``).
"""

from __future__ import annotations

import re

STORE_UNREACHABLE = "the scan store was unreachable"
QUEUE_UNREACHABLE = "the job queue was unreachable"


def market_unavailable(source: str) -> str:
    """What a strategy that got no market snapshot says: the source or exchange, if known."""
    return f"market data unavailable: {source}" if source else "market data unavailable"


_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_IPV6 = re.compile(r"\[[0-9a-fA-F:.]+\](?::\d{1,5})?")
# A dotted host name or an IPv4 address, with a port; localhost with a port.
_HOST_PORT = re.compile(r"\b(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+):\d{1,5}\b")
_IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
# Two or more segments (so "BTC/USDT" and "/s" are not paths), absolute or ./, ../, ~/.
_PATH = re.compile(r"(?<![\w.:/])(?:~|\.{1,2})?(?:/[\w.@+-]+){2,}/?")
_WINDOWS_PATH = re.compile(r"\b[a-zA-Z]:\\[^\s'\"]+")


def public(text: str) -> str:
    """``text`` without URLs, hosts with ports, IP addresses or file paths."""
    text = _URL.sub("<url>", text)
    text = _IPV6.sub("<address>", text)
    text = _HOST_PORT.sub("<address>", text)
    text = _IPV4.sub("<address>", text)
    text = _WINDOWS_PATH.sub("<path>", text)
    return _PATH.sub("<path>", text)

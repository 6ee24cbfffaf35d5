"""What a use case can refuse with; the API maps each to its status code."""

from __future__ import annotations

from collections.abc import Sequence


class ScanNotFound(Exception):
    def __init__(self, scan_id: str) -> None:
        super().__init__(f"scan {scan_id} not found")
        self.scan_id = scan_id


class InvalidRequest(Exception):
    def __init__(self, field: str, message: str, allowed: Sequence[object] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.allowed = list(allowed) if allowed is not None else None


class RateLimited(Exception):
    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__(f"more than {limit} scans per minute")
        self.retry_after = retry_after
        self.limit = limit

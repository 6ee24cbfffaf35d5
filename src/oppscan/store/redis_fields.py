"""How the Redis store reads a scan's hash back: the record's fields, and each strategy's
``<id>.s|n|ms|e|a`` fields. The status poll's hot path: parses are cached where the input
never changes."""

from __future__ import annotations

from functools import lru_cache

from oppscan.domain.models import (
    ScanRecord,
    ScanRequest,
    ScanStatus,
    StrategyState,
    StrategyStatus,
)


@lru_cache(maxsize=4096)
def _request(raw: str) -> ScanRequest:
    """A scan's request never changes, so its parse is cached by its exact JSON (hot path)."""
    return ScanRequest.model_validate_json(raw)


def read_record(h: dict[str, str]) -> ScanRecord:
    # Written only by this adapter from validated records: no need to validate again per poll.
    finished = h.get("finished_at")
    return ScanRecord.model_construct(
        scan_id=h["scan_id"],
        user_id=h["user_id"],
        fingerprint=h["fingerprint"],
        request=_request(h["request"]),
        status=ScanStatus(h["status"]),
        created_at=float(h["created_at"]),
        updated_at=float(h["updated_at"]),
        deadline_at=float(h["deadline_at"]),
        finished_at=float(finished) if finished else None,
        opportunities_found=int(h["opportunities_found"]),
        strategies_completed=int(h["strategies_completed"]),
        error=h.get("error") or None,
        version=int(h["version"]),
    )


@lru_cache(maxsize=256)
def _strategy_fields(ids: tuple[str, ...]) -> tuple[tuple[str, str, str, str, str, str], ...]:
    """Each strategy's hash field names, built once per catalog selection (hot path)."""
    return tuple((sid, f"{sid}.s", f"{sid}.n", f"{sid}.ms", f"{sid}.e", f"{sid}.a") for sid in ids)


_STATUSES = {status.value: status for status in StrategyStatus}


def read_strategies(ids: tuple[str, ...], h: dict[str, str]) -> dict[str, StrategyState]:
    """The states in the request's order; the hash holds ``<id>.s|n|ms|e|a`` fields."""
    states: dict[str, StrategyState] = {}
    for sid, s_key, n_key, ms_key, e_key, a_key in _strategy_fields(ids):
        status = h.get(s_key)
        if status is None:
            continue
        ms = h.get(ms_key)
        states[sid] = StrategyState(
            status=_STATUSES[status],
            opportunities=int(h.get(n_key, 0)),
            duration_ms=int(ms) if ms else None,
            error=h.get(e_key) or None,
            attempts=int(h.get(a_key, 0)),
        )
    return states

"""The overdue sweep: every scan past its deadline is finished, even if nobody polls it."""

from __future__ import annotations

import asyncio

from oppscan.logs import get_logger
from oppscan.store.port import ScanStore

log = get_logger("oppscan.overdue")


async def finish_overdue_forever(store: ScanStore, every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            for scan_id in await store.finish_overdue():
                log.info(
                    "scan.deadline",
                    scan_id=scan_id,
                    outcome="partial",
                    reason="deadline passed; unfinished strategies timed out",
                )
        except Exception:
            # A store outage must not kill the sweep; the next round tries again.
            log.exception("scan.deadline", outcome="sweep_failed")

"""Time buckets: every scan within one bucket reads one snapshot, taken at the bucket's start.

Pure arithmetic, importable without numpy (the CLI uses it to say which snapshot a moment saw).
"""

from __future__ import annotations


def bucket_number(moment: float, bucket_seconds: float) -> int:
    return int(moment // bucket_seconds)


def bucket_start_ms(moment: float, bucket_seconds: float) -> int:
    """The time, epoch milliseconds, of the snapshot a scan at ``moment`` (epoch seconds)
    reads."""
    return int(bucket_number(moment, bucket_seconds) * bucket_seconds * 1000)

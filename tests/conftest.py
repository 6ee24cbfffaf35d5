"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

TEST_REDIS_URL = os.environ.get("OPPSCAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def key_prefix() -> str:
    """A prefix of this test's own, so parallel runs and a developer's instance never collide."""
    return f"oppscan-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except Exception as exc:  # pragma: no cover - the suite needs Redis; say so plainly
        pytest.fail(f"tests need a Redis at {TEST_REDIS_URL}: {exc}")
    yield client
    async for key in client.scan_iter(match=f"{key_prefix}:*", count=500):
        await client.delete(key)
    await client.aclose()

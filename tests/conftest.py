"""Fixtures shared by every test layer, and the one rule for tests that need Redis.

A test that needs Redis is marked ``redis`` (or uses the ``redis_client`` fixture). Redis is
pinged once per session, at the first such test; when nothing answers at OPPSCAN_TEST_REDIS_URL
these tests are skipped, saying why, unless OPPSCAN_TEST_REQUIRE_REDIS=1 (CI sets it): then
they fail with the same message.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis
import redis.asyncio as aioredis

TEST_REDIS_URL = os.environ.get("OPPSCAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("OPPSCAN_TEST_REQUIRE_REDIS") == "1"


@functools.cache
def redis_unavailable() -> str | None:
    """Why the test Redis cannot be used, or None when it answers. Asked once per session."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return (
            f"no Redis answers at OPPSCAN_TEST_REDIS_URL={TEST_REDIS_URL} ({exc}); start one "
            "(`redis-server --port 6379 --save '' --appendonly no --daemonize yes`) or point "
            "OPPSCAN_TEST_REDIS_URL at one"
        )
    finally:
        client.close()
    return None


def need_redis() -> None:
    """Skip the current test when the test Redis is down; fail it when Redis is required."""
    problem = redis_unavailable()
    if problem is None:
        return
    if REQUIRE_REDIS:
        pytest.fail(f"{problem} (OPPSCAN_TEST_REQUIRE_REDIS=1: Redis is required)", pytrace=False)
    pytest.skip(f"{problem}; set OPPSCAN_TEST_REQUIRE_REDIS=1 to fail instead of skipping")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that asks for the client needs Redis, marked or not (so `-m "not redis"` drops it).
    for item in items:
        if "redis_client" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture of the test is set up, so no process starts against a dead Redis.
    if item.get_closest_marker("redis") is not None:
        need_redis()


@pytest.fixture
def key_prefix() -> str:
    """A prefix of this test's own, so parallel runs and a developer's instance never collide."""
    return f"oppscan-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def redis_client(key_prefix: str) -> AsyncIterator[aioredis.Redis]:
    need_redis()  # for a test that uses the fixture without the marker
    client = aioredis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    yield client
    async for key in client.scan_iter(match=f"{key_prefix}:*", count=500):
        await client.delete(key)
    await client.aclose()

"""The Redis store's completion script on its own: it checks everything it will write before its
first write, so a bad completion changes nothing (Redis does not undo a script's earlier writes).

The adapter always sends what the models serialise; these call the script with what a bug, an
older process or a hand-made call could send instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from oppscan.store.redis_store import RedisScanStore
from tests.contract.test_store_contract import TTL, make_scan, opp

pytestmark = pytest.mark.redis

GOOD = opp("o1", "s1", 10.0)


def payload(**changes: Any) -> str:
    data = json.loads(GOOD.model_dump_json())
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("pairs", "why"),
    [
        (["inf", payload()], "result 1: its score is not a finite number"),
        (["nan", payload()], "result 1: its score is not a finite number"),
        (["0x10", payload()], "result 1: its score is not a finite number"),
        (["5.0", "{not json"], "result 1: not a JSON object"),
        (["5.0", "[1, 2]"], "result 1: not a JSON object"),
        (["5.0", payload(opportunity_id=None)], "result 1: no opportunity_id"),
        (["5.0", payload(entry_price=None)], "result 1: entry_price is not a finite number"),
        (["5.0", payload(stop_loss="1")], "result 1: stop_loss is not a finite number"),
        (["5.0", payload(), "5.0", payload(net_edge_bps=1e999)], "result 2: net_edge_bps is"),
        (
            ["5.0", payload(legs=[{"price": 1.0, "size": None}])],
            "result 1: legs[0].size is not a finite number",
        ),
        (["5.0"], "every result needs a score and a payload"),
    ],
)
async def test_a_bad_result_refuses_the_whole_completion(
    redis_client: aioredis.Redis, key_prefix: str, pairs: list[str], why: str
) -> None:
    store = RedisScanStore(redis_client, prefix=key_prefix, result_ttl_seconds=TTL)
    await make_scan(store)
    await store.start_strategy("scan_a", "s1")
    keys = store.scan_keys("scan_a")
    before = await hash_of(redis_client, keys[0])
    script = redis_client.register_script(_complete_source())
    count = len(pairs) // 2
    with pytest.raises(ResponseError, match="^" + re.escape(f"invalid completion: {why}")):
        await script(keys=keys, args=[TTL, "s1", "done", count, 7, "", *pairs])
    assert await hash_of(redis_client, keys[0]) == before
    assert await redis_client.exists(keys[1]) == 0


@pytest.mark.parametrize(
    ("head", "why"),
    [
        ([TTL, "s1", "running", 0, 7, ""], "status running is not a terminal strategy status"),
        ([TTL, "s1", "done", 1, 7, ""], "1 results announced, 0 given"),
        ([TTL, "s1", "done", 0, -1, ""], "duration -1 is not a whole number of milliseconds"),
    ],
)
async def test_a_bad_outcome_refuses_the_whole_completion(
    redis_client: aioredis.Redis, key_prefix: str, head: list[Any], why: str
) -> None:
    store = RedisScanStore(redis_client, prefix=key_prefix, result_ttl_seconds=TTL)
    await make_scan(store)
    keys = store.scan_keys("scan_a")
    before = await hash_of(redis_client, keys[0])
    script = redis_client.register_script(_complete_source())
    with pytest.raises(ResponseError, match="^" + re.escape(f"invalid completion: {why}")):
        await script(keys=keys, args=head)
    assert await hash_of(redis_client, keys[0]) == before


async def hash_of(client: aioredis.Redis, key: str) -> dict[str, str]:
    fields: dict[str, str] = await client.hgetall(key)  # type: ignore[misc]
    return fields


def _complete_source() -> str:
    from oppscan.store import redis_scripts

    return redis_scripts.COMPLETE

"""The pacer against the real Redis: what the release script moves into the broker's queues.

A RedisBroker of its own namespace (a unique prefix), the shared rate limiter's keys under the
same prefix; only those keys are deleted afterwards. No worker: the broker's consumer reads what
was released, as a worker's would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
import redis as sync_redis
from dramatiq.brokers.redis import RedisBroker
from redis.asyncio import Redis

from payroll_sync.connectors.ratelimit import RateLimit, SharedRateLimiter
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.pacing import Limit, Pacer
from payroll_sync.queue.send import pace_or_send
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import EmployeeTask, decode_task
from payroll_sync.schemas.settings import Worker
from payroll_sync.worker.dispatch import pacing_release
from tests.support.keys import REDIS_URL, unique_prefix

pytestmark = pytest.mark.integration

SLOW = Limit(per_second=2.0, burst=2)
FAST = Limit(per_second=50.0, burst=50)


@pytest.fixture
def prefix() -> str:
    return unique_prefix("pacing")


@pytest.fixture
def broker(prefix: str) -> Iterator[RedisBroker]:
    previous = broker_setup.installed()
    broker = broker_setup.redis_broker(REDIS_URL, prefix=prefix, policy=Worker())
    broker_setup.install(broker)
    broker.declare_queue(broker_setup.EMPLOYEE_QUEUE)
    yield broker
    client = sync_redis.Redis.from_url(REDIS_URL)
    for pattern in (f"{prefix}:*", f"{prefix}-dramatiq:*"):
        mine = list(client.scan_iter(match=pattern))
        if mine:
            client.delete(*mine)
    client.close()
    if previous is not None:
        broker_setup.install(previous)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def record_begun(redis: Redis, integration: str) -> None:
    """What a worker's begin tells the pacer (here of a record in no run: nothing else)."""
    store = RunStore(redis, prefix=unique_prefix("pacing-begin"))
    now = time.time()
    await store.begin("no-run", "1", now=now, due=now, release=pacing_release(integration))


def tasks(integration: str, count: int) -> list[EmployeeTask]:
    return [
        EmployeeTask(
            run_id="r1", integration=integration, employee_number=str(n), employee_id=f"e{n}"
        )
        for n in range(1, count + 1)
    ]


def queued(broker: RedisBroker) -> list[EmployeeTask]:
    """Every task released into the employees queue, in queue order."""
    consumer = broker.consume(broker_setup.EMPLOYEE_QUEUE, prefetch=10_000, timeout=100)
    found: list[EmployeeTask] = []
    while (message := next(consumer)) is not None:
        task = decode_task(message.args[0], "employees")
        assert isinstance(task, EmployeeTask)
        found.append(task)
        consumer.ack(message)
    consumer.close()
    return found


def limiter_prefix(prefix: str) -> str:
    return f"{prefix}:ratelimit:"


def test_a_slow_company_queued_first_does_not_hold_back_a_fast_one(
    broker: RedisBroker, prefix: str
) -> None:
    pacer = Pacer(broker)
    pacer.publish_limits({"slow": SLOW, "fast": FAST})
    pace_or_send(tasks("slow", 1_000))
    pace_or_send(tasks("fast", 200))

    released = pacer.release(limiter_prefix(prefix))

    in_queue = queued(broker)
    by_integration = {
        name: [t for t in in_queue if t.integration == name] for name in ("slow", "fast")
    }
    # Each integration got what its limit lets go at once (its burst), no more.
    assert len(by_integration["slow"]) == SLOW.burst
    assert len(by_integration["fast"]) == FAST.burst
    assert released.records == SLOW.burst + FAST.burst
    # Released records are marked, so beginning one tells the pacer.
    assert all(task.paced for task in in_queue)
    assert pacer.waiting("slow") == 1_000 - SLOW.burst
    assert pacer.waiting("fast") == 200 - FAST.burst


async def test_records_on_their_way_hold_back_the_next_until_a_worker_begins_them(
    broker: RedisBroker, prefix: str, redis: Redis
) -> None:
    pacer = Pacer(broker)
    pacer.publish_limits({"fast": FAST})
    pace_or_send(tasks("fast", 200))
    assert pacer.release(limiter_prefix(prefix)).records == FAST.burst
    # Nobody has begun them: the limiter's slots are free, but taken by what is on its way.
    assert pacer.release(limiter_prefix(prefix)).records == 0

    # Workers begin ten and each makes its request through the shared limiter.
    limiter = SharedRateLimiter.for_deployment(redis, prefix, max_wait=5.0)
    for _ in range(10):
        await record_begun(redis, "fast")
        await limiter.acquire("fast", RateLimit(per_second=FAST.per_second, burst=FAST.burst))
    # Ten slots were used and ten records fewer are on their way: whatever the limiter has
    # refilled by now, never more than the burst is on its way at once.
    again = pacer.release(limiter_prefix(prefix)).records
    await asyncio.sleep(0.5)  # the ten requests' slots are long free again
    later = pacer.release(limiter_prefix(prefix)).records
    assert again + later == 10
    assert len(queued(broker)) == FAST.burst + again + later


async def test_nothing_is_released_while_a_429_holds_the_integration(
    broker: RedisBroker, prefix: str, redis: Redis
) -> None:
    pacer = Pacer(broker)
    pacer.publish_limits({"held": FAST})
    limiter = SharedRateLimiter.for_deployment(redis, prefix, max_wait=5.0)
    await limiter.penalise("held", 0.6)
    pace_or_send(tasks("held", 30))

    assert pacer.release(limiter_prefix(prefix)).records == 0
    await asyncio.sleep(0.8)
    assert pacer.release(limiter_prefix(prefix)).records > 0


def test_retries_and_deferrals_go_unpaced() -> None:
    task = msgspec.structs.replace(tasks("x", 1)[0], paced=True)
    assert not task.next_attempt(started=1.0).paced
    assert not task.deferral(started=1.0).paced


async def test_a_begin_after_the_count_expired_does_not_go_below_zero(
    broker: RedisBroker, redis: Redis
) -> None:
    key = Pacer(broker).keys.outstanding("gone")
    await record_begun(redis, "gone")
    assert await redis.get(key) is None
    await redis.set(key, 1)
    await record_begun(redis, "gone")
    await record_begun(redis, "gone")
    assert int(await redis.get(key) or 0) == 0

"""Pacing: each integration's records enter the workers' queue at that integration's own rate.

Why: the payroll API limits each company's requests, but every company shares the workers. Were
all records queued at once, a worker thread would take up a slow company's record and wait for
its rate limit (or defer it), while a fast company's records queued behind it. So records wait
here instead, in one list per integration, and `release` moves them into the broker's queue as
that integration's shared rate limit (connectors/ratelimit.py) has free slots, less the records
already released that no worker has begun. A record reaches a worker when its first request can
go; the limiter stays the guard for the rest. One message per record, as before: the release
writes the message the producer encoded, where Dramatiq's own enqueue would have.

Keys, under the broker's namespace (`<prefix>-dramatiq`):
- `pace:pending:<integration>`: list of "queue<TAB>message id<TAB>encoded message"
- `pace:due`: zset, integration -> when to look at it next (µs, Redis clock)
- `pace:outstanding:<integration>`: released, not yet begun (a worker's begin takes one off;
  expires when an integration goes quiet, so a lost message cannot hold it back for long)
- `pace:limits`: hash, integration -> "interval_us burst", written by the workers from settings
- `pace:leader`: which worker process's dispatcher releases now (a lease; the others stand by)

The broker and the rate limiter must share one Redis (they do: one `PAYROLL_SYNC_REDIS_URL`).
Without a Redis broker (the demo's StubBroker) tasks are queued at once, unpaced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Final

import msgspec
import redis.asyncio as aioredis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.metrics.waiting import Waiting, show_waiting
from payroll_sync.queue.broker import broker_namespace
from payroll_sync.schemas.messages import Task

#: Records moved per release call, over all integrations: keeps one call well under 50 ms.
MAX_RECORDS_PER_CALL: Final = 500
#: Integrations looked at per call; the rest, with older turns, come first next call.
MAX_INTEGRATIONS_PER_CALL: Final = 200
#: An integration quiet this long forgets its outstanding count (a message lost after release).
OUTSTANDING_TTL_MS: Final = 60_000
#: While released records wait for workers to begin them, look again after this at the latest
#: (each begin brings the integration's turn forward to "now").
RECHECK_SECONDS: Final = 1.0
#: Records written to Redis per round trip when pending.
PEND_CHUNK: Final = 1_000


class Limit(msgspec.Struct, frozen=True):
    """An integration's payroll rate limit, as the pacing script reads it."""

    per_second: float
    burst: int

    @property
    def interval_us(self) -> str:
        """Microseconds between two requests, as the release script reads them."""
        return f"{1_000_000.0 / self.per_second:.0f}"

    def encoded(self) -> str:
        return f"{self.interval_us} {self.burst}"


#: For an integration the workers have no settings for (its records fail on configuration).
DEFAULT_LIMIT: Final = Limit(per_second=10.0, burst=10)


@dataclass(frozen=True)
class PaceKeys:
    namespace: str

    @property
    def due(self) -> str:
        return f"{self.namespace}:pace:due"

    @property
    def limits(self) -> str:
        return f"{self.namespace}:pace:limits"

    def pending(self, integration: str) -> str:
        return f"{self.namespace}:pace:pending:{integration}"

    def outstanding(self, integration: str) -> str:
        return f"{self.namespace}:pace:outstanding:{integration}"

    @property
    def leader(self) -> str:
        return f"{self.namespace}:pace:leader"


class Released(msgspec.Struct, frozen=True):
    records: int
    # Seconds until an integration's next turn; None when nothing waits.
    next_in: float | None


def pending_entry(queue_name: str, message_id: str, encoded: str) -> str:
    return f"{queue_name}\t{message_id}\t{encoded}"


#: Take the lease, or keep it if it is ours. ARGV: holder, milliseconds.
_LEAD: Final = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
#: Give the lease up if it is ours (a stopping worker: another takes over at once).
_RESIGN: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _script_source() -> str:
    return (resources.files("payroll_sync.queue") / "scripts" / "release.lua").read_text()


class Pacer:
    """Pends tasks (senders) and releases them (the workers' dispatcher), on the broker's Redis."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker
        self.keys = PaceKeys(broker.namespace)
        self._release = broker.client.register_script(_script_source())
        self._lead = broker.client.register_script(_LEAD)
        self._resign = broker.client.register_script(_RESIGN)

    def lead(self, holder: str, seconds: float) -> bool:
        """Whether `holder` releases for the next `seconds` (one dispatcher at a time does: the
        others would only repeat its calls)."""
        return bool(self._lead(keys=[self.keys.leader], args=[holder, int(seconds * 1000)]))

    def resign(self, holder: str) -> None:
        self._resign(keys=[self.keys.leader], args=[holder])

    def pend(self, messages: Iterable[tuple[Task, str, str, str]]) -> int:
        """Write (task, queue, message id, encoded message) to their integrations' lists."""
        written = 0
        chunk: list[tuple[Task, str, str, str]] = []
        for item in messages:
            chunk.append(item)
            if len(chunk) >= PEND_CHUNK:
                written += self._pend_chunk(chunk)
                chunk = []
        if chunk:
            written += self._pend_chunk(chunk)
        return written

    def _pend_chunk(self, chunk: Sequence[tuple[Task, str, str, str]]) -> int:
        by_integration: dict[str, list[str]] = {}
        for task, queue, message_id, encoded in chunk:
            by_integration.setdefault(task.integration, []).append(
                pending_entry(queue, message_id, encoded)
            )
        pipe = self.broker.client.pipeline(transaction=True)
        for integration, entries in by_integration.items():
            pipe.rpush(self.keys.pending(integration), *entries)
        # The Redis clock decides turns; a newcomer's turn is "now", i.e. score 0 = at once,
        # without moving an integration already waiting (NX).
        pipe.zadd(self.keys.due, dict.fromkeys(by_integration, 0), nx=True)
        pipe.execute()
        return len(chunk)

    def publish_limits(self, limits: Mapping[str, Limit]) -> None:
        """Tell the release script each integration's rate (the workers do, from settings)."""
        if limits:
            self.broker.client.hset(
                self.keys.limits, mapping={name: limit.encoded() for name, limit in limits.items()}
            )

    def release(self, limiter_prefix: str) -> Released:
        """Move what each due integration may send now into the broker's queues.

        `limiter_prefix` is the shared rate limiter's key prefix (`SharedRateLimiter.key("")`).
        """
        released, next_in_us = self._release(
            keys=[self.keys.due, self.keys.limits],
            args=[
                self.broker.namespace,
                limiter_prefix,
                MAX_RECORDS_PER_CALL,
                MAX_INTEGRATIONS_PER_CALL,
                OUTSTANDING_TTL_MS,
                DEFAULT_LIMIT.interval_us,
                DEFAULT_LIMIT.burst,
                f"{RECHECK_SECONDS * 1_000_000.0:.0f}",
            ],
        )
        wait_us = int(next_in_us)
        return Released(
            records=int(released), next_in=None if wait_us < 0 else max(0.0, wait_us / 1e6)
        )

    def waiting(self, integration: str) -> int:
        """Records of `integration` not yet released."""
        return int(self.broker.client.llen(self.keys.pending(integration)))


#: For the metrics: each integration with a turn (or named in ARGV), its records waiting and the
#: age of its oldest one in ms (Redis clock against the message's `message_timestamp`, which the
#: sender set when it encoded it; "" when none waits). Read only; one round trip however many
#: integrations, and only the head of each list is read. ARGV: namespace, integrations.
_WAITING: Final = """
local due = KEYS[1]
local namespace = ARGV[1]
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local names = {}
local seen = {}
for _, name in ipairs(redis.call('ZRANGE', due, 0, -1)) do
  if not seen[name] then seen[name] = true; names[#names + 1] = name end
end
for i = 2, #ARGV do
  if not seen[ARGV[i]] then seen[ARGV[i]] = true; names[#names + 1] = ARGV[i] end
end
local out = {}
for _, name in ipairs(names) do
  local pending = namespace .. ':pace:pending:' .. name
  local count = redis.call('LLEN', pending)
  local age = ''
  if count > 0 then
    local stamp = string.match(redis.call('LINDEX', pending, 0), '"message_timestamp":(%d+)')
    if stamp then age = tostring(math.max(0, now_ms - tonumber(stamp))) end
  end
  out[#out + 1] = name
  out[#out + 1] = count
  out[#out + 1] = age
end
return out
"""


async def waiting_records(
    redis: aioredis.Redis, keys: PaceKeys, known: Iterable[str] = ()
) -> dict[str, Waiting]:
    """What the pacer holds per integration: those with a turn, and `known` ones (0 if none)."""
    rows = await redis.eval(_WAITING, 1, keys.due, keys.namespace, *known)
    found: dict[str, Waiting] = {}
    for at in range(0, len(rows), 3):
        name, count, age = rows[at : at + 3]
        integration = name.decode() if isinstance(name, bytes) else str(name)
        age_text = age.decode() if isinstance(age, bytes) else str(age)
        found[integration] = Waiting(int(count), int(age_text) / 1000.0 if age_text else 0.0)
    return found


def waiting_refresh(
    redis: aioredis.Redis, prefix: str, known: Callable[[], Iterable[str]]
) -> Callable[[], Awaitable[None]]:
    """A `/metrics` refresh (metrics/exposition.py) of the pacer's gauges of the deployment
    under `prefix`; `known`: the integrations of the catalog in force."""
    keys = PaceKeys(broker_namespace(prefix))

    async def refresh() -> None:
        show_waiting(await waiting_records(redis, keys, known()))

    return refresh

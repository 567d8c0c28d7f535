"""Incidents in Redis: opened and resolved atomically, their webhook calls queued once.

Keys (P = the deployment prefix, I = integration id, C = condition, N = incident id):
  P:alerts:open             hash: "I:C" -> the open Incident (JSON)
  P:alerts:resolved         hash: N -> a resolved Incident (JSON), for the dashboard
  P:alerts:resolvedat       sorted set of resolved incident ids by when they resolved; both
                            trimmed to RESOLVED_KEPT_SECONDS
  P:alerts:outbox           hash: "N:open" / "N:resolve" -> the Notification still to send
  P:alerts:sending:N:E      held (SET NX, with a lease) by the one process sending entry N:E
  P:alerts:reference        hash: I -> the latest scheduled finish known, or when the alerts
                            began watching its schedule (Unix time; rules.stale's reference)

A transition is one Lua script (`open`, `resolve`): it changes the incident and queues its
notification together, and only when the incident was not already in that state, so two
scheduler processes evaluating at once make one transition and one queued call. Delivery takes
the entry's lease, POSTs, and removes the entry only after a 2xx: a failed POST leaves it for the
next pass; a sent one is never sent again. (A process that dies between the 2xx and the removal
leaves the entry to be sent again after the lease: at most once more, never lost.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import msgspec
import redis.asyncio as aioredis

from payroll_sync.alerts.rules import Condition

Event = Literal["open", "resolve"]
#: Resolved incidents are listed this long (the dashboard's "recently resolved").
RESOLVED_KEPT_SECONDS: Final = 7 * 24 * 3600
#: A delivery's lease: longer than the webhook's timeout, so no second process sends meanwhile.
LEASE_SECONDS: Final = 120


class Incident(msgspec.Struct, kw_only=True):
    id: str
    integration: str
    condition: Condition
    opened_at: float
    detail: str
    numbers: dict[str, float] = msgspec.field(default_factory=dict)
    resolved_at: float = 0.0
    # What was true when it resolved (the numbers of the clean runs, say).
    resolved_detail: str = ""


class Resolved(msgspec.Struct, kw_only=True):
    """How a resolved incident is kept: as it was stored while open, and when it ended."""

    incident: Incident
    resolved_at: float
    resolved_detail: str = ""

    def merged(self) -> Incident:
        self.incident.resolved_at = self.resolved_at
        self.incident.resolved_detail = self.resolved_detail
        return self.incident


class Notification(msgspec.Struct, kw_only=True):
    """One webhook call to make: an incident opened or resolved."""

    incident: Incident
    event: Event
    at: float
    # A recovery's: when it resolved and what was true then.
    resolved_at: float = 0.0
    resolved_detail: str = ""

    def __post_init__(self) -> None:
        if self.event == "resolve":
            self.incident.resolved_at = self.resolved_at
            self.incident.resolved_detail = self.resolved_detail

    @property
    def entry(self) -> str:
        return f"{self.incident.id}:{self.event}"


_ENCODER: Final = msgspec.json.Encoder()
_INCIDENT: Final = msgspec.json.Decoder(Incident)
_RESOLVED: Final = msgspec.json.Decoder(Resolved)
_NOTIFICATION: Final = msgspec.json.Decoder(Notification)

# KEYS: open, outbox. ARGV: field, incident JSON, entry, notification JSON.
_OPEN: Final = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
return 1
"""

# KEYS: open, outbox, resolved, resolvedat. ARGV: field, resolved_at, resolved_detail (a JSON
# string), kept seconds. The stored incident's JSON is wrapped as it is, never decoded here.
_RESOLVE: Final = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return nil end
local id = cjson.decode(raw)['id']
local tail = ',"resolved_at":' .. ARGV[2] .. ',"resolved_detail":' .. ARGV[3] .. '}'
local record = '{"incident":' .. raw .. tail
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[3], id, record)
redis.call('ZADD', KEYS[4], ARGV[2], id)
redis.call('HSET', KEYS[2], id .. ':resolve',
    '{"incident":' .. raw .. ',"event":"resolve","at":' .. ARGV[2] .. tail)
local before = tonumber(ARGV[2]) - tonumber(ARGV[4])
for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', before)) do
    redis.call('HDEL', KEYS[3], old)
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', before)
return record
"""

# KEYS: outbox, lease. ARGV: entry, lease seconds. The lease, only while the entry is still to
# send: a process that read the outbox before another sent it must not send it again.
_TAKE: Final = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 1 end
return 0
"""

# KEYS: outbox, lease. ARGV: entry. Remove a sent entry and its lease.
_SENT: Final = """
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


def incident_id(integration: str, condition: Condition, opened_at: float) -> str:
    """Readable and unique per opening: "acme:failing:1764568800123"."""
    return f"{integration}:{condition}:{int(opened_at * 1000)}"


class IncidentStore:
    def __init__(self, redis: aioredis.Redis, *, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        base = f"{prefix}:alerts"
        self.open_key = f"{base}:open"
        self.resolved_key = f"{base}:resolved"
        self.resolved_at_key = f"{base}:resolvedat"
        self.outbox_key = f"{base}:outbox"
        self.reference_key = f"{base}:reference"
        self._lease_base = f"{base}:sending"
        self._open = redis.register_script(_OPEN)
        self._resolve = redis.register_script(_RESOLVE)
        self._take = redis.register_script(_TAKE)
        self._sent = redis.register_script(_SENT)

    def lease_key(self, entry: str) -> str:
        return f"{self._lease_base}:{entry}"

    # ------------------------------------------------------------------ transitions

    async def open(
        self,
        integration: str,
        condition: Condition,
        *,
        now: float,
        detail: str,
        numbers: dict[str, float] | None = None,
    ) -> Incident | None:
        """Open an incident unless one is open; the new one, or None (already open)."""
        incident = Incident(
            id=incident_id(integration, condition, now),
            integration=integration,
            condition=condition,
            opened_at=now,
            detail=detail,
            numbers=numbers or {},
        )
        notification = Notification(incident=incident, event="open", at=now)
        done = await self._open(
            keys=[self.open_key, self.outbox_key],
            args=[
                _field(integration, condition),
                _ENCODER.encode(incident),
                notification.entry,
                _ENCODER.encode(notification),
            ],
        )
        return incident if done else None

    async def resolve(
        self, integration: str, condition: Condition, *, now: float, detail: str = ""
    ) -> Incident | None:
        """Resolve the open incident; it, or None (none was open)."""
        body = await self._resolve(
            keys=[self.open_key, self.outbox_key, self.resolved_key, self.resolved_at_key],
            args=[
                _field(integration, condition),
                repr(now),
                _ENCODER.encode(detail),
                RESOLVED_KEPT_SECONDS,
            ],
        )
        return _RESOLVED.decode(body).merged() if body else None

    # ------------------------------------------------------------------ reading

    async def open_incidents(self) -> list[Incident]:
        raw = await self.redis.hvals(self.open_key)
        return sorted((_INCIDENT.decode(item) for item in raw), key=lambda i: i.opened_at)

    async def recently_resolved(self, *, since: float) -> list[Incident]:
        found = await self.redis.zrevrangebyscore(self.resolved_at_key, "+inf", since)
        ids = [_text(item) for item in found if isinstance(item, bytes | str)]
        if not ids:
            return []
        raw = await self.redis.hmget(self.resolved_key, ids)
        return [_RESOLVED.decode(item).merged() for item in raw if item]

    # ------------------------------------------------------------------ delivery

    async def pending(self) -> list[Notification]:
        """Notifications still to send, oldest first (an incident's opening before its end)."""
        raw = await self.redis.hvals(self.outbox_key)
        found = [_NOTIFICATION.decode(item) for item in raw]
        return sorted(found, key=lambda n: (n.at, n.event != "open"))

    async def take(self, notification: Notification) -> bool:
        """The lease of sending it: True for one process until it is sent or released."""
        taken = await self._take(
            keys=[self.outbox_key, self.lease_key(notification.entry)],
            args=[notification.entry, LEASE_SECONDS],
        )
        return bool(taken)

    async def sent(self, notification: Notification) -> None:
        await self._sent(
            keys=[self.outbox_key, self.lease_key(notification.entry)], args=[notification.entry]
        )

    async def release(self, notification: Notification) -> None:
        """Not sent: the next pass tries again."""
        await self.redis.delete(self.lease_key(notification.entry))

    async def drop(self, notifications: Iterable[Notification]) -> None:
        """Nothing to send them to (no webhook configured)."""
        entries = [item.entry for item in notifications]
        if entries:
            await self.redis.hdel(self.outbox_key, *entries)

    # ------------------------------------------------------------------ the stale rule's reference

    async def references(self) -> dict[str, float]:
        raw = await self.redis.hgetall(self.reference_key)
        return {_text(key): float(value) for key, value in raw.items()}

    async def save_references(self, moved: dict[str, float], forget: Iterable[str]) -> None:
        gone = list(forget)
        async with self.redis.pipeline(transaction=True) as pipe:
            if moved:
                pipe.hset(self.reference_key, mapping={k: repr(v) for k, v in moved.items()})
            if gone:
                pipe.hdel(self.reference_key, *gone)
            await pipe.execute()


def _field(integration: str, condition: Condition) -> str:
    return f"{integration}:{condition}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

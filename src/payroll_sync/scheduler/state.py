"""What every scheduler process shares in Redis: when slots were last looked for, when each
schedule was first seen switched on, and one lock per slot so it fires once.

Keys (P = the deployment prefix, I = integration id, S = slot key "2026-03-30T06:00"):
  P:schedule:checked      when a scheduler last looked for due slots (Unix time); after a
                          restart the slots since then are the missed ones
  P:schedule:enabled      hash: I -> when its schedule was first seen enabled (Unix time);
                          removed when the schedule is seen off or gone, so switching it on
                          again counts as switching on
  P:schedule:slot:I:S     the slot's lock, taken with SET NX by the one process that handles it
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Final

import msgspec
import redis.asyncio as aioredis

from payroll_sync.scheduler.slots import LOOKBACK, MAX_LATE, Slot

UTC: Final = datetime.UTC
#: A slot's lock outlives every way the slot can come up again: it is only ever looked for
#: within LOOKBACK of "now", and a few seconds' disagreement between processes' clocks.
LOCK_SECONDS: Final = int((LOOKBACK + MAX_LATE + datetime.timedelta(days=1)).total_seconds())


class Claim(msgspec.Struct, kw_only=True, frozen=True):
    """What a slot's lock holds: who handled it and how (for whoever looks in Redis)."""

    by: str
    action: str  # "fire" or "skip"
    at: float


_CLAIM_ENCODER: Final = msgspec.json.Encoder()


def _instant(raw: bytes | str | None) -> datetime.datetime | None:
    if raw is None:
        return None
    return datetime.datetime.fromtimestamp(float(raw), UTC)


class ScheduleState:
    def __init__(self, redis: aioredis.Redis, *, prefix: str) -> None:
        self._redis = redis
        self.prefix = prefix
        self._checked = f"{prefix}:schedule:checked"
        self._enabled = f"{prefix}:schedule:enabled"

    def slot_key(self, integration: str, slot: Slot) -> str:
        return f"{self.prefix}:schedule:slot:{integration}:{slot.key}"

    async def last_checked(self) -> datetime.datetime | None:
        return _instant(await self._redis.get(self._checked))

    async def set_checked(self, now: datetime.datetime) -> None:
        # A plain SET: a slower process writing an earlier time only makes the next pass look
        # at a few seconds again, and the slot locks keep that from firing anything twice.
        await self._redis.set(self._checked, repr(now.timestamp()))

    async def enabled_since(self) -> dict[str, datetime.datetime]:
        raw = await self._redis.hgetall(self._enabled)
        found: dict[str, datetime.datetime] = {}
        for key, value in raw.items():
            instant = _instant(value)
            if instant is not None:
                found[key.decode() if isinstance(key, bytes) else str(key)] = instant
        return found

    async def mark_enabled(self, integration: str, now: datetime.datetime) -> datetime.datetime:
        """Record that the schedule is on, unless already recorded; returns the recorded time
        (another process may have seen it first)."""
        await self._redis.hsetnx(self._enabled, integration, repr(now.timestamp()))
        recorded = _instant(await self._redis.hget(self._enabled, integration))
        return recorded or now

    async def forget(self, integrations: Iterable[str]) -> None:
        """The schedules are off or gone: switching one on again starts afresh."""
        names = list(integrations)
        if names:
            await self._redis.hdel(self._enabled, *names)

    async def claim(self, integration: str, slot: Slot, claim: Claim) -> bool:
        """Take the slot's lock; True for exactly one caller among all processes."""
        taken = await self._redis.set(
            self.slot_key(integration, slot),
            _CLAIM_ENCODER.encode(claim),
            nx=True,
            ex=LOCK_SECONDS,
        )
        return bool(taken)

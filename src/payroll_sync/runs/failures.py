"""The failures index: every record whose latest outcome is `failed`, across runs.

The record script (scripts/record.lua) keeps it: a failed outcome adds the record's failure id,
any other outcome of a real run removes it. The dashboard lists it, retries from it and discards
from it; a discarded failure's run keeps its outcome.
"""

from __future__ import annotations

import time

import msgspec
import redis.asyncio as aioredis

from payroll_sync.runs.encoding import OUTCOME_DECODER, text
from payroll_sync.runs.keys import Keys
from payroll_sync.schemas.messages import SyncKind
from payroll_sync.schemas.outcomes import RecordOutcome


class Failure(msgspec.Struct, kw_only=True, frozen=True):
    """A record whose latest outcome is `failed`: what the dashboard lists and retries."""

    id: str
    integration: str
    kind: SyncKind
    key: str
    run_id: str
    outcome: RecordOutcome


def failure_id(integration: str, kind: SyncKind, key: str) -> str:
    """Integration ids and kinds hold no ':', so the key may (it is the rest)."""
    return f"{integration}:{kind}:{key}"


def parse_failure_id(ident: str) -> tuple[str, SyncKind, str] | None:
    parts = ident.split(":", 2)
    if len(parts) != 3 or parts[1] not in ("employees", "absences") or not parts[0] or not parts[2]:
        return None
    kind: SyncKind = "employees" if parts[1] == "employees" else "absences"
    return parts[0], kind, parts[2]


class FailureIndex:
    """Reads and trims the index; only the record script adds to it."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, *, retention_seconds: float) -> None:
        self._redis = redis
        self._keys = keys
        # A failure whose run has expired (with its outcome) is forgotten.
        self._retention_seconds = retention_seconds

    async def listing(self, limit: int = 10_000) -> list[Failure]:
        """Records whose latest outcome is `failed`, newest first (discarded ones excluded).

        Three round trips whatever the number: the ids, then each one's latest run, then each
        outcome. A failure whose run has expired is dropped from the index as it is met.
        """
        index = self._keys.failures()
        await self._redis.zremrangebyscore(index, "-inf", time.time() - self._retention_seconds)
        ids = [text(v) for v in await self._redis.zrevrange(index, 0, limit - 1)]
        parsed = [(ident, parse_failure_id(ident)) for ident in ids]
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, where in parsed:
                if where is not None:
                    pipe.hget(self._keys.last(where[0], where[1]), where[2])
            last_runs = iter(await pipe.execute())
        located = [
            (ident, where, text(run_id) if run_id else "")
            for ident, where in parsed
            if where is not None
            for run_id in [next(last_runs)]
        ]
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, where, run_id in located:
                pipe.hget(self._keys.outcomes(run_id), where[2])
            raw_outcomes = await pipe.execute()
        found: list[Failure] = []
        stale: list[str] = [ident for ident, where in parsed if where is None]
        for (ident, where, run_id), raw in zip(located, raw_outcomes, strict=True):
            failure = _failure(ident, where, run_id, raw)
            if failure is None:
                stale.append(ident)
            else:
                found.append(failure)
        if stale:
            await self._redis.zrem(index, *stale)
        return found

    async def get(self, ident: str) -> Failure | None:
        """One failure by id, None when unknown, discarded or superseded by a later outcome."""
        where = parse_failure_id(ident)
        if where is None or await self._redis.zscore(self._keys.failures(), ident) is None:
            return None
        integration, kind, key = where
        run_id = await self._redis.hget(self._keys.last(integration, kind), key)
        if not run_id:
            return None
        raw = await self._redis.hget(self._keys.outcomes(text(run_id)), key)
        return _failure(ident, where, text(run_id), raw)

    async def discard(self, ident: str) -> bool:
        """Take a failure off the list (its run keeps the outcome); False when not listed."""
        return bool(await self._redis.zrem(self._keys.failures(), ident))


def _failure(
    ident: str, where: tuple[str, SyncKind, str], run_id: str, raw: bytes | str | None
) -> Failure | None:
    """The failure, None when its latest run holds no failed outcome for it (any more)."""
    outcome = OUTCOME_DECODER.decode(raw) if raw and run_id else None
    if outcome is None or outcome.outcome != "failed":
        return None
    integration, kind, key = where
    return Failure(
        id=ident, integration=integration, kind=kind, key=key, run_id=run_id, outcome=outcome
    )

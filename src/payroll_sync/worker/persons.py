"""Which 24SevenOffice empId holds a person: the index the worker checks before creating one.

The published API cannot search employees by person number (the OpenAPI file has no query
parameter on `GET /employee/v2` and no paging: it lists the whole company). Listing per created
record would cost a 100,000-employee company 100,000 full listings on its first sync, so the
listing is made once and shared, in Redis, by every worker process of the integration:

- one hash per integration (`Keys.persons`): digest of the person number -> empId, and the
  field `built` = when the listing it was made from began (Unix seconds);
- a record may use it when it was built at or after the record's `first_attempt_at`, the time
  the producer's bulk read found the employee absent from 24SevenOffice: anyone 24SevenOffice
  held then is in it. Otherwise one worker rebuilds it under a lock (redis-py's `Lock`) while
  the others wait and then use the rebuilt one: one listing per run that creates anyone,
  none for a run that creates nobody;
- each employee the sync creates is added at once (`add`), so a person created earlier in the
  same run is found by the next record too. A person added in 24SevenOffice by hand during a
  run is seen by the next run's index only, and two records of one person handled at the same
  moment may both be created (no claim is taken: a claim left by a crashed create would block
  that person until it expired); those windows are what this trade buys;
- a hit is confirmed by the caller with one `GET /employee/v2/{empId}` before it fails a
  record, so a stale entry (that employee renumbered or removed since) never blocks anyone.

The index holds no person number in clear: fields are keyed BLAKE2b digests (pseudonymous, not
anonymous: an 11-digit number can be guessed), and the hash expires `INDEX_TTL_SECONDS` after
its last rebuild like the run snapshots that hold the same data.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Final, Protocol

import redis.asyncio as aioredis
from redis.exceptions import LockError

from payroll_sync.errors import Retryable
from payroll_sync.rules.identity import person_index
from payroll_sync.runs.encoding import text
from payroll_sync.runs.keys import Keys
from payroll_sync.schemas import payroll

#: How long an index is kept after its last rebuild: as long as a run's snapshots.
INDEX_TTL_SECONDS: Final = 6 * 3600
#: The lock is released after this even if its holder died mid-listing (a worker killed while
#: listing must not hold every other worker's creates back for long; a listing that outlasts
#: it only means a second worker may list too, no harm done).
BUILD_LOCK_SECONDS: Final = 30.0
#: How long a record waits for another worker's rebuild before it is retried instead: short,
#: so waiting records go back to the queue rather than hold the worker threads.
BUILD_WAIT_SECONDS: Final = 5.0
#: Fields written per round trip while building.
BUILD_CHUNK: Final = 5_000
BUILT: Final = "built"
_PERSON: Final = b"payroll-sync-id"  # BLAKE2b personalisation: these digests are ours alone


class ListsEmployees(Protocol):
    async def list_employees(self) -> list[payroll.Employee]: ...


def digest(key: str) -> str:
    """The field under which a person number (`identifiers.person_key`) is kept."""
    return hashlib.blake2b(key.encode(), digest_size=16, person=_PERSON).hexdigest()


class PersonIndex:
    """One integration's index (the worker's `PersonPort`)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        integration: str,
        payroll_api: ListsEmployees,
        *,
        clock: Callable[[], float] = time.time,
        wait_seconds: float = BUILD_WAIT_SECONDS,
    ) -> None:
        self._redis = redis
        self._key = keys.persons(integration)
        self._lock = keys.persons_lock(integration)
        self._payroll = payroll_api
        self._clock = clock
        self._wait = wait_seconds

    async def holder(self, person: str, *, fresh_since: float) -> int | None:
        """The empId the index holds for `person`, from an index at least as fresh as
        `fresh_since` (built now if none is)."""
        field = digest(person)
        built, found = await self._redis.hmget(self._key, [BUILT, field])
        if built is None or float(text(built)) < fresh_since:
            found = await self._rebuilt(person, seen=built)
        return int(text(found)) if found else None

    async def add(self, person: str, emp_id: int) -> None:
        """`person` is now `emp_id` (we just created them); kept only while an index exists."""
        script = (
            "if redis.call('EXISTS', KEYS[1]) == 1 then "
            "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end"
        )
        await self._redis.eval(script, 1, self._key, digest(person), str(emp_id))

    async def forget(self, person: str, emp_id: int) -> None:
        """Drop `person` -> `emp_id` when 24SevenOffice no longer says so (a stale entry)."""
        script = (
            "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then "
            "redis.call('HDEL', KEYS[1], ARGV[1]) end"
        )
        await self._redis.eval(script, 1, self._key, digest(person), str(emp_id))

    async def _rebuilt(self, person: str, *, seen: bytes | str | None) -> bytes | str | None:
        lock = self._redis.lock(self._lock, timeout=BUILD_LOCK_SECONDS, blocking_timeout=self._wait)
        if not await lock.acquire():
            raise Retryable("another worker is still reading the 24SevenOffice employee list")
        try:
            built, found = await self._redis.hmget(self._key, [BUILT, digest(person)])
            if built is not None and built != seen:
                return found  # rebuilt by another worker while we waited: as fresh as we need
            began = self._clock()
            index = person_index(await self._payroll.list_employees())
            await self._replace(index, began)
            emp_id = index.get(person)
            return None if emp_id is None else str(emp_id)
        finally:
            # Expired while listing: another worker may have rebuilt too, no harm done.
            with contextlib.suppress(LockError):
                await lock.release()

    async def _replace(self, index: dict[str, int], began: float) -> None:
        """The new index in place of the old in one step (a reader sees one or the other)."""
        building = self._key + ":building"
        rows = [(digest(person), str(emp_id)) for person, emp_id in index.items()]
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.delete(building)
            pipe.hset(building, BUILT, repr(began))
            for start in range(0, len(rows), BUILD_CHUNK):
                chunk = rows[start : start + BUILD_CHUNK]
                pipe.hset(building, mapping=dict(chunk))
            pipe.expire(building, INDEX_TTL_SECONDS)
            pipe.rename(building, self._key)
            await pipe.execute()

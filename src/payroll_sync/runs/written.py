"""What we last wrote to 24SevenOffice, per employee and field, kept as keyed digests.

Why: two questions need "what did payroll hold right after our last write?" without keeping
personal data: the drift report (a field whose payroll value no longer matches what we wrote was
changed there by someone, and the next sync will overwrite it) and the mass-change brake
(an employment end date we have not written before is an employment ending).

A digest is BLAKE2b keyed with a random salt made once per deployment (`P:written:salt`), so a
digest of an account number or a salary is no lookup table for someone who only sees digests.
Values are digested in their comparable form (`rules.compare.normalise`), as the caller passes.

Keys (P = prefix, I = integration, E = 24SevenOffice empId):
  P:written:salt     16 random bytes (hex), set once
  P:written:I:E      hash: API field name (employment fields with `employment.`) -> digest
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Final

import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from payroll_sync.runs.encoding import text

SALT_BYTES: Final = 16
DIGEST_BYTES: Final = 8


def written_key(prefix: str, integration: str, emp_id: str) -> str:
    """The hash of one employee's digests (also read by `RunStore.begin`, with the record's
    other state, in the worker's one round trip per record)."""
    return f"{prefix}:written:{integration}:{emp_id}"


def digest(salt: bytes, value: str) -> str:
    """The keyed digest of one comparable value (hex)."""
    return hashlib.blake2b(value.encode(), key=salt, digest_size=DIGEST_BYTES).hexdigest()


class WrittenValues:
    """Digests of the values last written, under the deployment's `prefix`."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._salt: bytes | None = None

    def key(self, integration: str, emp_id: str) -> str:
        return written_key(self._prefix, integration, emp_id)

    async def salt(self) -> bytes:
        """The deployment's salt, made by whoever asks first."""
        if self._salt is None:
            key = f"{self._prefix}:written:salt"
            # Hex text: read alike by clients made with or without decode_responses.
            await self._redis.set(key, secrets.token_hex(SALT_BYTES), nx=True)
            self._salt = bytes.fromhex(text(await self._redis.get(key)))
        return self._salt

    async def digests(self, values: Mapping[str, str]) -> dict[str, str]:
        """field -> digest of each comparable value."""
        salt = await self.salt()
        return {field: digest(salt, value) for field, value in values.items()}

    async def remember(self, integration: str, emp_id: str, values: Mapping[str, str]) -> None:
        """Record that payroll now holds `values` (field -> comparable value) for `emp_id`;
        other fields keep what was recorded for them."""
        if values:
            mapping: dict[FieldT, EncodableT] = {}
            mapping.update(await self.digests(values))
            await self._redis.hset(self.key(integration, emp_id), mapping=mapping)

    async def everything(self, integration: str, emp_id: str) -> dict[str, str]:
        """field -> digest of every field remembered for `emp_id` (empty: none)."""
        raw = await self._redis.hgetall(self.key(integration, emp_id))
        return {text(field): text(value) for field, value in raw.items()}

    async def recall(
        self, integration: str, emp_ids: Sequence[str], fields: Sequence[str]
    ) -> list[dict[str, str]]:
        """Per empId (in order), field -> digest last written, for the `fields` recorded."""
        if not emp_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for emp_id in emp_ids:
                pipe.hmget(self.key(integration, emp_id), list(fields))
            rows = await pipe.execute()
        return [
            {field: text(value) for field, value in zip(fields, row, strict=True) if value}
            for row in rows
        ]

"""Which 24SevenOffice employment each employee's employment was last written to.

Kept per integration, the link lets the next sync find that employment first, before matching
by start date (which may have changed meanwhile).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from payroll_sync.runs.encoding import text
from payroll_sync.runs.keys import Keys


class EmploymentLinks:
    """One integration's links, by 24SevenOffice empId (the worker's `LinkPort`)."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, integration: str) -> None:
        self._redis = redis
        self._key = keys.links(integration)

    async def get(self, emp_id: int) -> str | None:
        value = await self._redis.hget(self._key, str(emp_id))
        return text(value) if value else None

    async def set(self, emp_id: int, employment_id: str) -> None:
        await self._redis.hset(self._key, str(emp_id), employment_id)

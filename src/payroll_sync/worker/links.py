"""Which 24SevenOffice employment each employee's employment was last written to.

Kept per integration, the link lets the next sync find that employment first, before matching
by start date (which may have changed meanwhile).
"""

from __future__ import annotations

from collections.abc import Mapping

import redis.asyncio as aioredis

from payroll_sync.runs.encoding import text
from payroll_sync.runs.keys import Keys
from payroll_sync.schemas.messages import EmployeeTask, Task


def link_field(task: Task) -> str | None:
    """The empId (as the links hash spells it) whose link an employee task will read, so the
    worker can read it with the record's other state in one round trip; None when there is
    none to read ahead (an absence, or an employee number payroll cannot take as its id: the
    mapping refuses it, as `rules.employee` says)."""
    if not isinstance(task, EmployeeTask):
        return None
    number = task.employee_number.strip()
    return str(int(number)) if number.isascii() and number.isdigit() else None


class EmploymentLinks:
    """One integration's links, by 24SevenOffice empId (the worker's `LinkPort`).

    `known`: links already read (empId text -> employment id, or None for no link), answered
    without asking Redis again; a link written here replaces what was known of it.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: Keys,
        integration: str,
        *,
        known: Mapping[str, str | None] | None = None,
    ) -> None:
        self._redis = redis
        self._key = keys.links(integration)
        self._known = dict(known or {})

    async def get(self, emp_id: int) -> str | None:
        field = str(emp_id)
        if field in self._known:
            return self._known[field]
        value = await self._redis.hget(self._key, field)
        return text(value) if value else None

    async def set(self, emp_id: int, employment_id: str) -> None:
        field = str(emp_id)
        await self._redis.hset(self._key, field, employment_id)
        if field in self._known:
            self._known[field] = employment_id

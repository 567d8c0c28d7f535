"""The worker's employment links (worker/links.py), on fakeredis and on the real Redis."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask
from payroll_sync.worker.links import EmploymentLinks, link_field


async def test_employment_links_per_integration(redis: aioredis.Redis, store: RunStore) -> None:
    acme = EmploymentLinks(redis, store.keys, "acme")
    other = EmploymentLinks(redis, store.keys, "other")
    assert await acme.get(1001) is None
    await acme.set(1001, "1001-1")
    await other.set(1001, "1001-9")
    assert await acme.get(1001) == "1001-1"
    assert await other.get(1001) == "1001-9"
    await acme.set(1001, "1001-2")
    assert await acme.get(1001) == "1001-2"
    assert await acme.get(1002) is None


async def test_links_live_under_the_prefix(redis: aioredis.Redis, store: RunStore) -> None:
    links = EmploymentLinks(redis, store.keys, "acme")
    await links.set(1001, "1001-1")
    assert await store.delete_everything() == 1
    assert await links.get(1001) is None


async def test_links_already_read_are_not_read_again(
    redis: aioredis.Redis, store: RunStore
) -> None:
    await EmploymentLinks(redis, store.keys, "acme").set(1002, "1002-1")
    # As the record's begin read them: 1001 has no link as far as this record knows.
    links = EmploymentLinks(redis, store.keys, "acme", known={"1001": "1001-1", "1003": None})
    await redis.delete(store.keys.links("acme"))
    assert await links.get(1001) == "1001-1"
    assert await links.get(1003) is None
    assert await links.get(1002) is None  # not known: read (and gone)
    await links.set(1003, "1003-2")
    assert await links.get(1003) == "1003-2"
    assert await redis.hget(store.keys.links("acme"), "1003") == b"1003-2"


@pytest.mark.parametrize(
    ("number", "field"),
    [("1001", "1001"), (" 01001 ", "1001"), ("A-17", None), ("１２", None), (" ", None)],
)
def test_the_link_an_employee_task_reads_is_its_emp_id(number: str, field: str | None) -> None:
    task = EmployeeTask(run_id="r", integration="acme", employee_number=number, employee_id="e")
    assert link_field(task) == field


def test_an_absence_task_reads_no_link() -> None:
    task = AbsenceTask(
        run_id="r", integration="acme", employee_number="1001", employee_id="e", leave_id="L1"
    )
    assert link_field(task) is None

"""The failures index (runs/failures.py), kept by the run store's record script; on fakeredis
and on the real Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import time

import pytest

from payroll_sync.runs.failures import parse_failure_id
from payroll_sync.runs.store import RUN_RETENTION_SECONDS, RunStore
from tests.support.runs import INTEGRATION, enrol, failed_run, new_run, record


async def test_a_failed_record_is_listed_until_a_later_run_succeeds(store: RunStore) -> None:
    first = await failed_run(store, "1001", "1002")

    failures = await store.failures.listing()
    assert sorted(f.key for f in failures) == ["1001", "1002"]
    listed = {f.key: f for f in failures}["1001"]
    assert (listed.id, listed.integration, listed.kind, listed.run_id) == (
        f"{INTEGRATION}:employees:1001",
        INTEGRATION,
        "employees",
        first,
    )
    assert (listed.outcome.reason, listed.outcome.attempt) == (
        "bank account fails its check digit",
        2,
    )

    retry = await new_run(store, now=time.time())
    await enrol(store, retry, "1001")
    assert await record(store, retry, "1001", "updated")
    assert [f.key for f in await store.failures.listing()] == ["1002"]
    assert await store.failures.get(f"{INTEGRATION}:employees:1001") is None


async def test_a_dry_run_leaves_the_failures_alone(store: RunStore) -> None:
    await failed_run(store, "1001")
    await failed_run(store, "1002", dry_run=True)
    dry = await new_run(store, dry_run=True, now=time.time())
    await enrol(store, dry, "1001")
    assert await record(store, dry, "1001", "updated")
    assert [f.key for f in await store.failures.listing()] == ["1001"]


async def test_discard_takes_one_failure_off_the_list(store: RunStore) -> None:
    await failed_run(store, "1001", "1002")
    assert await store.failures.discard(f"{INTEGRATION}:employees:1001")
    assert not await store.failures.discard(f"{INTEGRATION}:employees:1001")
    assert [f.key for f in await store.failures.listing()] == ["1002"]
    # Failing again lists it again.
    await failed_run(store, "1001")
    assert sorted(f.key for f in await store.failures.listing()) == ["1001", "1002"]


async def test_failures_older_than_the_retention_are_forgotten(store: RunStore) -> None:
    await failed_run(store, "1001", at=time.time() - RUN_RETENTION_SECONDS - 60)
    await failed_run(store, "1002")
    assert [f.key for f in await store.failures.listing()] == ["1002"]


@pytest.mark.parametrize(
    "ident",
    ["", "acme", "acme:employees", "acme:payslips:1001", ":employees:1001", "acme:absences:"],
)
async def test_malformed_failure_ids_find_nothing(store: RunStore, ident: str) -> None:
    await failed_run(store, "1001")
    assert parse_failure_id(ident) is None
    assert await store.failures.get(ident) is None


def test_failure_ids_keep_keys_with_colons() -> None:
    assert parse_failure_id("acme:absences:leave:with:colons") == (
        "acme",
        "absences",
        "leave:with:colons",
    )

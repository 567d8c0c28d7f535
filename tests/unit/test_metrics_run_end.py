"""`RunStore.record_last` tells the worker which outcome finished its run (for the run duration
metric), once: the last record's, not a duplicate's."""

from __future__ import annotations

import fakeredis

from payroll_sync.runs.store import RunStore
from tests.support.runs import INTEGRATION, enrol, new_run, outcome_of


async def test_only_the_last_outcome_finishes_the_run() -> None:
    redis = fakeredis.FakeAsyncRedis()
    store = RunStore(redis, prefix="metrics-run-end")
    run_id = await new_run(store)
    await enrol(store, run_id, "1", "2")
    first = outcome_of("1")
    assert await store.record_last(run_id, INTEGRATION, "employees", first) is False
    assert await store.record_last(run_id, INTEGRATION, "employees", first) is None
    last = outcome_of("2", "failed")
    assert await store.record_last(run_id, INTEGRATION, "employees", last) is True
    assert await store.record_last(run_id, INTEGRATION, "employees", last) is None
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "done"
    await redis.aclose()

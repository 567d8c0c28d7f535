"""RunStore and its Lua scripts, on fakeredis (fast) and on the real Redis at 127.0.0.1:6379.

Each real-Redis test owns a unique key prefix and removes exactly its keys at the end (never
FLUSHALL/FLUSHDB: the server may be shared). The failures index: test_failure_index.py.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from payroll_sync.runs.store import (
    RUN_RETENTION_SECONDS,
    Begun,
    Enrolled,
    Release,
    RunStore,
    decode_snapshot,
)
from payroll_sync.runs.written import WrittenValues
from payroll_sync.schemas.outcomes import RecordOutcome, Run
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from tests.support.runs import (
    INTEGRATION,
    NOW,
    employee_snapshot,
    employee_task,
    enrol,
    new_run,
    outcome_of,
    record,
)

# ------------------------------------------------------------------ a run's life


async def test_create_enrol_record_counts_and_status(store: RunStore) -> None:
    run_id = await new_run(store)
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.id, run.integration, run.kind, run.trigger) == (
        run_id,
        INTEGRATION,
        "employees",
        "manual",
    )
    assert (run.status, run.total, run.dry_run, run.created_at) == ("queued", 0, False, NOW)
    assert run.finished == 0

    assert await enrol(store, run_id, "1001", "1002", "1003") == ["1001", "1002", "1003"]
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total) == ("queued", 3)
    assert await store.pending(run_id) == ["1001", "1002", "1003"]
    assert await store.task(run_id, "1002") == employee_task(run_id, "1002")
    assert await store.snapshot(run_id, "1002", EmployeeSnapshot) == employee_snapshot("1002")

    assert await store.record(run_id, INTEGRATION, "employees", outcome_of("1002", "updated", 5.0))
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.started_at, run.finished_at) == ("running", 5.0, 0.0)
    assert run.counts == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "withdrawn": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert await store.pending(run_id) == ["1001", "1003"]

    assert await record(store, run_id, "1001", "failed")
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "running"

    assert await store.record(
        run_id, INTEGRATION, "employees", outcome_of("1003", "unchanged", 9.0)
    )
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.started_at, run.finished_at) == ("done", 5.0, 9.0)
    assert run.counts == {
        "created": 0,
        "updated": 1,
        "unchanged": 1,
        "withdrawn": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert (run.total, run.finished) == (3, 3)
    assert await store.pending(run_id) == []
    # Personal data goes with the end of the run; the tasks stay for retrying.
    assert await store.snapshot(run_id, "1001", EmployeeSnapshot) is None
    assert await store.task(run_id, "1001") == employee_task(run_id, "1001")


async def test_a_duplicate_delivery_keeps_the_firstoutcome_of(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    assert await record(store, run_id, "1001", "created") is True
    before = await store.get_run(run_id)

    assert await record(store, run_id, "1001", "failed") is False

    assert await store.get_run(run_id) == before
    (outcome,) = await store.outcomes(run_id)
    assert (outcome.employee_number, outcome.outcome) == ("1001", "created")
    assert await store.pending(run_id) == ["1002"]


async def test_recording_an_employee_never_enrolled_is_ignored(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    assert await record(store, run_id, "9999") is False
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total, run.finished) == ("queued", 1, 0)
    assert await store.outcomes(run_id) == []


async def test_unknown_run_reads_as_absent(store: RunStore) -> None:
    assert await store.get_run("nope") is None
    assert await store.outcomes("nope") == []
    assert await store.pending("nope") == []
    assert await store.task("nope", "1001") is None
    assert await store.snapshot("nope", "1001", EmployeeSnapshot) is None
    assert await store.enrol("nope", [(employee_task("nope", "1001"), None)]) is None


# ------------------------------------------------------------------ joining a run in progress


async def test_enrolling_a_pending_employee_again_only_refreshes_itsemployee_snapshot(
    store: RunStore,
) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    await record(store, run_id, "1002")  # running now

    again = await store.enrol(
        run_id,
        [
            (
                employee_task(run_id, "1001", dry_run=True),
                employee_snapshot("1001", last_name="Nordmann"),
            )
        ],
    )

    assert again == Enrolled(enqueue=[], stale=[])  # not enqueued a second time
    assert await store.snapshot(run_id, "1001", EmployeeSnapshot) == employee_snapshot(
        "1001", last_name="Nordmann"
    )
    assert await store.task(run_id, "1001") == employee_task(run_id, "1001")  # the first task stays
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total, run.counts["created"]) == ("running", 2, 1)


async def test_enrolling_a_finished_employee_takes_it_back(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    await record(store, run_id, "1001", "failed")

    again = await store.enrol(
        run_id, [(employee_task(run_id, "1001", attempt=1, refetch=True), None)]
    )

    assert again == Enrolled(enqueue=["1001"], stale=[])
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total, run.counts["failed"], run.finished) == ("running", 2, 0, 0)
    assert await store.pending(run_id) == ["1001", "1002"]
    assert await store.task(run_id, "1001") == employee_task(run_id, "1001", refetch=True)
    # Recorded once more, it counts once.
    assert await record(store, run_id, "1001", "updated") is True
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.counts["failed"], run.counts["updated"], run.finished) == (0, 1, 1)
    assert [o.outcome for o in await store.outcomes(run_id)] == ["updated"]


async def test_enrolling_a_new_employee_raises_the_total(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    assert await enrol(store, run_id, "1001", "1002", "1003") == ["1002", "1003"]
    run = await store.get_run(run_id)
    assert run is not None
    assert run.total == 3
    assert await store.pending(run_id) == ["1001", "1002", "1003"]


async def test_enrolling_into_a_done_run_changes_nothing(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    await record(store, run_id, "1001")
    before = await store.get_run(run_id)
    assert before is not None
    assert before.status == "done"

    assert await enrol(store, run_id, "1001", "1002") is None

    assert await store.get_run(run_id) == before
    assert await store.pending(run_id) == []
    assert await store.snapshot(run_id, "1002", EmployeeSnapshot) is None
    assert await store.task(run_id, "1002") is None


# ------------------------------------------------------------------ the active run


async def test_active_run_is_set_for_real_runs_and_cleared_when_done(store: RunStore) -> None:
    assert await store.active_run(INTEGRATION, "employees") is None
    run_id = await new_run(store)
    assert await store.active_run(INTEGRATION, "employees") == run_id
    assert await store.active_run(INTEGRATION, "absences") is None
    assert await store.active_run("other", "employees") is None

    await enrol(store, run_id, "1001", "1002")
    await record(store, run_id, "1001")
    assert await store.active_run(INTEGRATION, "employees") == run_id
    await record(store, run_id, "1002")
    assert await store.active_run(INTEGRATION, "employees") is None


async def test_dry_runs_never_become_active(store: RunStore) -> None:
    dry = await new_run(store, dry_run=True)
    run = await store.get_run(dry)
    assert run is not None
    assert run.dry_run is True
    assert await store.active_run(INTEGRATION, "employees") is None

    real = await new_run(store)
    dry_again = await new_run(store, dry_run=True)
    assert await store.active_run(INTEGRATION, "employees") == real
    # A dry run finishing does not end the real run's turn.
    await enrol(store, dry_again, "1001")
    await record(store, dry_again, "1001")
    assert await store.active_run(INTEGRATION, "employees") == real


async def test_an_older_run_finishing_leaves_a_newer_active_run(store: RunStore) -> None:
    old = await new_run(store)
    await enrol(store, old, "1001")
    new = await new_run(store, now=NOW + 60)
    await record(store, old, "1001")
    assert await store.active_run(INTEGRATION, "employees") == new


async def test_finish_empty_closes_a_run_without_employees(store: RunStore) -> None:
    run_id = await new_run(store)
    await store.finish_empty(run_id, now=NOW + 2, error="Simployer One unreachable")
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.finished_at, run.error, run.total) == (
        "done",
        NOW + 2,
        "Simployer One unreachable",
        0,
    )
    assert await store.active_run(INTEGRATION, "employees") is None
    assert await enrol(store, run_id, "1001") is None


async def test_finish_empty_leaves_a_run_with_employees_alone(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    await store.finish_empty(run_id, now=NOW + 2)
    run = await store.get_run(run_id)
    assert run is not None
    assert (run.status, run.total) == ("queued", 1)
    assert await store.active_run(INTEGRATION, "employees") == run_id
    await store.finish_empty("no-such-run", now=NOW)  # nothing to close, no error


async def test_finish_empty_of_a_dry_run_keeps_the_active_run(store: RunStore) -> None:
    real = await new_run(store)
    await enrol(store, real, "1001")
    dry = await new_run(store, dry_run=True, now=NOW + 1)
    await store.finish_empty(dry, now=NOW + 2)
    assert await store.active_run(INTEGRATION, "employees") == real


# ------------------------------------------------------------------ reading


async def test_outcomes_and_pending_are_sorted_numerically(store: RunStore) -> None:
    run_id = await new_run(store)
    numbers = ["1000", "9", "200", "A-7", "30", "B-1"]
    await enrol(store, run_id, *numbers, "5")
    assert await store.pending(run_id) == ["5", "9", "30", "200", "1000", "A-7", "B-1"]
    for number in numbers:
        await record(store, run_id, number)
    assert [o.employee_number for o in await store.outcomes(run_id)] == [
        "9",
        "30",
        "200",
        "1000",
        "A-7",
        "B-1",
    ]


async def test_outcome_round_trips(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    outcome = RecordOutcome(
        employee_number="1001",
        employee_id="id-1001",
        outcome="failed",
        changed=["firstname", "employment.startdate"],
        reason="24SevenOffice refused the employee: field personnr (HTTP 400)",
        field="ssn",
        attempt=3,
        duration_ms=12.5,
        finished_at=NOW + 3,
    )
    assert await store.record(run_id, INTEGRATION, "employees", outcome)
    assert await store.outcomes(run_id) == [outcome]


async def test_list_runs_newest_first(store: RunStore) -> None:
    first = await new_run(store, now=NOW)
    second = await new_run(store, dry_run=True, now=NOW + 10)
    third = await new_run(store, now=NOW + 20)
    assert [run.id for run in await store.list_runs()] == [third, second, first]
    assert [run.id for run in await store.list_runs(limit=2)] == [third, second]


# ------------------------------------------------------------------ housekeeping


async def test_delete_everything_removes_only_its_prefix(
    redis: aioredis.Redis, store: RunStore, prefix: str
) -> None:
    neighbour = RunStore(redis, prefix=f"{prefix}-neighbour")
    try:
        kept = await neighbour.create_run(
            integration=INTEGRATION, kind="employees", trigger="manual", dry_run=False, now=NOW
        )
        await redis.set(f"{prefix}-neighbour:loose", "x")
        run_id = await new_run(store)
        await enrol(store, run_id, "1001", "1002")
        await record(store, run_id, "1001")

        assert await store.delete_everything() > 0

        assert await redis.keys(f"{prefix}:*") == []
        assert await store.get_run(run_id) is None
        assert await store.active_run(INTEGRATION, "employees") is None
        assert await neighbour.get_run(kept) is not None
        assert await neighbour.active_run(INTEGRATION, "employees") == kept
        assert await redis.get(f"{prefix}-neighbour:loose") == b"x"
        assert await store.delete_everything() == 0
    finally:
        await neighbour.delete_everything()


# ------------------------------------------------------------------ snapshots


async def test_a_snapshot_read_before_the_latest_outcome_is_not_kept(store: RunStore) -> None:
    read_at = time.time()
    first = await new_run(store, now=read_at)
    await enrol(store, first, "1001", "1002")
    # 1001 is written and recorded after the second request read its snapshot at `read_at`.
    assert await store.record(
        first, INTEGRATION, "employees", outcome_of("1001", "updated", at=read_at + 1)
    )
    assert await record(store, first, "1002", "unchanged")  # recorded at NOW: long before

    second = await new_run(store, now=read_at + 2)
    entries = [
        (employee_task(second, n), employee_snapshot(n, last_name="Stale"))
        for n in ("1001", "1002")
    ]
    enrolled = await store.enrol(second, entries, read_at=read_at)

    assert enrolled == Enrolled(enqueue=["1001", "1002"], stale=["1001"])
    assert await store.snapshot(second, "1001", EmployeeSnapshot) is None
    assert await store.snapshot(second, "1002", EmployeeSnapshot) == employee_snapshot(
        "1002", last_name="Stale"
    )


# ------------------------------------------------------------------ taking a record up


async def test_begin_reads_the_snapshot_and_the_link_in_the_same_call(
    redis: aioredis.Redis, store: RunStore
) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    await redis.hset(store.keys.links(INTEGRATION), "1001", "1001-1")

    begun = await store.begin(
        run_id, "1001", now=NOW, due=NOW + 900, snapshot=True, link=(INTEGRATION, "1001")
    )
    assert begun is not None
    assert decode_snapshot(begun.snapshot, EmployeeSnapshot) == employee_snapshot("1001")
    assert begun.links == {"1001": "1001-1"}
    assert begun.remembered == 0
    assert await redis.hget(store.keys.due(run_id), "1001") == str(NOW + 900).encode()

    # Not asked for: not read. No link yet: known to be none; nothing written: no digests.
    begun = await store.begin(run_id, "1002", now=NOW, due=NOW + 900, link=(INTEGRATION, "1002"))
    assert begun == Begun(snapshot=None, links={"1002": None}, remembered=0)
    assert await store.begin(run_id, "1002", now=NOW, due=NOW + 900) == Begun()


async def test_begin_counts_the_digests_of_what_we_wrote_with_the_link(
    redis: aioredis.Redis, store: RunStore
) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001")
    written = WrittenValues(redis, store.prefix)
    await written.remember(INTEGRATION, "1001", {"firstname": "Kari", "employment.enddate": ""})
    # Another integration's digests of the same empId are not this one's.
    await written.remember("other", "1001", {"lastname": "Nordmann"})

    begun = await store.begin(run_id, "1001", now=NOW, due=NOW + 900, link=(INTEGRATION, "1001"))
    assert begun is not None
    assert begun.remembered == 2


async def test_begin_of_a_finished_record_answers_none(store: RunStore) -> None:
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    await record(store, run_id, "1001", "unchanged")
    assert await store.begin(run_id, "1001", now=NOW, due=NOW + 900, snapshot=True) is None
    assert await store.begin(run_id, "1002", now=NOW, due=NOW + 900) is not None


async def test_begin_releases_one_outstanding_message(
    redis: aioredis.Redis, store: RunStore
) -> None:
    """The pacer's count of messages sent and not taken up: down by one for each message taken
    up (a copy of a finished record's too), never below 0, never created; the integration's
    turn comes now if it waits for one, and no turn is made up for one that has none."""
    run_id = await new_run(store)
    await enrol(store, run_id, "1001", "1002")
    await record(store, run_id, "1002", "unchanged")
    outstanding = f"{store.prefix}:pace:outstanding:{INTEGRATION}"
    turns = f"{store.prefix}:pace:due"
    release = Release(count=outstanding, turns=turns, turn=INTEGRATION)
    await redis.set(outstanding, 2)
    await redis.zadd(turns, {INTEGRATION: 5e15})

    assert await store.begin(run_id, "1001", now=NOW, due=NOW, release=release)
    assert await redis.get(outstanding) == b"1"
    assert await redis.zscore(turns, INTEGRATION) == 0
    assert await store.begin(run_id, "1002", now=NOW, due=NOW, release=release) is None
    assert await redis.get(outstanding) == b"0"
    assert await store.begin(run_id, "1001", now=NOW, due=NOW, release=release)
    assert await redis.get(outstanding) == b"0"

    await redis.delete(outstanding, turns)
    assert await store.begin(run_id, "1001", now=NOW, due=NOW, release=release)
    assert await redis.exists(outstanding, turns) == 0


# ------------------------------------------------------------------ the last run index


async def test_last_run_of_an_integration_by_kind_and_of_either(store: RunStore) -> None:
    def run_id(run: Run | None) -> str | None:
        return None if run is None else run.id

    assert await store.last_run(INTEGRATION) is None
    first = await new_run(store, now=NOW)
    assert run_id(await store.last_run(INTEGRATION)) == first
    absences = await store.create_run(
        integration=INTEGRATION, kind="absences", trigger="scheduled", dry_run=False, now=NOW + 2
    )
    dry = await new_run(store, dry_run=True, now=NOW + 1)
    other = await store.create_run(
        integration="other", kind="employees", trigger="manual", dry_run=False, now=NOW + 9
    )

    assert run_id(await store.last_run(INTEGRATION)) == absences
    assert run_id(await store.last_run(INTEGRATION, "employees")) == dry
    assert run_id(await store.last_run(INTEGRATION, "absences")) == absences
    latest = await store.last_runs([INTEGRATION, "other", "none"])
    assert {name: run_id(run) for name, run in latest.items()} == {
        INTEGRATION: absences,
        "other": other,
        "none": None,
    }
    # A run whose keys are gone (expired) is not the last run; the other kind's still is.
    await store.redis.delete(store.keys.run(absences))
    assert run_id(await store.last_run(INTEGRATION)) == dry
    # The index is one key per integration, expiring with the runs.
    ttl = await store.redis.ttl(store.keys.last_run(INTEGRATION))
    assert 0 < ttl <= RUN_RETENTION_SECONDS

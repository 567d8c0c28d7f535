"""An integration's status: next slots (pure), and the reader on fakeredis and the real Redis."""

from __future__ import annotations

import datetime

from payroll_sync.registry.records import ConnectionCheck, SideCheck
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.slots import OSLO
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.settings import Integration, Schedule
from payroll_sync.wizard.status import StatusReader, next_slots, status_view
from tests.support.runs import INTEGRATION, enrol, record

# Monday 30 November 2026, 10:00 in Oslo (UTC+1).
NOW = datetime.datetime(2026, 11, 30, 9, 0, tzinfo=datetime.UTC)
LONG_AGO = NOW - datetime.timedelta(days=30)
WEEKLY = Schedule(enabled=True, weekdays=["mon", "wed"], times=["06:30", "18:00"])


def _oslo(day: int, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=OSLO)


def test_a_schedule_long_on_shows_its_regular_slots_on_the_oslo_clock() -> None:
    slots = next_slots(WEEKLY, now=NOW, switched_on_at=LONG_AGO)
    assert slots == [
        datetime.datetime(2026, 11, 30, 18, 0, tzinfo=OSLO),
        _oslo(2, 6, 30),
        _oslo(2, 18, 0),
        _oslo(7, 6, 30),
        _oslo(7, 18, 0),
    ]
    assert [slot.isoformat() for slot in slots[:1]] == ["2026-11-30T18:00:00+01:00"]


def test_a_schedule_just_switched_on_first_fires_the_next_morning() -> None:
    # No scheduler has seen it yet: its next pass counts it switched on now.
    slots = next_slots(WEEKLY, now=NOW, switched_on_at=None, count=3)
    assert slots == [_oslo(1, 6, 5), _oslo(2, 6, 30), _oslo(2, 18, 0)]


def test_a_schedule_off_has_no_slots() -> None:
    off = Schedule(enabled=False, weekdays=["mon"], times=["06:30"])
    assert next_slots(off, now=NOW, switched_on_at=LONG_AGO) == []


class _Checks:
    def __init__(self, checks: dict[str, ConnectionCheck]) -> None:
        self.checks = checks

    async def last_check(self, integration_id: str) -> ConnectionCheck | None:
        return self.checks.get(integration_id)


async def test_the_reader_gathers_last_run_failures_slots_and_check(store: RunStore) -> None:
    schedules = ScheduleState(store.redis, prefix=store.prefix)
    await schedules.mark_enabled(INTEGRATION, LONG_AGO)
    check = ConnectionCheck(
        checked_at=NOW.timestamp(),
        simployer=SideCheck(ok=True),
        payroll=SideCheck(ok=False, reason="24SevenOffice refused the token (HTTP 401)"),
    )
    reader = StatusReader(store, schedules=schedules, checks=_Checks({INTEGRATION: check}))
    scheduled = Integration(
        simployer_url="http://127.0.0.1:9/v1", payroll_url="http://127.0.0.1:9/api", schedule=WEEKLY
    )
    quiet = Integration(simployer_url="http://127.0.0.1:9/v1", payroll_url="http://127.0.0.1:9/api")

    empty = await reader.one(INTEGRATION, scheduled, now=NOW)
    assert (empty.last_run, empty.failures, empty.last_check) == (None, 0, check)

    run_id = await store.create_run(
        integration=INTEGRATION, kind="employees", trigger="scheduled", dry_run=False, now=100.0
    )
    await enrol(store, run_id, "1", "2", "3")
    for number in ("1", "3"):
        await record(store, run_id, number, "failed")
    await record(store, run_id, "2", "created")
    status = await reader.one(INTEGRATION, scheduled, now=NOW)
    assert status.last_run is not None
    assert status.last_run.id == run_id
    assert status.failures == 2
    assert status.next_slot == datetime.datetime(2026, 11, 30, 18, 0, tzinfo=OSLO)
    view = status_view(status)
    assert view["next_slot"] == "2026-11-30T18:00:00+01:00"
    assert view["last_run"]["run_id"] == run_id
    assert view["last_check"] == {
        "checked_at": NOW.isoformat(timespec="seconds"),
        "ok": False,
        "simployer": {"ok": True, "reason": ""},
        "payroll": {"ok": False, "reason": "24SevenOffice refused the token (HTTP 401)"},
    }

    listed = await reader.many({INTEGRATION: scheduled, "quiet": quiet}, now=NOW)
    assert listed[INTEGRATION].failures == 2
    assert listed[INTEGRATION].last_check is None  # a list does not read checks
    assert listed["quiet"].last_run is None
    assert listed["quiet"].next_slots == []

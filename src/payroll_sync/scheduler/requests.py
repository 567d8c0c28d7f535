"""What a fired slot asks for: pure, from the schedule's settings."""

from __future__ import annotations

import datetime

from payroll_sync.scheduler.slots import Slot
from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.schemas.settings import Schedule


def absence_period(schedule: Schedule, day: datetime.date) -> Period:
    """[day - absence_days_back, day + absence_days_ahead], Oslo calendar dates, inclusive."""
    return Period(
        start=day - datetime.timedelta(days=schedule.absence_days_back),
        end=day + datetime.timedelta(days=schedule.absence_days_ahead),
    )


def slot_requests(integration: str, schedule: Schedule, slot: Slot) -> list[SyncRequest]:
    """The sync requests one slot submits: employees, then absences around the slot's day."""
    requests: list[SyncRequest] = []
    if schedule.employees:
        requests.append(SyncRequest(integration=integration, kind="employees", trigger="scheduled"))
    if schedule.absences:
        requests.append(
            SyncRequest(
                integration=integration,
                kind="absences",
                trigger="scheduled",
                # The day the schedule names: a 23:30 slot that fires late still means its day.
                period=absence_period(schedule, slot.wall.date()),
            )
        )
    return requests

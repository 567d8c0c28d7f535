"""Which leaves an absence run exports: the statuses, the period and the selected codes. Pure."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping

from payroll_sync.rules.absence import REJECTED, choose_code
from payroll_sync.schemas import payroll, simployer
from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.schemas.settings import Integration

#: Leaves in these states are exported; PENDING ones are reported as waiting.
EXPORTED_STATUSES = frozenset({"APPROVED", "CONFIRMED"})
WITHDRAWN_STATUSES = frozenset({"DENIED", "CANCELLED"})


def leave_day(text: str) -> datetime.date | None:
    """The calendar date of a Simployer One date (`simployer.calendar_day`), None if bad."""
    try:
        return simployer.calendar_day(text)
    except ValueError:
        return None


def selected_codes(request: SyncRequest, integration: Integration) -> tuple[str, ...]:
    """The codes this run exports; empty = all."""
    return tuple(request.codes or integration.absences.codes)


def belongs_in_run(
    leave: simployer.Leave,
    *,
    period: Period,
    leave_type: simployer.LeaveTypeWithCode | None,
    overrides: Mapping[str, str],
    codes: Collection[str],
    exported: payroll.Absence | None,
) -> bool:
    """Whether the leave is one of this run's records (pure).

    In: every leave overlapping the period whose code is selected, except a cancelled or denied
    one that was never exported (or already rejected), which has nothing left to do. A leave
    whose dates cannot be read is in, so it fails visibly instead of vanishing; one whose type
    has no code is in when every code is exported, so it is reported rather than guessed.
    """
    start, end = leave_day(leave.start_date), leave_day(leave.end_date)
    # An end before the start is a data error the worker reports; judge it by its start.
    if start is not None and end is not None and not period.overlaps(start, max(start, end)):
        return False
    if leave.status in WITHDRAWN_STATUSES and (exported is None or exported.approved == REJECTED):
        return False
    if codes:
        if leave_type is None:
            return False
        choice = choose_code(leave_type.type, leave_type.code, overrides)
        return choice.code in codes
    return True

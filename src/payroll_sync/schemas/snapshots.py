"""What the producer's bulk reads saw of one employee, kept in Redis for the worker's first try.

Only stdlib and msgspec. It holds personal data, so it lives in the run store (which expires it)
and never in a queue message, whose arguments Dramatiq may print in its own logs.
"""

from __future__ import annotations

import msgspec

from payroll_sync.schemas import payroll, simployer


class EmployeeSnapshot(msgspec.Struct, kw_only=True):
    bundle: simployer.EmployeeBundle
    # The 24SevenOffice employee with this empId at the time of the bulk read; None = not there.
    payroll: payroll.Employee | None = None
    # False when the bulk read of 24SevenOffice was not possible (the employee number is not
    # numeric, say): the worker then reads it itself.
    payroll_known: bool = True


class AbsenceSnapshot(msgspec.Struct, kw_only=True):
    """What the producer read for one leave: the first attempt needs no read of its own.

    `children` are the employee's children in Simployer One (None: not read, the worker reads
    them when the leave needs a child); `existing` is the absence 24SevenOffice holds for this
    leave (by `externalId`), None when it has none; `in_payroll` says whether 24SevenOffice
    knows the employee at all.
    """

    leave: simployer.Leave
    leave_type: simployer.LeaveTypeWithCode | None
    children: list[simployer.Child] | None = None
    existing: payroll.Absence | None = None
    in_payroll: bool = True

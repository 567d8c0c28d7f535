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

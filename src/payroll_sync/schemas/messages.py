"""Sync requests and the per-employee task messages the producer enqueues.

Only stdlib and msgspec. Messages evolve by adding fields with defaults, never by renaming, so
a worker of the next version can still read what this one enqueued.
They carry ids, never personal data: Dramatiq may print a message's arguments in its own logs.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

SyncKind = Literal["employees", "absences"]
Trigger = Literal["manual", "scheduled", "upstream", "retry"]
# Employee numbers as Simployer One spells them (payroll needs them numeric; checked later).
EmployeeNumber = Annotated[str, Meta(min_length=1, max_length=64)]
IntegrationId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]


class SyncRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a person, a schedule or an upstream system asks for."""

    integration: IntegrationId
    kind: SyncKind = "employees"
    trigger: Trigger = "manual"
    # Narrow the integration's scope to these employee numbers (still within the scope).
    employees: list[EmployeeNumber] | None = None
    dry_run: bool = False


class EmployeeTask(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One employee of one run: the body of one Dramatiq message."""

    run_id: str
    integration: IntegrationId
    employee_number: EmployeeNumber
    # Simployer One's id of the employee (the producer already knows it from its bulk read).
    employee_id: str
    dry_run: bool = False
    # 1 for the first delivery; each retry or deferral enqueues a copy with attempt + 1.
    attempt: int = 1
    # Unix time of the first attempt: retries stop once `retry_for_seconds` have passed.
    first_attempt_at: float = 0.0
    # Read both systems afresh instead of using the run's bulk snapshot (set on every retry and
    # deferral, and by the dashboard's retry): a retry never replays stale data.
    refetch: bool = False
    # Deferrals for the rate limit; they are not failed attempts.
    deferrals: int = 0
    # 24SevenOffice had no such employee when the run began: whichever attempt finishes the
    # record, its outcome is `created` (an earlier attempt may have created it, then failed).
    new_in_payroll: bool = False

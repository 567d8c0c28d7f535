"""Runs and per-employee outcomes, as stored in Redis and shown by the CLI and dashboard.

Only stdlib and msgspec.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from payroll_sync.schemas.messages import SyncKind, Trigger

Outcome = Literal["created", "updated", "unchanged", "withdrawn", "skipped", "failed"]
OUTCOMES: tuple[Outcome, ...] = (
    "created",
    "updated",
    "unchanged",
    # Absences only: an exported leave was cancelled or denied, and is now rejected in payroll.
    "withdrawn",
    "skipped",
    "failed",
)
# `awaiting_approval`: held by the mass-change brake before any write (schemas/brake.py), until
# approved (then `queued`) or cancelled (`cancelled`, an end like `done`: nothing was written).
RunStatus = Literal["queued", "running", "done", "awaiting_approval", "cancelled"]


class FieldChange(msgspec.Struct, kw_only=True, frozen=True):
    """One field we wrote, or tried to write: the payroll value before and ours.

    The values may be personal data (an account number, a salary). They are kept in the run
    store for the dashboard, which masks them; they never go to logs.
    """

    field: str
    old: str
    new: str


class RecordOutcome(msgspec.Struct, kw_only=True):
    """The final outcome of one record (an employee, or a leave) in one run.

    `reason` never holds personal data.
    """

    employee_number: str
    outcome: Outcome
    changed: list[str] = msgspec.field(default_factory=list)
    reason: str = ""
    # The Simployer One field to fix, when the reason is about one.
    field: str = ""
    attempt: int = 1
    duration_ms: float = 0.0
    finished_at: float = 0.0
    employee_id: str = ""
    # Absence runs: the Simployer One leave id (the record's key within its run).
    leave_id: str = ""
    # What we wrote or tried to write (empty when nothing was compared or nothing differed).
    diff: list[FieldChange] = msgspec.field(default_factory=list)
    # Dry runs of employees (docs/drift.md): the API names of the fields in `diff` that someone
    # changed in 24SevenOffice since our last write (drift), and of those we never wrote (no
    # digest remembered: not called drift).
    drift: list[str] = msgspec.field(default_factory=list)
    unknown: list[str] = msgspec.field(default_factory=list)

    @property
    def key(self) -> str:
        return self.leave_id or self.employee_number


class Run(msgspec.Struct, kw_only=True):
    id: str
    integration: str
    kind: SyncKind
    trigger: Trigger
    dry_run: bool
    status: RunStatus
    created_at: float
    total: int
    counts: dict[str, int] = msgspec.field(default_factory=dict)
    started_at: float = 0.0
    finished_at: float = 0.0
    # When a worker last took up or finished one of its records (0: never).
    active_at: float = 0.0
    # A run that could not be expanded (bad credentials, source unreachable) says why here.
    error: str = ""
    # Absence runs: the period and the codes exported ("" / [] = all the integration's codes).
    period: str = ""
    codes: list[str] = msgspec.field(default_factory=list)

    @property
    def finished(self) -> int:
        return sum(self.counts.get(name, 0) for name in OUTCOMES)

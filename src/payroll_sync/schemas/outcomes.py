"""Runs and per-employee outcomes, as stored in Redis and shown by the CLI and dashboard.

Only stdlib and msgspec.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from payroll_sync.schemas.messages import SyncKind, Trigger

Outcome = Literal["created", "updated", "unchanged", "skipped", "failed"]
OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "skipped", "failed")
RunStatus = Literal["queued", "running", "done"]


class RecordOutcome(msgspec.Struct, kw_only=True):
    """The final outcome of one employee in one run. `reason` never holds personal data."""

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
    # A run that could not be expanded (bad credentials, source unreachable) says why here.
    error: str = ""

    @property
    def finished(self) -> int:
        return sum(self.counts.get(name, 0) for name in OUTCOMES)

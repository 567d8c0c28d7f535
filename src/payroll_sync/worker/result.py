"""What syncing one record came to, before it is stamped with timings and stored."""

from __future__ import annotations

import msgspec

from payroll_sync.schemas.outcomes import FieldChange, Outcome


class SyncResult(msgspec.Struct, kw_only=True):
    outcome: Outcome
    changed: list[str] = msgspec.field(default_factory=list)
    reason: str = ""
    # The Simployer One field to fix, when the reason is about one.
    field: str = ""
    # The values behind `changed` (personal data: the run store keeps it, logs never see it).
    diff: list[FieldChange] = msgspec.field(default_factory=list)
    # Dry runs: fields of `diff` changed in 24SevenOffice since our last write, and those we
    # never wrote (rules/drift.py).
    drift: list[str] = msgspec.field(default_factory=list)
    unknown: list[str] = msgspec.field(default_factory=list)

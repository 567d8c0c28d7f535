"""The mass-change brake: its settings, and what a held run shows a person. Only msgspec.

Why: damaged HR data (an import that blanked every bank account) would otherwise be written to
24SevenOffice for every employee by the next sync. Before the writes of a run start, the producer
counts what would change (`rules/brake.py`); past a threshold the run holds in
`awaiting_approval` until an operator approves or cancels it (SPEC-level decision, issue 16).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

Percent = Annotated[float, Meta(ge=0, le=100)]

#: What the brake counts. Employee fields use their 24SevenOffice API names.
BrakeField = Literal["salary", "account", "personnr", "employment.enddate", "absence.withdrawn"]
BRAKE_FIELDS: Final[tuple[BrakeField, ...]] = (
    "salary",
    "account",
    "personnr",
    "employment.enddate",
    "absence.withdrawn",
)
#: Examples kept per field in a held run's summary (masked); the counts cover every record.
EXAMPLES_PER_FIELD: Final = 50


class Brake(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """`[integrations.ID.brake]`: when a run holds for approval instead of writing.

    A share is of the employees the run compares with 24SevenOffice (in scope, mappable, there
    already); a run holds when MORE than the share change.
    """

    enabled: bool = True
    salary_percent: Percent = 20.0
    account_percent: Percent = 20.0
    personnr_percent: Percent = 20.0
    employments_ending_percent: Percent = 10.0
    # Absence runs: a count, not a share (a run covers leaves, not employees).
    absences_withdrawn: Annotated[int, Meta(ge=0)] = 50


class FieldExample(msgspec.Struct, kw_only=True, frozen=True):
    """One record's change of a braked field, masked as the dashboard masks diffs."""

    key: str  # employee number, or leave id
    old: str
    new: str


class FieldCount(msgspec.Struct, kw_only=True, frozen=True):
    """How many records of the run would change one field, against its threshold."""

    field: BrakeField
    count: int
    # What `count` is measured against: the run's employees compared with 24SevenOffice (in
    # scope, mappable, there already: rules/brake.py), or 0 for a plain count.
    total: int
    # The threshold as configured: a percent for shares, a count for absences withdrawn.
    threshold: float
    tripped: bool
    examples: list[FieldExample] = msgspec.field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.count / self.total if self.total else 0.0


Decision = Literal["held", "released", "approved", "cancelled"]


class BrakeSummary(msgspec.Struct, kw_only=True):
    """What the producer counted for a run, kept with the run (`P:run:R:brake`)."""

    run_id: str
    integration: str
    counted_at: float
    fields: list[FieldCount] = msgspec.field(default_factory=list)
    decision: Decision = "released"
    # Who approved or cancelled it ("dashboard:<operator>", "api:<caller>"), and when.
    decided_by: str = ""
    decided_at: float = 0.0

    @property
    def tripped(self) -> list[FieldCount]:
        return [count for count in self.fields if count.tripped]

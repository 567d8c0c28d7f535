"""What the dashboard's run page and both JSON APIs (the intake's, the dashboard's) show of a
run's mass-change brake summary. Pure.

The producer keeps a `BrakeSummary` with the run (schemas/brake.py): per braked field how many
records would change, against the integration's threshold, with a few examples already masked.
The examples pass through the dashboard's masking here once more all the same (`masking`, the
same rule as a record's diff), so a summary written by an older or a faulty producer still never
shows a whole fødselsnummer or account number. Templates and the APIs only see `BrakeView`s; the
APIs answer `brake_json` of one, one shape for both.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from payroll_sync.runs.public import iso_time
from payroll_sync.schemas.brake import BrakeField, BrakeSummary, Decision, FieldCount
from payroll_sync.schemas.masking import FieldKind, field_kind, mask_plain, mask_value
from payroll_sync.schemas.outcomes import Run

#: How a person calls each braked field (the summary holds 24SevenOffice's API names).
FIELD_NAMES: Final[dict[BrakeField, str]] = {
    "salary": "Salary",
    "account": "Bank account",
    "personnr": "Fødselsnummer",
    "employment.enddate": "Employments ending",
    "absence.withdrawn": "Absences withdrawn",
}
#: Fields counted as a plain number, not as a share of the run's employees.
COUNTED: Final[frozenset[BrakeField]] = frozenset({"absence.withdrawn"})

#: What each decision says after "Mass-change brake: ".
DECISION_WORDS: Final[dict[Decision, str]] = {
    "held": "held for approval",
    "released": "below every threshold, not held",
    "approved": "approved",
    "cancelled": "cancelled, nothing written",
}


class ShownExample(msgspec.Struct, kw_only=True, frozen=True):
    """One record's change of a braked field, masked; `hidden` ones only behind a click."""

    key: str
    kind: FieldKind
    old: str
    new: str


class FieldGroup(msgspec.Struct, kw_only=True, frozen=True):
    field: BrakeField
    name: str
    count: int
    total: int
    percent: float
    threshold: float
    tripped: bool
    # True: `count` is a share of `total` employees; False: a plain count (absences withdrawn).
    share: bool
    examples: list[ShownExample]

    @property
    def measured(self) -> str:
        """'60 of 60 employees in 24SevenOffice (100.0 %)', or '63 leaves'."""
        if not self.share:
            return f"{self.count} leave{'s' if self.count != 1 else ''}"
        return f"{self.count} of {self.total} employees in 24SevenOffice ({self.percent:.1f} %)"

    @property
    def limit(self) -> str:
        """The threshold as the integration's settings put it."""
        return f"more than {self.threshold:g}{' %' if self.share else ''}"

    @property
    def unlisted(self) -> int:
        """Records counted but not among the examples (the summary keeps a few)."""
        return max(0, self.count - len(self.examples))


class BrakeView(msgspec.Struct, kw_only=True, frozen=True):
    run_id: str
    integration: str
    decision: Decision
    decided_by: str
    decided_at: float
    counted_at: float
    groups: list[FieldGroup]
    dry_run: bool
    # Held now, so the page offers Approve and Cancel: the summary says held and the run
    # still waits (a run approved a moment ago elsewhere no longer shows the buttons).
    awaiting: bool

    @property
    def words(self) -> str:
        if self.decision == "released" and self.tripped:
            # A dry run is counted but never held (docs/brake.md).
            return "dry run, not held: a real run would hold" if self.dry_run else "not held"
        return DECISION_WORDS[self.decision]

    @property
    def tripped(self) -> list[FieldGroup]:
        return [group for group in self.groups if group.tripped]

    @property
    def shown(self) -> list[FieldGroup]:
        """As the page lists them: the tripped fields first, each part in the summary's order."""
        return sorted(self.groups, key=lambda group: not group.tripped)


def _kind(field: BrakeField) -> FieldKind:
    # The employee fields are masked as in a diff; a withdrawn leave's values (statuses,
    # dates) are plain, with the 11-digit safety net.
    return "plain" if field in COUNTED else field_kind(field)


def _masked(field: BrakeField, value: str) -> str:
    return mask_plain(value) if field in COUNTED else mask_value(field, value)


def field_group(count: FieldCount) -> FieldGroup:
    field = count.field
    return FieldGroup(
        field=field,
        name=FIELD_NAMES.get(field, field),
        count=count.count,
        total=count.total,
        percent=count.percent,
        threshold=count.threshold,
        tripped=count.tripped,
        share=field not in COUNTED,
        examples=[
            ShownExample(
                key=mask_plain(example.key),
                kind=_kind(field),
                old=_masked(field, example.old),
                new=_masked(field, example.new),
            )
            for example in count.examples
        ],
    )


def brake_view(summary: BrakeSummary, run: Run) -> BrakeView:
    """The summary as a page shows it (fields in the summary's order; `shown` for the page's)."""
    groups = [field_group(count) for count in summary.fields]
    return BrakeView(
        run_id=summary.run_id,
        integration=summary.integration,
        decision=summary.decision,
        decided_by=mask_plain(summary.decided_by),
        decided_at=summary.decided_at,
        counted_at=summary.counted_at,
        groups=groups,
        dry_run=run.dry_run,
        awaiting=summary.decision == "held" and run.status == "awaiting_approval",
    )


def brake_json(view: BrakeView) -> dict[str, Any]:
    """The summary in the JSON APIs: masked like the page, a hidden value (salary) left out,
    and each field's name for people."""

    def example(shown: ShownExample) -> dict[str, Any]:
        if shown.kind == "hidden":
            return {"key": shown.key, "hidden": True}
        return {"key": shown.key, "old": shown.old, "new": shown.new}

    return {
        "run_id": view.run_id,
        "integration": view.integration,
        "counted_at": iso_time(view.counted_at),
        "decision": view.decision,
        "awaiting_approval": view.awaiting,
        "decided_by": view.decided_by or None,
        "decided_at": iso_time(view.decided_at),
        "tripped": [group.field for group in view.tripped],
        "fields": [
            {
                "field": group.field,
                "name": group.name,
                "count": group.count,
                "total": group.total,
                "percent": round(group.percent, 2) if group.total else None,
                "threshold": group.threshold,
                "tripped": group.tripped,
                "examples": [example(shown) for shown in group.examples],
            }
            for group in view.groups
        ],
    }


def decision_notice(view: BrakeView | None, decided: str) -> str:
    """What the run page says after Approve or Cancel (`?decided=`): only what is true now."""
    if view is None or decided != view.decision or decided not in ("approved", "cancelled"):
        return ""
    who = f" by {view.decided_by}" if view.decided_by else ""
    if decided == "approved":
        return f"Approved{who}: the run's records go to the workers and are written now."
    return f"Cancelled{who}: nothing was written to 24SevenOffice."

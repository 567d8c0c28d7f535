"""The mass-change brake's counting: what a run would change in the braked fields. Pure.

Why: damaged HR data (an import that blanked every bank account) must not reach 24SevenOffice
for every employee before a person has looked. The producer feeds every in-scope record of a
run through a `Tally` while it reads the company, then `evaluate` compares the counts with the
integration's `Brake` thresholds (schemas/brake.py); producer/brake.py does the I/O around it.

What counts, per field:
The share's denominator is the employees compared: those in scope that map and already exist
in 24SevenOffice. Records that cannot be written (broken rows) and new hires change nothing
there, so they do not dilute the share: every account blanked is 100%, however many rows of the
company are broken or new.

- `salary`, `account`, `personnr`: an employee that exists in 24SevenOffice whose mapped value
  differs there (`rules.compare.employee_changes`, so only formatting is no change). A new hire
  is a creation, not a change. A record that cannot be mapped is not counted: it fails (or is
  skipped) on its own and writes nothing.
- `employment.enddate`: of an employee in 24SevenOffice, the mapped employment's end date is
  set and differs from the one we last wrote (a keyed digest, runs/written.py). An employee we
  never wrote is not counted, so the first sync of an integration counts no endings.
- `absence.withdrawn`: a cancelled or denied leave whose exported absence is not rejected yet
  (worker/sync_absence.py withdraws exactly those).
Examples are masked as the dashboard masks diffs (`schemas.masking.mask_change`: identifiers
show their last 4 characters, salaries are withheld).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from payroll_sync.errors import Permanent, RecordSkipped
from payroll_sync.rules.absence import REJECTED
from payroll_sync.rules.absence_scope import WITHDRAWN_STATUSES
from payroll_sync.rules.compare import comparable_values, employee_changes, field_changes
from payroll_sync.rules.employee import map_employee
from payroll_sync.schemas.brake import (
    EXAMPLES_PER_FIELD,
    Brake,
    BrakeField,
    FieldCount,
    FieldExample,
)
from payroll_sync.schemas.masking import mask_change
from payroll_sync.schemas.messages import SyncKind
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.payroll import EmploymentWrite
from payroll_sync.schemas.settings import Limits
from payroll_sync.schemas.snapshots import AbsenceSnapshot, EmployeeSnapshot

__all__ = [
    "EMPLOYEE_FIELDS",
    "ENDDATE",
    "Tally",
    "evaluate",
    "mapped_enddate",
]

#: The employee fields (24SevenOffice API names) whose changes are counted.
EMPLOYEE_FIELDS: Final[tuple[BrakeField, ...]] = ("salary", "account", "personnr")
ENDDATE: Final[BrakeField] = "employment.enddate"
WITHDRAWN: Final[BrakeField] = "absence.withdrawn"
#: The fields a run of each kind counts, in the order a summary lists them.
FIELDS_OF: Final[dict[SyncKind, tuple[BrakeField, ...]]] = {
    "employees": (*EMPLOYEE_FIELDS, ENDDATE),
    "absences": (WITHDRAWN,),
}


class Tally:
    """Counts and masked examples per braked field, fed one record at a time.

    Holds only numbers and at most EXAMPLES_PER_FIELD masked examples per field, so a company
    of 100,000 costs the same memory as one of ten.
    """

    def __init__(self, kind: SyncKind) -> None:
        self.kind: SyncKind = kind
        self.counts: dict[BrakeField, int] = dict.fromkeys(FIELDS_OF[kind], 0)
        self.examples: dict[BrakeField, list[FieldExample]] = {
            field: [] for field in FIELDS_OF[kind]
        }
        # Records seen, and those compared with 24SevenOffice: mapped, and there already (the
        # share's denominator for employee runs).
        self.records = 0
        self.compared = 0

    def add(self, field: BrakeField, key: str, change: FieldChange) -> None:
        self.counts[field] += 1
        kept = self.examples[field]
        if len(kept) < EXAMPLES_PER_FIELD:
            masked = mask_change(change)
            kept.append(FieldExample(key=key, old=masked.old, new=masked.new))

    def employee(
        self,
        key: str,
        snapshot: EmployeeSnapshot | None,
        *,
        limits: Limits,
        written_enddate: str | None,
        digest: Callable[[str], str],
    ) -> None:
        """Count one in-scope employee. `written_enddate`: the digest of the end date we last
        wrote (None: we never wrote one); `digest` makes one of a comparable value."""
        self.records += 1
        if snapshot is None:
            return  # unreadable: the worker reads it, and the record fails there
        current = snapshot.payroll
        if current is None:
            return  # a new hire (or not known in bulk): a creation, not a change
        try:
            mapped = map_employee(snapshot.bundle, limits)
        except (Permanent, RecordSkipped):
            return
        self.compared += 1
        changed = employee_changes(mapped.employee, current)
        braked = [name for name in EMPLOYEE_FIELDS if name in changed]
        if braked:
            for change in field_changes(mapped.employee, current, braked):
                self.add(change.field, key, change)  # type: ignore[arg-type]
        enddate = mapped_enddate(mapped.employment)
        if enddate and written_enddate is not None and digest(enddate) != written_enddate:
            self.add(ENDDATE, key, FieldChange(field=ENDDATE, old="", new=enddate))

    def absence(self, key: str, snapshot: AbsenceSnapshot | None) -> None:
        """Count one leave of an absence run: withdrawn when cancelled or denied while its
        exported absence is not rejected."""
        self.records += 1
        if snapshot is None or snapshot.existing is None:
            return
        if snapshot.leave.status in WITHDRAWN_STATUSES and snapshot.existing.approved != REJECTED:
            self.add(
                WITHDRAWN,
                key,
                FieldChange(field="approved", old=snapshot.existing.approved, new=REJECTED),
            )


def mapped_enddate(employment: EmploymentWrite) -> str:
    """The employment's end date in the comparable form in which what we wrote is remembered
    (`comparable_values(..., prefix="employment.")`, runs/written.py); "" when open."""
    return comparable_values(employment, prefix="employment.").get(ENDDATE, "")


def evaluate(
    counts: Mapping[BrakeField, int],
    total: int,
    brake: Brake,
    examples: Mapping[BrakeField, list[FieldExample]] | None = None,
) -> list[FieldCount]:
    """Each counted field against its threshold, in BRAKE_FIELDS order.

    Employee fields are shares of `total` (the employees compared, `Tally.compared`): tripped
    when MORE than the share change, and never when `total` is 0. `absence.withdrawn` is a
    plain count: tripped when more than `brake.absences_withdrawn` (its `total` is 0)."""
    out: list[FieldCount] = []
    for field, count in counts.items():
        kept = list((examples or {}).get(field, []))
        if field == WITHDRAWN:
            limit = float(brake.absences_withdrawn)
            out.append(
                FieldCount(
                    field=field,
                    count=count,
                    total=0,
                    threshold=limit,
                    tripped=count > limit,
                    examples=kept,
                )
            )
            continue
        percent = _percent_of(field, brake)
        out.append(
            FieldCount(
                field=field,
                count=count,
                total=total,
                threshold=percent,
                # count > percent/100 * total, in integers of hundredths (no float rounding).
                tripped=total > 0 and count * 100 > percent * total,
                examples=kept,
            )
        )
    return out


def _percent_of(field: BrakeField, brake: Brake) -> float:
    if field == "salary":
        return brake.salary_percent
    if field == "account":
        return brake.account_percent
    if field == "personnr":
        return brake.personnr_percent
    return brake.employments_ending_percent

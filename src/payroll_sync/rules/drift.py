"""Drift: integration fields whose 24SevenOffice value someone changed since our last write. Pure.

Why: the next sync overwrites whatever payroll holds for the fields we own. When a person changed
such a field in 24SevenOffice (a corrected account number, a salary agreed there), the sync
silently undoes their work. A dry run shows the fields the next sync would overwrite; those
whose payroll value no longer matches the digest of what we last wrote (`runs.written`) have
drifted. A field with no digest was never written by us (or not since digests were kept): it is
counted as `unknown`, not called drift.

Two parts:
- per record (the worker's dry run): `payroll_values` gives the comparable text of what payroll
  holds now, in the form `rules.compare.comparable_values` gives what we wrote, and `drifted`
  sorts the fields into drift and unknown by their digests;
- per integration (the API and the page): `drift_report` reads one finished dry run's outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import msgspec

from payroll_sync.rules.compare import normalise, struct_fields
from payroll_sync.schemas.masking import mask_change
from payroll_sync.schemas.outcomes import RecordOutcome, Run

NO_DRY_RUN: Final = "no dry run yet: start one to check for drift"
SYNCED_SINCE: Final = (
    "the latest employee run wrote to 24SevenOffice (not a dry run): start a dry run to check "
    "for drift"
)
IN_PROGRESS: Final = "the dry run is in progress: this report fills in when it is done"


def payroll_values(
    target: msgspec.Struct,
    current: msgspec.Struct,
    names: Iterable[str],
    *,
    prefix: str = "",
) -> dict[str, str]:
    """API name (with `prefix`) -> comparable text of what `current` (a payroll read Struct)
    holds for each field `names` (API names, without `prefix`) that `target` sets; the same
    normalisation `comparable_values` applies to what we write, so an unchanged value gives the
    same digest. A nested value is taken with the fields `target` sets, as we would write it."""
    wanted = set(names)
    out: dict[str, str] = {}
    for name, encode_name in struct_fields(type(target)):
        if encode_name not in wanted:
            continue
        want = getattr(target, name)
        if want is None:
            continue
        have = getattr(current, name, None)
        if isinstance(want, msgspec.Struct):
            out[prefix + encode_name] = _nested(want, have)
        else:
            out[prefix + encode_name] = str(normalise(name, have))
    return out


def _nested(want: msgspec.Struct, have: object) -> str:
    kept = {
        name: getattr(have, name, None)
        for name, _ in struct_fields(type(want))
        if getattr(want, name) is not None
    }
    return msgspec.json.encode(msgspec.structs.replace(type(want)(), **kept)).decode()


def drifted(now: Mapping[str, str], remembered: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(drift, unknown): of the fields in `now` (field -> digest of payroll's value now), those
    whose remembered digest differs, and those with none remembered; each sorted."""
    drift = sorted(field for field, value in now.items() if remembered.get(field, value) != value)
    unknown = sorted(field for field in now if field not in remembered)
    return drift, unknown


# ------------------------------------------------------------------ the report


class DriftedEmployee(msgspec.Struct, kw_only=True, frozen=True):
    employee_number: str
    # Masked (schemas/masking.py): payroll's value now, and ours the next sync would write.
    old: str
    new: str


class FieldDrift(msgspec.Struct, kw_only=True):
    field: str
    count: int
    employees: list[DriftedEmployee]


class DriftReport(msgspec.Struct, kw_only=True):
    integration: str
    # The dry run read ("" and 0 when there is none yet).
    run_id: str = ""
    ran_at: float = 0.0
    # Per field (sorted), the employees whose value drifted.
    fields: list[FieldDrift] = msgspec.field(default_factory=list)
    # Employees with at least one drifted field.
    drifted_employees: int = 0
    # Fields (employee x field) the next sync would overwrite that we never wrote: not drift.
    unknown_fields: int = 0
    # Employees the next sync would change without any drift (HR changes, new employees).
    changes_without_drift: int = 0
    # Records of the dry run read.
    records: int = 0
    # "no dry run yet…" when there is none.
    message: str = ""


def readable(run: Run | None) -> bool:
    """Whether `run` (an integration's latest employee run) is a dry run whose outcomes make a
    report: done. A real sync since the last dry run overwrote what it found."""
    return run is not None and run.dry_run and run.status == "done"


def drift_report(
    integration: str, run: Run | None, outcomes: Sequence[RecordOutcome]
) -> DriftReport:
    """The drift found by `run`, `integration`'s latest employee run (None: none yet); a run
    that is no finished dry run gives a report that says so, with no fields."""
    if run is None:
        return DriftReport(integration=integration, message=NO_DRY_RUN)
    if not run.dry_run:
        return DriftReport(integration=integration, message=SYNCED_SINCE)
    if not readable(run):
        return DriftReport(
            integration=integration, run_id=run.id, ran_at=run.created_at, message=IN_PROGRESS
        )
    by_field: dict[str, list[DriftedEmployee]] = {}
    drifted_employees = unknown = without = 0
    for outcome in sorted(outcomes, key=lambda item: _numeric_first(item.employee_number)):
        unknown += len(outcome.unknown)
        if not outcome.drift:
            if outcome.changed:
                without += 1
            continue
        drifted_employees += 1
        diff = {change.field: mask_change(change) for change in outcome.diff}
        for field in outcome.drift:
            change = diff.get(field)
            by_field.setdefault(field, []).append(
                DriftedEmployee(
                    employee_number=outcome.employee_number,
                    old=change.old if change is not None else "",
                    new=change.new if change is not None else "",
                )
            )
    return DriftReport(
        integration=integration,
        run_id=run.id,
        ran_at=run.started_at or run.created_at,
        fields=[
            FieldDrift(field=field, count=len(employees), employees=employees)
            for field, employees in sorted(by_field.items())
        ],
        drifted_employees=drifted_employees,
        unknown_fields=unknown,
        changes_without_drift=without,
        records=len(outcomes),
    )


def _numeric_first(number: str) -> tuple[int, int, str]:
    return (0, int(number), "") if number.isdigit() else (1, 0, number)

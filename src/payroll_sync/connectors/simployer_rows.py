"""Simployer One rows into the client's tolerant Structs, one row at a time (pure, no I/O).

A row that lacks a field we use, or holds a malformed one, becomes an `Unreadable` naming the
resource, row id and field, never a value: it fails only the record it belongs to. Employee
bundles are assembled here from the rows the client read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, TypeVar

import msgspec

from payroll_sync.errors import Permanent, field_path
from payroll_sync.schemas import simployer
from payroll_sync.schemas.simployer import EmployeeBundle

Row = dict[str, object]
S = TypeVar("S", bound=simployer.Resource)


class Unreadable(msgspec.Struct, kw_only=True, frozen=True):
    """A row the sync cannot read, and the field to fix (never a value).

    `employee_id` is the employee the row belongs to, when the row says (its own id for an
    employee row, `employeeId` for the others); `employee_number`, `department_id` and
    `office_id` what an employee's row holds of them, when readable (the scope needs them).
    """

    resource: str
    row_id: str
    field: str
    reason: str
    employee_id: str = ""
    employee_number: str = ""
    department_id: str = ""
    office_id: str = ""


class Bundles(NamedTuple):
    """The bulk read of employees: the readable bundles, and the employees the sync cannot read
    (their own row, or their employment, its type or a compensation)."""

    bundles: list[EmployeeBundle]
    unreadable: list[Unreadable]


def failed_field(exc: msgspec.ValidationError) -> str:
    """The API path of the field a row failed on (`bankAccount.number`), never its value."""
    return field_path(exc).removeprefix("$").removeprefix(".") or "(row)"


def text_of(row: Row, name: str) -> str:
    value = row.get(name)
    return value if isinstance(value, str) else ""


def read_rows(
    resource: str, rows: Iterable[Row], struct: type[S]
) -> tuple[list[S], list[Unreadable]]:
    """The rows that fit `struct`, and an `Unreadable` for each one that does not."""
    good: list[S] = []
    bad: list[Unreadable] = []
    for row in rows:
        try:
            good.append(msgspec.convert(row, type=struct))
        except msgspec.ValidationError as exc:
            name = failed_field(exc)
            row_id = text_of(row, "id")
            label = f"{resource} {row_id}" if row_id else resource
            own = resource == "employee"
            bad.append(
                Unreadable(
                    resource=resource,
                    row_id=row_id,
                    field=name,
                    reason=f"Simployer One {label}: field {name} is missing or invalid",
                    employee_id=row_id if own else text_of(row, "employeeId"),
                    employee_number=text_of(row, "employeeNumber") if own else "",
                    department_id=text_of(row, "departmentId") if own else "",
                    office_id=text_of(row, "officeId") if own else "",
                )
            )
    return good, bad


def decode_rows(
    resource: str, rows: Iterable[Row], struct: type[S], *, prefix: str = ""
) -> list[S]:
    """Rows as Structs; `Permanent` naming resource, row id and field for the first bad one.

    `prefix` names the field as the record's mapping does (`employment.` for the employment of
    an employee record)."""
    good, bad = read_rows(resource, rows, struct)
    if bad:
        raise Permanent(bad[0].reason, field=prefix + bad[0].field)
    return good


def assemble_bundles(
    employees: Sequence[simployer.Employee],
    employments: Iterable[simployer.Employment],
    types: Mapping[str, simployer.EmploymentType],
    compensations: Iterable[simployer.Compensation],
) -> list[EmployeeBundle]:
    employment_by_id = {e.id: e for e in employments}
    compensations_of: dict[str, list[simployer.Compensation]] = {}
    for compensation in compensations:
        compensations_of.setdefault(compensation.employee_id, []).append(compensation)
    bundles = []
    for employee in employees:
        employment = (
            employment_by_id.get(employee.employment_id) if employee.employment_id else None
        )
        # Only an employment of this employee counts, whatever `employmentId` says.
        if employment is not None and employment.employee_id != employee.id:
            employment = None
        bundles.append(
            EmployeeBundle(
                employee=employee,
                employment=employment,
                employment_type=types.get(employment.type_id) if employment else None,
                compensations=compensations_of.get(employee.id, []),
            )
        )
    return bundles


def broken_parts(
    bundles: Sequence[EmployeeBundle],
    bad_types: Sequence[Unreadable],
    bad_employments: Sequence[Unreadable],
    bad_pay: Sequence[Unreadable],
) -> dict[str, Unreadable]:
    """Employee id -> why the employee cannot be read, for readable employees whose current
    employment, its type or one of their compensations cannot be: the field is named with its
    resource (`employment.startDate`), as the mapping names fields of related rows."""
    broken: dict[str, Unreadable] = {}
    type_by_id = {bad.row_id: bad for bad in bad_types if bad.row_id}
    employment_by_id = {bad.row_id: bad for bad in bad_employments if bad.row_id}
    pay_by_employee = {bad.employee_id: bad for bad in bad_pay if bad.employee_id}
    for bundle in bundles:
        employee = bundle.employee
        cause: tuple[str, Unreadable] | None = None
        if employee.employment_id in employment_by_id:
            cause = ("employment", employment_by_id[employee.employment_id])
        elif bundle.employment is not None and bundle.employment.type_id in type_by_id:
            cause = ("employmentType", type_by_id[bundle.employment.type_id])
        elif employee.id in pay_by_employee:
            cause = ("compensation", pay_by_employee[employee.id])
        if cause is not None:
            prefix, bad = cause
            broken[employee.id] = msgspec.structs.replace(
                bad,
                field=f"{prefix}.{bad.field}",
                employee_id=employee.id,
                employee_number=employee.employee_number,
            )
    return broken

"""Employee bundles straight from a Simployer One dataset: what the connector reads, as tests'
oracle (assembled here without HTTP, the way SPEC.md says: the current employment, its type,
and all of the employee's compensations)."""

from __future__ import annotations

from payroll_sync.schemas import simployer


def bundles_by_number(data: simployer.Dataset) -> dict[str, simployer.EmployeeBundle]:
    employments = {row.id: row for row in data.employment}
    types = {row.id: row for row in data.employment_type}
    pay: dict[str, list[simployer.Compensation]] = {}
    for row in data.compensation:
        pay.setdefault(row.employee_id, []).append(row)
    bundles = {}
    for employee in data.employee:
        employment = employments.get(employee.employment_id or "")
        bundles[employee.employee_number] = simployer.EmployeeBundle(
            employee=employee,
            employment=employment,
            employment_type=types.get(employment.type_id) if employment else None,
            compensations=pay.get(employee.id, []),
        )
    return bundles

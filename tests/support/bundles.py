"""Simployer One rows as the client reads them, straight from a simulator company: the tests'
oracle, assembled without HTTP the way SPEC.md says (the current employment, its type, and all
of the employee's compensations). Published rows go through the client's tolerant Structs, as
they do over HTTP, so what the oracle sees is what the sync sees."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

import msgspec

from payroll_sync.schemas import simployer
from payroll_sync.simulators import simployer_published as published

S = TypeVar("S", bound=simployer.Resource)


def as_read(rows: Iterable[msgspec.Struct], struct: type[S]) -> list[S]:
    """Published rows decoded by the client's Struct for them (unknown fields ignored)."""
    return [msgspec.convert(msgspec.to_builtins(row), struct) for row in rows]


def bundles_by_number(data: published.Company) -> dict[str, simployer.EmployeeBundle]:
    employments = {row.id: row for row in as_read(data.employment, simployer.Employment)}
    types = {row.id: row for row in as_read(data.employment_type, simployer.EmploymentType)}
    pay: dict[str, list[simployer.Compensation]] = {}
    for row in as_read(data.compensation, simployer.Compensation):
        pay.setdefault(row.employee_id, []).append(row)
    bundles = {}
    for employee in as_read(data.employee, simployer.Employee):
        employment = employments.get(employee.employment_id or "")
        bundles[employee.employee_number] = simployer.EmployeeBundle(
            employee=employee,
            employment=employment,
            employment_type=types.get(employment.type_id) if employment else None,
            compensations=pay.get(employee.id, []),
        )
    return bundles

"""Simployer One rows as the API publishes them, with every field a test does not care about
set to one plausible value, for tests that build a company of their own."""

from __future__ import annotations

from typing import Any

from payroll_sync.simulators import simployer_published as published


def employee(row_id: str, number: str, **fields: Any) -> published.Employee:
    base: dict[str, Any] = {
        "active": True,
        "company_id": "c1",
        "user_id": f"u{number}",
        "created": "2024-01-01T00:00:00.000Z",
        "updated": "2024-01-01T00:00:00.000Z",
    }
    return published.Employee(id=row_id, employee_number=number, **{**base, **fields})


def employment(row_id: str, employee_id: str, **fields: Any) -> published.Employment:
    base: dict[str, Any] = {"company_id": "c1", "type_id": "t1", "country": "NO"}
    return published.Employment(id=row_id, employee_id=employee_id, **{**base, **fields})


def compensation(
    row_id: str, employee_id: str, amount: float, effective: str
) -> published.Compensation:
    """A monthly salary of `amount` NOK from `effective` (an ISO timestamp)."""
    return published.Compensation(
        id=row_id,
        employee_id=employee_id,
        company_id="c1",
        amount=amount,
        effective_date=effective,
        base_amount=amount,
        exchange_rate=1,
        currency="NOK",
        payout_day=25,
        payout_period="MONTHLY",
        payout_frequency="MONTH",
        salary_schedule="ADVANCE",
        paid_overtime=False,
    )

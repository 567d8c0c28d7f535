"""`rules.drift`: payroll's values in the form we remember ours, and the report of a dry run."""

from __future__ import annotations

from typing import Any

from payroll_sync.rules.compare import comparable_values
from payroll_sync.rules.drift import (
    IN_PROGRESS,
    NO_DRY_RUN,
    SYNCED_SINCE,
    DriftedEmployee,
    drift_report,
    drifted,
    payroll_values,
)
from payroll_sync.schemas import payroll
from payroll_sync.schemas.outcomes import FieldChange, RecordOutcome, Run
from payroll_sync.schemas.payroll import EmployeeWrite, InternationalIdWrite


def _run(**fields: Any) -> Run:
    base: dict[str, Any] = {
        "id": "run-9",
        "integration": "acme",
        "kind": "employees",
        "trigger": "manual",
        "dry_run": True,
        "status": "done",
        "created_at": 100.0,
        "started_at": 101.0,
        "finished_at": 110.0,
        "total": 3,
    }
    return Run(**(base | fields))


def test_payroll_values_read_like_what_we_write() -> None:
    ours = EmployeeWrite(
        emp_id=7,
        firstname="Kari",
        account="1234.56.78903",
        salary="500000",
        employee_date="2024-08-01",
        international_id=InternationalIdWrite(country_code="SE", id="X1"),
    )
    held = payroll.Employee(
        emp_id="7",
        firstname=" Kari ",
        account="12345678903",
        salary="500000.00",
        employee_date="2024-08-01 00:00:00",
        international_id=payroll.InternationalId(country_code="SE", id="X1"),
    )
    names = ["firstname", "account", "salary", "employee_date", "internationalID", "lastname"]
    # `lastname` is not set by ours: not compared.
    now = payroll_values(ours, held, names)
    expected = comparable_values(ours)
    assert now == {name: expected[name] for name in names if name in expected}


def test_payroll_values_carry_the_prefix() -> None:
    ours = EmployeeWrite(firstname="Kari")
    held = payroll.Employee(emp_id="7", firstname="Kåre")
    assert payroll_values(ours, held, ["firstname"], prefix="x.") == {"x.firstname": "Kåre"}


def test_drifted_sorts_drift_from_unknown() -> None:
    now = {"a": "1", "b": "2", "c": "3"}
    remembered = {"a": "1", "b": "9", "z": "0"}
    assert drifted(now, remembered) == (["b"], ["c"])


def _outcome(number: str, **fields: Any) -> RecordOutcome:
    return RecordOutcome(employee_number=number, outcome="updated", **fields)


def test_the_report_groups_drift_by_field_masked() -> None:
    outcomes = [
        _outcome(
            "12",
            changed=["account", "firstname"],
            diff=[
                FieldChange(field="account", old="99999999999", new="12345678903"),
                FieldChange(field="firstname", old="Edited", new="Kari"),
            ],
            drift=["account", "firstname"],
        ),
        _outcome(
            "3",
            changed=["firstname", "salary"],
            diff=[
                FieldChange(field="firstname", old="Ola", new="Ole"),
                FieldChange(field="salary", old="510000", new="500000"),
            ],
            drift=["firstname"],
            unknown=["salary"],
        ),
        _outcome(
            "5",
            changed=["lastname"],
            diff=[FieldChange(field="lastname", old="A", new="B")],
        ),
        RecordOutcome(employee_number="6", outcome="unchanged"),
    ]
    report = drift_report("acme", _run(), outcomes)
    assert report.run_id == "run-9"
    assert report.ran_at == 101.0
    assert report.message == ""
    assert [(item.field, item.count) for item in report.fields] == [
        ("account", 1),
        ("firstname", 2),
    ]
    (account,) = report.fields[0].employees
    assert account == DriftedEmployee(employee_number="12", old="•••••••9999", new="•••••••8903")
    # Numbers in numeric order.
    assert [e.employee_number for e in report.fields[1].employees] == ["3", "12"]
    assert report.drifted_employees == 2
    assert report.unknown_fields == 1
    assert report.changes_without_drift == 1
    assert report.records == 4


def test_salary_drift_is_shown_without_its_values() -> None:
    outcome = _outcome(
        "1",
        changed=["salary"],
        diff=[FieldChange(field="salary", old="510000", new="500000")],
        drift=["salary"],
    )
    (field,) = drift_report("acme", _run(), [outcome]).fields
    assert "510000" not in str(field)
    assert "500000" not in str(field)


def test_no_dry_run_yet_a_real_sync_since_or_one_in_progress() -> None:
    assert drift_report("acme", None, []).message == NO_DRY_RUN
    assert drift_report("acme", _run(dry_run=False), []).message == SYNCED_SINCE
    running = drift_report("acme", _run(status="running", finished_at=0.0), [])
    assert running.message == IN_PROGRESS
    assert running.run_id == "run-9"
    assert running.fields == []

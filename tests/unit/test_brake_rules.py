"""The mass-change brake's counting and thresholds (rules/brake.py): pure."""

from __future__ import annotations

from typing import Any, Final

import msgspec
import pytest

from payroll_sync.config import parse_settings
from payroll_sync.errors import ConfigError
from payroll_sync.rules.brake import Tally, evaluate, mapped_enddate
from payroll_sync.rules.employee import map_employee
from payroll_sync.schemas import payroll
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.brake import EXAMPLES_PER_FIELD, Brake
from payroll_sync.schemas.settings import Limits
from payroll_sync.schemas.snapshots import AbsenceSnapshot, EmployeeSnapshot
from tests.unit.test_mapping_employee import ACCOUNT, SSN, _compensation, bundle, ended

LIMITS: Final = Limits()


def _digest(value: str) -> str:
    """A stand-in for the keyed digest: any injective function will do for counting."""
    return "d:" + value


def as_written(snapshot_bundle: s.EmployeeBundle, **payroll_fields: Any) -> payroll.Employee:
    """The 24SevenOffice employee as it is after the bundle was written, then `payroll_fields`
    changed there."""
    written = map_employee(snapshot_bundle).employee
    current = msgspec.convert(msgspec.to_builtins(written), payroll.Employee)
    return msgspec.structs.replace(current, **payroll_fields)


def _count(
    tally: Tally,
    hr: s.EmployeeBundle,
    current: payroll.Employee | None,
    *,
    key: str = "1001",
    written_enddate: str | None = None,
) -> None:
    tally.employee(
        key,
        EmployeeSnapshot(bundle=hr, payroll=current),
        limits=LIMITS,
        written_enddate=written_enddate,
        digest=_digest,
    )


def test_an_unchanged_employee_counts_nothing_but_is_compared() -> None:
    tally = Tally("employees")
    _count(tally, bundle(), as_written(bundle()))
    assert tally.counts == {"salary": 0, "account": 0, "personnr": 0, "employment.enddate": 0}
    assert (tally.records, tally.compared) == (1, 1)


def test_a_blanked_account_counts_masked_to_its_last_four_digits() -> None:
    tally = Tally("employees")
    _count(tally, bundle(bank_account=None), as_written(bundle()))
    assert tally.counts["account"] == 1
    [example] = tally.examples["account"]
    assert example.key == "1001"
    assert example.old == "•" * 7 + ACCOUNT[-4:]
    assert example.new == ""
    assert ACCOUNT not in repr(tally.examples)


def test_a_salary_change_counts_with_both_values_withheld() -> None:
    tally = Tally("employees")
    raised = bundle(compensations=[_compensation("k2", "2024-08-01", 99000.0)])
    _count(tally, raised, as_written(bundle()))
    assert tally.counts["salary"] == 1
    [example] = tally.examples["salary"]
    assert (example.old, example.new) == ("•••", "•••")
    assert "52000" not in repr(tally.examples)
    assert "99000" not in repr(tally.examples)


def test_a_person_number_change_counts_masked() -> None:
    tally = Tally("employees")
    _count(tally, bundle(), as_written(bundle(), personnr=""))
    assert tally.counts["personnr"] == 1
    [example] = tally.examples["personnr"]
    assert example.new == "•" * 7 + SSN[-4:]
    assert SSN not in repr(tally.examples)


def test_only_formatting_is_no_change() -> None:
    tally = Tally("employees")
    spaced = ACCOUNT[:4] + "." + ACCOUNT[4:6] + "." + ACCOUNT[6:]
    _count(tally, bundle(), as_written(bundle(), account=spaced, salary="52000"))
    assert tally.counts["account"] == tally.counts["salary"] == 0


def test_a_new_hire_is_a_creation_not_a_change() -> None:
    tally = Tally("employees")
    _count(tally, bundle(bank_account=None), None)
    assert sum(tally.counts.values()) == 0
    assert (tally.records, tally.compared) == (1, 0)


def test_a_record_that_cannot_be_mapped_or_read_is_not_counted() -> None:
    tally = Tally("employees")
    broken = bundle(ssn=None)  # skipped by the mapping
    _count(tally, broken, as_written(bundle()))
    tally.employee("1002", None, limits=LIMITS, written_enddate=None, digest=_digest)
    assert sum(tally.counts.values()) == 0
    assert (tally.records, tally.compared) == (2, 0)


def test_an_employment_ending_counts_when_its_end_date_is_new_to_what_we_wrote() -> None:
    leaving = ended("0111101:2")
    end = mapped_enddate(map_employee(leaving).employment)
    assert end == "2025-09-30"
    tally = Tally("employees")
    # We last wrote it open (""), now it ends: an ending.
    _count(tally, leaving, as_written(bundle()), written_enddate=_digest(""))
    assert tally.counts["employment.enddate"] == 1
    [example] = tally.examples["employment.enddate"]
    assert (example.old, example.new) == ("", "2025-09-30")
    # We wrote that end date already: not counted again.
    _count(tally, leaving, as_written(bundle()), written_enddate=_digest(end))
    # Never written (the first sync of an integration): no ending counted.
    _count(tally, leaving, as_written(bundle()), written_enddate=None)
    # Open: nothing ends.
    _count(tally, bundle(), as_written(bundle()), written_enddate=_digest("2025-01-01"))
    assert tally.counts["employment.enddate"] == 1


def test_examples_are_capped_but_counts_cover_every_record() -> None:
    tally = Tally("employees")
    for number in range(EXAMPLES_PER_FIELD + 5):
        _count(tally, bundle(bank_account=None), as_written(bundle()), key=str(number))
    assert tally.counts["account"] == EXAMPLES_PER_FIELD + 5
    assert len(tally.examples["account"]) == EXAMPLES_PER_FIELD


def _leave_snapshot(status: str, approved: str | None) -> AbsenceSnapshot:
    leave = s.Leave(
        id="l1",
        employee_id="e1",
        type_id="t1",
        status=status,  # type: ignore[arg-type]
        start_date="2025-06-02T00:00:00.000Z",
        end_date="2025-06-03T00:00:00.000Z",
    )
    existing = (
        None
        if approved is None
        else payroll.Absence(emp_id="1001", serial_no="1", approved=approved)
    )
    return AbsenceSnapshot(leave=leave, leave_type=None, existing=existing)


@pytest.mark.parametrize(
    ("status", "approved", "withdrawn"),
    [
        ("CANCELLED", "1", True),
        ("DENIED", "1", True),
        ("DENIED", "", True),
        ("CANCELLED", "2", False),  # rejected already
        ("CANCELLED", None, False),  # never exported
        ("APPROVED", "1", False),
    ],
)
def test_a_leave_counts_as_withdrawn_when_its_exported_absence_would_be_rejected(
    status: str, approved: str | None, withdrawn: bool
) -> None:
    tally = Tally("absences")
    tally.absence("l1", _leave_snapshot(status, approved))
    tally.absence("l2", None)
    assert tally.counts == {"absence.withdrawn": int(withdrawn)}


def test_shares_trip_only_past_the_threshold() -> None:
    brake = Brake(account_percent=20.0)
    counts: dict[Any, int] = {"salary": 0, "account": 20, "personnr": 0, "employment.enddate": 0}
    at = {field.field: field for field in evaluate(counts, 100, brake)}
    assert not at["account"].tripped  # exactly 20 %: not more
    assert at["account"].percent == 20.0
    counts["account"] = 21
    past = {field.field: field for field in evaluate(counts, 100, brake)}
    assert past["account"].tripped
    assert [field.field for field in evaluate(counts, 100, brake) if field.tripped] == ["account"]


def test_each_field_has_its_own_threshold() -> None:
    brake = Brake(salary_percent=50.0, employments_ending_percent=5.0)
    counts: dict[Any, int] = {"salary": 30, "account": 0, "personnr": 0, "employment.enddate": 6}
    tripped = {field.field for field in evaluate(counts, 100, brake) if field.tripped}
    assert tripped == {"employment.enddate"}


def test_nothing_trips_without_records_even_at_a_zero_threshold() -> None:
    brake = Brake(account_percent=0.0, absences_withdrawn=0)
    assert not any(field.tripped for field in evaluate({"account": 0}, 0, brake))
    assert not any(field.tripped for field in evaluate({"absence.withdrawn": 0}, 0, brake))
    assert all(field.tripped for field in evaluate({"account": 1}, 10, brake))


def test_withdrawn_absences_are_a_plain_count() -> None:
    brake = Brake(absences_withdrawn=50)
    [held] = evaluate({"absence.withdrawn": 51}, 0, brake)
    [fine] = evaluate({"absence.withdrawn": 50}, 0, brake)
    assert (held.tripped, held.total, held.threshold) == (True, 0, 50.0)
    assert not fine.tripped


# ------------------------------------------------------------------ the settings file's table

SETTINGS: Final = """
[integrations.acme]
simployer_url = "https://api.example.com/v1"
simployer_token_env = "A"
payroll_url = "https://p.example.com/api"
payroll_token_env = "B"
"""


def test_the_brake_table_of_the_settings_file() -> None:
    text = SETTINGS + "[integrations.acme.brake]\naccount_percent = 5\nabsences_withdrawn = 3\n"
    brake = parse_settings(text).integrations["acme"].brake
    assert brake == Brake(account_percent=5.0, absences_withdrawn=3)
    assert parse_settings(SETTINGS).integrations["acme"].brake == Brake()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "salary_percent = 101",
            "integrations.acme.brake.salary_percent: expected a number <= 100",
        ),
        ("enabled = 1", "integrations.acme.brake.enabled: expected true or false"),
        ("accounts_percent = 5", "integrations.acme.brake.accounts_percent: unknown key"),
    ],
)
def test_a_bad_brake_setting_names_its_key(table: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(SETTINGS + "[integrations.acme.brake]\n" + table + "\n")
    assert message in str(caught.value)

"""How the 24SevenOffice simulator turns written values into the API's strings."""

from __future__ import annotations

import pytest

from payroll_sync.simulators.payroll_store import Invalid, as_text, check_date, parse_emp_id


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("salary", 45000, "45000.00"),
        ("salary", "160", "160.00"),
        ("salary", 160.5, "160.50"),
        ("employment_rate", 100, "100.00"),
        ("employment_rate", "80.5", "80.50"),
        ("salary", "", ""),
        ("vacation_days", 25, "25"),
        ("vacation_days", "25", "25"),
        ("percent", 50.0, "50"),
        ("percent", 62.5, "62.5"),
        ("firstname", "Kari", "Kari"),
        ("zipcode", "0150", "0150"),  # text fields keep leading zeros
    ],
)
def test_values_become_the_apis_strings(name: str, value: object, text: str) -> None:
    assert as_text(name, value) == text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("salary", "lots"),
        ("salary", True),
        ("x", None),
        ("vacation_days", "many"),
        ("percent", "abc"),
        ("numberOfDays", "x"),
    ],
)
def test_values_that_cannot_be_numbers_are_refused(name: str, value: object) -> None:
    with pytest.raises(Invalid, match=name):
        as_text(name, value)


@pytest.mark.parametrize(("raw", "number"), [("12", 12), (12, 12), (" 7 ", 7), ("0012", 12)])
def test_emp_id_parses_digits(raw: object, number: int) -> None:
    assert parse_emp_id(raw) == number


@pytest.mark.parametrize("raw", ["12a", "", "-1", "1.5", "x", "²", "١٢"])
def test_emp_id_refuses_anything_else(raw: object) -> None:
    with pytest.raises(Invalid, match="empId must be an integer"):
        parse_emp_id(raw)


@pytest.mark.parametrize("value", ["2024-02-30", "2024-13-01", "24-01-01", "2024/01/01"])
def test_impossible_dates_are_refused(value: str) -> None:
    with pytest.raises(Invalid, match="startdate"):
        check_date(value, "startdate")


def test_empty_date_means_cleared() -> None:
    check_date("", "enddate")
    check_date(None, "enddate")

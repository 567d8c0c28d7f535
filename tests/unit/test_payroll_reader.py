"""Reading 24SevenOffice answers tolerantly, and overlaying our fields on a record as read.

`tolerant` is the one pre-pass every payroll answer goes through before `msgspec.convert`; the
connector's `read_answer` is that pass plus the error that names a field (never its value).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from payroll_sync.connectors.payroll import overlay, read_answer
from payroll_sync.errors import Permanent, Retryable
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import EmployeeWrite, EmploymentWrite, api_text, tolerant


def _read(rows: list[dict[str, Any]], row_type: Any) -> Any:
    return read_answer(msgspec.json.encode(rows), row_type, "read rows")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (0, "0"),
        (25, "25"),
        (-1, "-1"),
        (160.5, "160.5"),
        (100.0, "100.0"),
        (True, "1"),
        (False, "0"),
        ("160.00", "160.00"),
    ],
)
def test_a_scalar_reads_as_the_apis_text(value: object, text: str) -> None:
    assert api_text(value) == text


def test_nulls_and_numbers_read_as_text_at_every_level() -> None:
    (employee,) = _read(
        [
            {
                "empId": 12,
                "firstname": None,
                "salary": 45000.5,
                "vacation_days": 25,
                "hidden": False,
                "internationalID": {"countryCode": None, "ID": 123, "type": "passnummer"},
                "taxexemption": None,  # "will be nulled"
                "accounting": [{"percentage": 50, "dimensions": [{"dimid": 1, "value": 10}]}],
            }
        ],
        list[payroll.Employee],
    )
    assert (employee.emp_id, employee.firstname, employee.salary) == ("12", "", "45000.5")
    assert (employee.vacation_days, employee.hidden) == ("25", "0")
    assert employee.international_id == payroll.InternationalId(
        country_code="", id="123", type="passnummer"
    )
    assert employee.taxexemption == payroll.TaxExemption()
    assert employee.accounting == [
        payroll.Accounting(
            percentage="50", dimensions=[payroll.AccountingDimension(dimid="1", value="10")]
        )
    ]


def test_a_nulled_list_reads_as_empty() -> None:
    (employee,) = _read([{"empId": "1", "accounting": None}], list[payroll.Employee])
    assert employee.accounting == []


def test_unknown_fields_are_ignored_at_every_level() -> None:
    (employee,) = _read(
        [
            {
                "empId": "7",
                "employee_field_2": "Value",
                "future": {"nested": [1, None, {"deep": True}]},
                "internationalID": {"ID": "x", "issued": {"by": None}},
                "accounting": [
                    {
                        "percentage": "100",
                        "note": None,
                        "dimensions": [{"dimid": "1", "value": "2", "x": 1}],
                    }
                ],
            }
        ],
        list[payroll.Employee],
    )
    assert (employee.emp_id, employee.international_id.id) == ("7", "x")
    assert employee.accounting[0].dimensions[0].value == "2"


def test_absence_and_employment_rows_read_numbers_as_text() -> None:
    (absence,) = _read(
        [{"empId": 1, "serialNo": 161, "percent": 100, "childId": None, "numberOfDays": 7}],
        list[payroll.Absence],
    )
    assert (absence.emp_id, absence.serial_no, absence.percent) == ("1", "161", "100")
    assert (absence.child_id, absence.number_of_days) == ("", "7")
    (employment,) = _read(
        [{"employment_id": 5, "employment_rate": 80.25, "primary_employment": True}],
        list[payroll.Employment],
    )
    assert (employment.employment_id, employment.employment_rate) == ("5", "80.25")
    assert employment.primary_employment == "1"


@pytest.mark.parametrize(
    "row",
    [
        {
            "childId": "102701",
            "firstname": "Carl",
            "lastname": "Eriksson",
            "birthdate": "1999-12-01",
        },
        {
            "childId": "102701",
            "firstnamn": "Carl",
            "surname": "Eriksson",
            "birthdate": "1999-12-01",
        },
        {"childId": 102701, "firstnamn": "Carl", "surname": "Eriksson", "birthdate": "1999-12-01"},
        # Both spellings: ours wins; a null one gives way to the other.
        {
            "childId": "102701",
            "firstname": "Carl",
            "firstnamn": "X",
            "lastname": None,
            "surname": "Eriksson",
            "birthdate": "1999-12-01",
        },
    ],
)
def test_children_read_under_either_spelling(row: dict[str, Any]) -> None:
    (child,) = _read([row], list[payroll.Child])
    assert child == payroll.Child(
        child_id="102701", firstname="Carl", lastname="Eriksson", birthdate="1999-12-01"
    )


@pytest.mark.parametrize(
    ("row_type", "row", "path"),
    [
        (payroll.Employee, {"firstname": "Kari"}, "$[0].empId"),
        (payroll.Employee, {"empId": None, "personnr": "01010150113"}, "$[0].empId"),
        (payroll.Employment, {"startdate": "2024-01-01"}, "$[0].employment_id"),
        (payroll.Absence, {"empId": "1", "serialNo": ""}, "$[0].serialNo"),
        (payroll.Child, {"firstnamn": "Carl", "birthdate": "1999-12-01"}, "$[0].childId"),
        (
            payroll.AbsenceType,
            {"code": "01", "description": "x", "category": "x-secret"},
            "$[0].category",
        ),
        (payroll.Employee, {"empId": "1", "salary": {"amount": "99999"}}, "$[0].salary"),
        (
            payroll.Employee,
            {"empId": "1", "internationalID": "01010150113"},
            "$[0].internationalID",
        ),
    ],
)
def test_a_used_field_missing_or_malformed_is_named_never_its_value(
    row_type: Any, row: dict[str, Any], path: str
) -> None:
    with pytest.raises(Permanent) as failed:
        _read([row], list[row_type])
    message = str(failed.value)
    assert message.startswith("24SevenOffice answered read rows")
    assert message.endswith(path), message
    for secret in ("01010150113", "99999", "x-secret", "Kari"):
        assert secret not in message


def test_malformed_json_is_retryable() -> None:
    with pytest.raises(Retryable):
        read_answer(b"<html>proxy error</html>", list[payroll.Employee], "list employees")


def test_tolerant_leaves_its_input_unchanged() -> None:
    rows = [{"empId": 1, "internationalID": {"ID": None}, "taxexemption": None}]
    before = msgspec.json.encode(rows)
    tolerant(rows, list[payroll.Employee])
    assert msgspec.json.encode(rows) == before


# ---------------------------------------------------------------- overlay


def test_overlay_keeps_every_field_as_read_but_ours() -> None:
    record: dict[str, Any] = {
        "empId": "12",
        "firstname": "Kari",
        "telefon": None,
        "taxtable": 7100,
        "employee_field_2": "Value",
        "internationalID": {"countryCode": "", "ID": "x", "type": "passnummer", "extra": 1},
        "accounting": [{"percentage": "100.00", "dimensions": []}],
    }
    ours = EmployeeWrite(
        lastname="Nordmann",
        international_id=payroll.InternationalIdWrite(id="y", type="socialSecurityNumber"),
    )
    assert overlay(record, ours) == {
        **record,
        "lastname": "Nordmann",
        "internationalID": {
            "countryCode": "",
            "ID": "y",
            "type": "socialSecurityNumber",
            "extra": 1,
        },
    }
    assert record["internationalID"]["ID"] == "x", "the record read is not changed"


def test_overlay_of_an_employment_sets_only_what_we_send() -> None:
    record = {"employment_id": "12-1", "primary_employment": "1", "employment_rate": "80.00"}
    changes = EmploymentWrite(employment_id="12-1", employment_rate=60)
    assert overlay(record, changes) == {**record, "employment_rate": 60}

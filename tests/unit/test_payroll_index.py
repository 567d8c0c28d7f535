"""`PayrollEmployees`: `GET /employee/v2` by empId, each row decoded when looked up exactly as
`PayrollClient.list_employees` decodes it."""

from __future__ import annotations

import msgspec
import pytest

from payroll_sync.connectors.payroll import read_answer
from payroll_sync.errors import SyncError
from payroll_sync.producer.payroll_index import PayrollEmployees
from payroll_sync.schemas import payroll

BODY = msgspec.json.encode(
    [
        {"empId": "12", "firstname": "Kari", "lastname": "Nordmann", "salary": 612000},
        {"empId": 40, "lastname": None, "unknownField": {"a": 1}, "accounting": None},
    ]
)


def test_each_row_reads_as_the_whole_list_reads_it() -> None:
    rows = PayrollEmployees(BODY)
    expected = read_answer(BODY, list[payroll.Employee], "list employees")
    assert sorted(rows) == ["12", "40"]
    assert len(rows) == 2
    assert [rows["12"], rows["40"]] == expected
    assert rows["40"].lastname == ""
    assert rows["12"].salary == "612000"
    assert rows.get("99") is None


@pytest.mark.parametrize(
    "body", [b'{"empId": "1"}', b'[{"firstname": "Kari"}]', b'[{"empId": ""}]', b"<html>"]
)
def test_an_answer_the_list_refuses_is_refused(body: bytes) -> None:
    with pytest.raises(SyncError) as listed:
        read_answer(body, list[payroll.Employee], "list employees")
    with pytest.raises(SyncError) as indexed:
        PayrollEmployees(body)
    assert type(indexed.value) is type(listed.value)

"""Every employee 24SevenOffice holds, by empId, decoded only when asked for.

`GET /employee/v2` answers a company's every employee at once: for 100,000 that is ~90 MB of
JSON, and decoded into dicts and then Structs several times that. The producer needs each row
once, for the snapshot of one in-scope employee, so it keeps the body and, per empId, the row's
raw JSON (`msgspec.Raw`, a view into the body), and decodes a row when it is looked up, as
tolerantly as `PayrollClient.list_employees` does (`connectors.payroll.read_answer`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

import msgspec

from payroll_sync.connectors.answers import unexpected_answer
from payroll_sync.connectors.payroll import read_answer
from payroll_sync.schemas import payroll

WHAT: Final = "list employees"


class _EmpId(msgspec.Struct):
    """Only the empId of a row: text, or a number read as its text."""

    emp_id: payroll.IdText | int = msgspec.field(name="empId")


_rows_decoder: Final = msgspec.json.Decoder(list[msgspec.Raw])
_id_decoder: Final = msgspec.json.Decoder(_EmpId)


class PayrollEmployees(Mapping[str, payroll.Employee]):
    """empId -> the employee's row, decoded on each lookup (each is looked up once)."""

    def __init__(self, body: bytes) -> None:
        try:
            rows = _rows_decoder.decode(body)
        except msgspec.MsgspecError as exc:
            raise unexpected_answer(exc, api="payroll", what=WHAT) from None
        self._rows: dict[str, msgspec.Raw] = {}
        for row in rows:
            try:
                found = _id_decoder.decode(row).emp_id
                emp_id = str(found)
            except msgspec.ValidationError:
                # A row without a usable empId: the whole answer is refused, as
                # `list_employees` refuses it, with the same reason.
                emp_id = read_answer(bytes(row), payroll.Employee, WHAT).emp_id
            self._rows[emp_id] = row

    def __getitem__(self, emp_id: str) -> payroll.Employee:
        return read_answer(bytes(self._rows[emp_id]), payroll.Employee, WHAT)

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

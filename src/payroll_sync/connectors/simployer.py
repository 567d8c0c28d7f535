"""Simployer One (AlexisHR v1) client: paged lists, employee bundles, the scope's tree data.

Rows arrive as JSON objects and are decoded into the Structs of `schemas.simployer`. A row
that does not fit fails the whole call with a `Permanent` error naming the resource, the row's
id and the field (never its value): silently dropping an employee would make them vanish from
payroll sync without anyone noticing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeVar
from urllib.parse import quote

import aiohttp
import msgspec

from payroll_sync.assumptions import SIMPLOYER_MAX_LIMIT
from payroll_sync.connectors.errors import (
    Permanent,
    classify,
    field_path,
    unexpected_answer,
)
from payroll_sync.connectors.http import DEFAULT_TIMEOUT, Answer, BeforeRequest, send
from payroll_sync.schemas import simployer
from payroll_sync.schemas.simployer import EmployeeBundle, LeaveTypeWithCode

Row = dict[str, object]
S = TypeVar("S", bound=simployer.Resource)
T = TypeVar("T")

#: What an employee bundle needs besides the employee (the employment type comes from the
#: employment's `typeId`, so it is listed once rather than related per page).
BUNDLE_RELATIONS: Final = ("employment", "compensation")


class OneBody(msgspec.Struct, kw_only=True):
    """`GET /v1/<resource>/<id>`."""

    status: str
    data: Row
    relations: dict[str, list[Row]] = msgspec.field(default_factory=dict)


_list_decoder = msgspec.json.Decoder(simployer.ListBody)
_one_decoder = msgspec.json.Decoder(OneBody)


def _decode(decoder: msgspec.json.Decoder[T], body: bytes, what: str) -> T:
    try:
        return decoder.decode(body)
    except msgspec.MsgspecError as exc:
        raise unexpected_answer(exc, api="simployer", what=what) from None


def decode_rows(resource: str, rows: Iterable[Row], struct: type[S]) -> list[S]:
    """Rows as Structs; `Permanent` naming resource, row id and field for the first bad one."""
    out: list[S] = []
    for row in rows:
        try:
            out.append(msgspec.convert(row, type=struct))
        except msgspec.ValidationError as exc:
            name = field_path(exc).removeprefix("$").removeprefix(".") or "(row)"
            row_id = row.get("id")
            label = f"{resource} {row_id}" if isinstance(row_id, str) else resource
            raise Permanent(
                f"Simployer One {label}: field {name} is missing or invalid", field=name
            ) from None
    return out


def _filter_params(filters: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """`{"active": "true", "updated[$gte]": "2024-..."}` -> `filters[active]=true`,
    `filters[updated][$gte]=2024-...`."""
    params = []
    for key, value in (filters or {}).items():
        field, bracket, rest = key.partition("[")
        params.append((f"filters[{field}]{bracket}{rest}", value))
    return params


def _merge_relations(into: dict[str, list[Row]], more: Mapping[str, list[Row]]) -> None:
    """Add a page's related rows; a row related to several pages (a type) is kept once."""
    for name, rows in more.items():
        target = into.setdefault(name, [])
        seen = {row.get("id") for row in target}
        for row in rows:
            row_id = row.get("id")
            if row_id is None or row_id not in seen:
                target.append(row)
                seen.add(row_id)


class SimployerClient:
    """Read access to one Simployer One company. Errors are `errors.SyncError`s."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        access_token: str,
        *,
        before_request: BeforeRequest | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._before_request = before_request
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SimployerClient({self._base!r})"  # never the token

    async def _get(
        self, path: str, params: Sequence[tuple[str, str]], what: str, *, missing_ok: bool = False
    ) -> Answer | None:
        answer = await send(
            self._session,
            "GET",
            self._base + path,
            api="simployer",
            what=what,
            client_timeout=self._timeout,
            before_request=self._before_request,
            params=params,
            headers=self._headers,
        )
        if missing_ok and answer.status == 404:
            return None
        if (error := classify(*answer, api="simployer", what=what)) is not None:
            raise error
        return answer

    async def list_all(
        self,
        resource: str,
        *,
        relations: Sequence[str] = (),
        filters: Mapping[str, str] | None = None,
    ) -> tuple[list[Row], dict[str, list[Row]]]:
        """Every row of `resource` (pages of the largest limit) and the asked relations' rows.

        `filters` keys are field names, optionally with an operator: `"updated[$gte]"`.
        """
        what = f"list {resource}"
        fixed = [("limit", str(SIMPLOYER_MAX_LIMIT))]
        fixed += [("relations[]", name) for name in relations]
        fixed += _filter_params(filters)
        rows: list[Row] = []
        related: dict[str, list[Row]] = {}
        while True:
            answer = await self._get(f"/{resource}", [*fixed, ("offset", str(len(rows)))], what)
            assert answer is not None
            page = _decode(_list_decoder, answer.body, what)
            rows.extend(page.data)
            _merge_relations(related, page.relations)
            # `total` is re-read on every page; an empty page ends a list that shrank meanwhile.
            if not page.data or len(rows) >= page.total:
                return rows, related

    async def employee_bundles(
        self, *, filters: Mapping[str, str] | None = None
    ) -> list[EmployeeBundle]:
        """Every employee (matching `filters`) with current employment, its type and
        compensations: one request for the types, then one per 100 employees."""
        type_rows, _ = await self.list_all("employment-type")
        types = decode_rows("employment-type", type_rows, simployer.EmploymentType)
        rows, related = await self.list_all("employee", relations=BUNDLE_RELATIONS, filters=filters)
        return _bundles(
            decode_rows("employee", rows, simployer.Employee),
            decode_rows("employment", related.get("employment", []), simployer.Employment),
            {t.id: t for t in types},
            decode_rows("compensation", related.get("compensation", []), simployer.Compensation),
        )

    async def employee_bundle(self, employee_id: str) -> EmployeeBundle | None:
        """One employee read afresh, or None if Simployer One no longer knows them.

        One request when the employee's `employmentTypeId` names the current employment's type
        (the usual case), else a second one for that type.
        """
        what = "read employee"
        params = [("relations[]", name) for name in (*BUNDLE_RELATIONS, "employmentType")]
        answer = await self._get(
            f"/employee/{quote(employee_id, safe='')}", params, what, missing_ok=True
        )
        if answer is None:
            return None
        body = _decode(_one_decoder, answer.body, what)
        (employee,) = decode_rows("employee", [body.data], simployer.Employee)
        employments = decode_rows(
            "employment", body.relations.get("employment", []), simployer.Employment
        )
        types = decode_rows(
            "employment-type", body.relations.get("employmentType", []), simployer.EmploymentType
        )
        by_id = {t.id: t for t in types}
        current = next((e for e in employments if e.id == employee.employment_id), None)
        if current is not None and current.type_id not in by_id:
            fetched = await self._employment_type(current.type_id)
            if fetched is not None:
                by_id[fetched.id] = fetched
        compensations = decode_rows(
            "compensation", body.relations.get("compensation", []), simployer.Compensation
        )
        (bundle,) = _bundles([employee], employments, by_id, compensations)
        return bundle

    async def _employment_type(self, type_id: str) -> simployer.EmploymentType | None:
        what = "read employment type"
        answer = await self._get(
            f"/employment-type/{quote(type_id, safe='')}", [], what, missing_ok=True
        )
        if answer is None:
            return None
        body = _decode(_one_decoder, answer.body, what)
        (row,) = decode_rows("employment-type", [body.data], simployer.EmploymentType)
        return row

    async def employees(self) -> list[simployer.Employee]:
        """Every employee, without relations (the absence sync's scope needs no more)."""
        rows, _ = await self.list_all("employee")
        return decode_rows("employee", rows, simployer.Employee)

    async def leaves(self, start: datetime.date, end: datetime.date) -> list[simployer.Leave]:
        """Leaves overlapping [start, end], every status.

        The filter is a day wider on each side: the dates are date-times, and a leave stored as
        `2026-03-31T22:00:00.000Z` may be 1 April to the person who entered it. The caller
        narrows by calendar date.
        """
        filters = {
            "startDate[$lt]": (end + datetime.timedelta(days=2)).isoformat(),
            "endDate[$gte]": (start - datetime.timedelta(days=1)).isoformat(),
        }
        rows, _ = await self.list_all("leave", filters=filters)
        return decode_rows("leave", rows, simployer.Leave)

    async def leave(self, leave_id: str) -> simployer.Leave | None:
        """One leave read afresh, None when Simployer One no longer has it."""
        row = await self._one("leave", leave_id, "read leave")
        return None if row is None else decode_rows("leave", [row], simployer.Leave)[0]

    async def leave_types(self) -> list[LeaveTypeWithCode]:
        """Every leave type with the payroll code the customer set on it, if any."""
        rows, related = await self.list_all("leave-type", relations=("leaveTypeCode",))
        types = decode_rows("leave-type", rows, simployer.LeaveType)
        codes = decode_rows(
            "leave-type-code", related.get("leaveTypeCode", []), simployer.LeaveTypeCode
        )
        code_of = {row.leave_type_id: row.code for row in codes}
        return [LeaveTypeWithCode(type=row, code=code_of.get(row.id)) for row in types]

    async def leave_type(self, type_id: str) -> LeaveTypeWithCode | None:
        what = "read leave type"
        answer = await self._get(
            f"/leave-type/{quote(type_id, safe='')}",
            [("relations[]", "leaveTypeCode")],
            what,
            missing_ok=True,
        )
        if answer is None:
            return None
        body = _decode(_one_decoder, answer.body, what)
        (row,) = decode_rows("leave-type", [body.data], simployer.LeaveType)
        codes = decode_rows(
            "leave-type-code", body.relations.get("leaveTypeCode", []), simployer.LeaveTypeCode
        )
        return LeaveTypeWithCode(type=row, code=codes[0].code if codes else None)

    async def children(self) -> list[simployer.Child]:
        rows, _ = await self.list_all("child")
        return decode_rows("child", rows, simployer.Child)

    async def child(self, child_id: str) -> simployer.Child | None:
        row = await self._one("child", child_id, "read child")
        return None if row is None else decode_rows("child", [row], simployer.Child)[0]

    async def _one(self, resource: str, row_id: str, what: str) -> Row | None:
        answer = await self._get(f"/{resource}/{quote(row_id, safe='')}", [], what, missing_ok=True)
        return None if answer is None else _decode(_one_decoder, answer.body, what).data

    async def departments(self) -> list[simployer.Department]:
        rows, _ = await self.list_all("department")
        return decode_rows("department", rows, simployer.Department)

    async def offices(self) -> list[simployer.Office]:
        rows, _ = await self.list_all("office")
        return decode_rows("office", rows, simployer.Office)

    async def check(self) -> None:
        """Prove the token works (one small request); `ConfigError` if it does not."""
        await self._get("/employee", [("limit", "1"), ("select[]", "id")], "read employees")


def _bundles(
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

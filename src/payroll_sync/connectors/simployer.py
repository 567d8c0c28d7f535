"""Simployer One (AlexisHR v1) client: paged lists, employee bundles, the scope's tree data.

It asks as the API publishes (`select` and `relations` comma-separated, `filters` as deepObject)
and reads tolerantly: rows are decoded one by one into the Structs of `schemas.simployer`, which
ignore every field the sync does not use. A row that lacks a field we use, or holds a malformed
one, fails only the record it belongs to, naming resource, row id and field (never the value):
bulk reads return such rows as `Unreadable` beside the good ones, single reads raise
`Permanent`. Dropping a row silently would make an employee vanish from payroll sync unseen.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Final, TypeVar
from urllib.parse import quote

import aiohttp
import msgspec

from payroll_sync.assumptions import SIMPLOYER_MAX_LIMIT
from payroll_sync.connectors.answers import classify, unexpected_answer
from payroll_sync.connectors.http import DEFAULT_TIMEOUT, Answer, BeforeRequest, send
from payroll_sync.connectors.retrying import OnRetry, ReadRetry, retried
from payroll_sync.connectors.simployer_rows import (
    Bundles,
    Row,
    Unreadable,
    assemble_bundles,
    broken_parts,
    decode_rows,
    read_rows,
    text_of,
)
from payroll_sync.schemas import simployer
from payroll_sync.schemas.simployer import EmployeeBundle, LeaveTypeWithCode

T = TypeVar("T")

#: Employee ids per `/compensation` request: 50 `filters[employeeId][$in][]` keep the URL near
#: 3.5 kB, well inside the 8 kB request line common servers accept.
COMPENSATION_BATCH: Final = 50


class OneBody(msgspec.Struct, kw_only=True):
    """`GET /v1/<resource>/<id>`. A relation holds a list of rows, one row or null (the
    published single leave type answers `relations.leaveTypeCode` as one object): `related`
    reads them all as a list."""

    status: str
    data: Row
    relations: dict[str, list[Row] | Row | None] = msgspec.field(default_factory=dict)

    def related(self, name: str) -> list[Row]:
        rows = self.relations.get(name)
        if rows is None:
            return []
        return rows if isinstance(rows, list) else [rows]


_list_decoder = msgspec.json.Decoder(simployer.ListBody)
_one_decoder = msgspec.json.Decoder(OneBody)


def _decode(decoder: msgspec.json.Decoder[T], body: bytes, what: str) -> T:
    try:
        return decoder.decode(body)
    except msgspec.MsgspecError as exc:
        raise unexpected_answer(exc, api="simployer", what=what) from None


def _filter_params(filters: Mapping[str, str | Sequence[str]] | None) -> list[tuple[str, str]]:
    """`{"active": "true", "updated[$gte]": "2024-...", "employeeId[$in]": [a, b]}` ->
    `filters[active]=true`, `filters[updated][$gte]=2024-...`,
    `filters[employeeId][$in][]=a&filters[employeeId][$in][]=b`."""
    params = []
    for key, value in (filters or {}).items():
        field, bracket, rest = key.partition("[")
        name = f"filters[{field}]{bracket}{rest}"
        if isinstance(value, str):
            params.append((name, value))
        else:
            params += [(f"{name}[]", item) for item in value]
    return params


def _listed(names: Sequence[str]) -> str:
    """A published array parameter: form style, not exploded (`relations=a,b`)."""
    return ",".join(names)


class _Related:
    """The related rows of a listing's pages; a row related to several pages (a type) is kept
    once. The ids seen live across pages, so adding a page costs its own rows only."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {}
        self._seen: dict[str, set[object]] = {}

    def add(self, more: Mapping[str, list[Row]]) -> None:
        for name, rows in more.items():
            target = self.rows.setdefault(name, [])
            seen = self._seen.setdefault(name, set())
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
        retry: ReadRetry | None = None,
        on_retry: OnRetry | None = None,
        integration: str = "",
    ) -> None:
        """`retry`: each request (a page, one row) is retried alone on a transient fault (the
        producer's bulk reads); without, a `Retryable` reaches the caller (a worker retries the
        whole record). `on_retry` hears of each retry (a log line, the limiter after a 429).
        `integration`: the id its requests are counted under (metrics)."""
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._before_request = before_request
        self._timeout = timeout
        self._retry = retry
        self._on_retry = on_retry
        self._integration = integration

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        if self._retry is None:
            return await call()
        return await retried(call, self._retry, on_retry=self._on_retry)

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
            integration=self._integration,
        )
        if missing_ok and answer.status == 404:
            return None
        if (error := classify(*answer, api="simployer", what=what)) is not None:
            raise error
        return answer

    async def pages(
        self,
        resource: str,
        *,
        relations: Sequence[str] = (),
        filters: Mapping[str, str | Sequence[str]] | None = None,
    ) -> AsyncIterator[tuple[list[Row], dict[str, list[Row]]]]:
        """Every row of `resource`, a page (of the largest limit) at a time with the asked
        relations' rows of that page. A page that fails transiently is read again alone.

        `filters` keys are field names, optionally with an operator: `"updated[$gte]"`; a list
        value is sent as `[]` items (`"employeeId[$in]": [...]`).
        """
        what = f"list {resource}"
        fixed = [("limit", str(SIMPLOYER_MAX_LIMIT))]
        if relations:
            fixed.append(("relations", _listed(relations)))
        fixed += _filter_params(filters)
        read = 0

        async def next_page() -> simployer.ListBody:
            answer = await self._get(f"/{resource}", [*fixed, ("offset", str(read))], what)
            assert answer is not None
            return _decode(_list_decoder, answer.body, what)

        while True:
            page = await self._retrying(next_page)
            read += len(page.data)
            if page.data:
                yield page.data, page.relations
            # `total` is re-read on every page; an empty page ends a list that shrank meanwhile.
            if not page.data or read >= page.total:
                return

    async def list_all(
        self,
        resource: str,
        *,
        relations: Sequence[str] = (),
        filters: Mapping[str, str | Sequence[str]] | None = None,
    ) -> tuple[list[Row], dict[str, list[Row]]]:
        """Every row of `resource` and the asked relations' rows (see `pages`)."""
        rows: list[Row] = []
        related = _Related()
        async for page, relations_of_page in self.pages(
            resource, relations=relations, filters=filters
        ):
            rows.extend(page)
            related.add(relations_of_page)
        return rows, related.rows

    async def employee_bundles(
        self, *, filters: Mapping[str, str | Sequence[str]] | None = None
    ) -> Bundles:
        """Every employee (matching `filters`) as one list; see `employee_bundle_pages`."""
        bundles = Bundles([], [])
        async for page in self.employee_bundle_pages(filters=filters):
            bundles.bundles.extend(page.bundles)
            bundles.unreadable.extend(page.unreadable)
        return bundles

    async def employee_bundle_pages(
        self, *, filters: Mapping[str, str | Sequence[str]] | None = None
    ) -> AsyncIterator[Bundles]:
        """Every employee (matching `filters`) with current employment, its type and all
        compensations, a page at a time: the types once, then per page of employees (with their
        current employment) every compensation of those employees from `/compensation` (an
        employee's `compensation` relation may hold only the one `compensationId` names). Only
        one page's rows are held at once: a company of 100,000 is never in memory twice."""
        type_rows, _ = await self.list_all("employment-type")
        types, bad_types = read_rows("employment-type", type_rows, simployer.EmploymentType)
        type_by_id = {t.id: t for t in types}
        async for rows, related in self.pages(
            "employee", relations=("employment",), filters=filters
        ):
            employees, unreadable = read_rows("employee", rows, simployer.Employee)
            employments, bad_employments = read_rows(
                "employment", related.get("employment", []), simployer.Employment
            )
            compensations, bad_pay = read_rows(
                "compensation",
                await self._compensations([e.id for e in employees]),
                simployer.Compensation,
            )
            bundles = assemble_bundles(employees, employments, type_by_id, compensations)
            broken = broken_parts(bundles, bad_types, bad_employments, bad_pay)
            good = [b for b in bundles if b.employee.id not in broken]
            unreadable += [broken[b.employee.id] for b in bundles if b.employee.id in broken]
            yield Bundles(good, unreadable)

    async def _compensations(self, employee_ids: Sequence[str]) -> list[Row]:
        rows: list[Row] = []
        for start in range(0, len(employee_ids), COMPENSATION_BATCH):
            batch = employee_ids[start : start + COMPENSATION_BATCH]
            found, _ = await self.list_all("compensation", filters={"employeeId[$in]": batch})
            rows += found
        return rows

    async def employee_bundle(self, employee_id: str) -> EmployeeBundle | None:
        """One employee read afresh, or None if Simployer One no longer knows them.

        Two requests: the employee with its current employment and that employment's type, and
        the employee's compensations; a third for the type when `employmentTypeId` does not name
        the current employment's. A row that cannot be read raises `Permanent` naming the field.
        """
        what = "read employee"
        params = [("relations", _listed(("employment", "employmentType")))]
        answer = await self._retrying(
            lambda: self._get(
                f"/employee/{quote(employee_id, safe='')}", params, what, missing_ok=True
            )
        )
        if answer is None:
            return None
        body = _decode(_one_decoder, answer.body, what)
        (employee,) = decode_rows("employee", [body.data], simployer.Employee)
        employments = decode_rows(
            "employment",
            [row for row in body.related("employment") if row.get("id") == employee.employment_id],
            simployer.Employment,
            prefix="employment.",
        )
        types = decode_rows(
            "employment-type",
            body.related("employmentType"),
            simployer.EmploymentType,
            prefix="employmentType.",
        )
        by_id = {t.id: t for t in types}
        current = next(iter(employments), None)
        if current is not None and current.type_id not in by_id:
            fetched = await self._employment_type(current.type_id)
            if fetched is not None:
                by_id[fetched.id] = fetched
        rows, _ = await self.list_all("compensation", filters={"employeeId": employee.id})
        compensations = decode_rows(
            "compensation", rows, simployer.Compensation, prefix="compensation."
        )
        (bundle,) = assemble_bundles([employee], employments, by_id, compensations)
        return bundle

    async def _employment_type(self, type_id: str) -> simployer.EmploymentType | None:
        row = await self._one("employment-type", type_id, "read employment type")
        if row is None:
            return None
        return decode_rows(
            "employment-type", [row], simployer.EmploymentType, prefix="employmentType."
        )[0]

    async def employees(self) -> tuple[list[simployer.Employee], list[Unreadable]]:
        """Every employee, without relations (the absence sync's scope needs no more)."""
        rows, _ = await self.list_all("employee")
        return read_rows("employee", rows, simployer.Employee)

    async def leaves(
        self, start: datetime.date, end: datetime.date
    ) -> tuple[list[simployer.Leave], list[Unreadable]]:
        """Leaves overlapping [start, end], every status, and those that cannot be read.

        The filter is a day wider on each side: the dates are instants, and a leave stored as
        `2026-03-31T22:00:00.000Z` is 1 April in Oslo. The caller narrows by calendar date.
        """
        filters = {
            "startDate[$lt]": (end + datetime.timedelta(days=2)).isoformat(),
            "endDate[$gte]": (start - datetime.timedelta(days=1)).isoformat(),
        }
        rows, _ = await self.list_all("leave", filters=filters)
        return read_rows("leave", rows, simployer.Leave)

    async def leave(self, leave_id: str) -> simployer.Leave | None:
        """One leave read afresh, None when Simployer One no longer has it."""
        row = await self._one("leave", leave_id, "read leave")
        return None if row is None else decode_rows("leave", [row], simployer.Leave)[0]

    async def leave_types(self) -> tuple[list[LeaveTypeWithCode], list[Unreadable]]:
        """Every leave type with the payroll code the customer set on it, if any; and the types
        that cannot be read, by leave type id (their leaves fail, naming the field). A type whose
        code row cannot be read is one of them: guessing its code from the name could export
        its leaves under another code than the customer chose."""
        rows, related = await self.list_all("leave-type", relations=("leaveTypeCode",))
        types, unreadable = read_rows("leave-type", rows, simployer.LeaveType)
        code_of: dict[str, str] = {}
        for raw in related.get("leaveTypeCode", []):
            codes, bad = read_rows("leave-type-code", [raw], simployer.LeaveTypeCode)
            code_of.update((row.leave_type_id, row.code) for row in codes)
            unreadable += [
                msgspec.structs.replace(
                    wrong,
                    resource="leave-type",
                    row_id=text_of(raw, "leaveTypeId"),
                    field=f"leaveType.leaveTypeCode.{wrong.field}",
                )
                for wrong in bad
            ]
        broken = {bad.row_id for bad in unreadable}
        kept = [
            LeaveTypeWithCode(type=row, code=code_of.get(row.id))
            for row in types
            if row.id not in broken
        ]
        return kept, unreadable

    async def leave_type(self, type_id: str) -> LeaveTypeWithCode | None:
        what = "read leave type"
        answer = await self._retrying(
            lambda: self._get(
                f"/leave-type/{quote(type_id, safe='')}",
                [("relations", "leaveTypeCode")],
                what,
                missing_ok=True,
            )
        )
        if answer is None:
            return None
        body = _decode(_one_decoder, answer.body, what)
        (row,) = decode_rows("leave-type", [body.data], simployer.LeaveType, prefix="leaveType.")
        codes = decode_rows(
            "leave-type-code",
            body.related("leaveTypeCode"),
            simployer.LeaveTypeCode,
            prefix="leaveType.leaveTypeCode.",
        )
        code = next((c.code for c in codes if c.leave_type_id == row.id), None)
        return LeaveTypeWithCode(type=row, code=code)

    async def children(self) -> tuple[list[simployer.Child], list[Unreadable]]:
        rows, _ = await self.list_all("child")
        return read_rows("child", rows, simployer.Child)

    async def children_of(self, employee_id: str) -> list[simployer.Child]:
        """One employee's children, read afresh; `Permanent` naming the field of a bad one."""
        rows, _ = await self.list_all("child", filters={"employeeId": employee_id})
        return decode_rows("child", rows, simployer.Child, prefix="child.")

    async def _one(self, resource: str, row_id: str, what: str) -> Row | None:
        answer = await self._retrying(
            lambda: self._get(f"/{resource}/{quote(row_id, safe='')}", [], what, missing_ok=True)
        )
        return None if answer is None else _decode(_one_decoder, answer.body, what).data

    async def departments(self) -> list[simployer.Department]:
        """The department tree. A department that cannot be read is left out of the tree (its
        employees match no department filter): scope settings name ids, and one bad row must not
        stop every sync of the company."""
        rows, _ = await self.list_all("department")
        return read_rows("department", rows, simployer.Department)[0]

    async def offices(self) -> list[simployer.Office]:
        rows, _ = await self.list_all("office")
        return read_rows("office", rows, simployer.Office)[0]

    async def check(self) -> None:
        """Prove the token works (one small request); `ConfigError` if it does not."""
        await self._get("/employee", [("limit", "1"), ("select", "id")], "read employees")

"""24SevenOffice Lønn payroll API v2 client: the token exchange and the calls the sync makes.

`PayrollAuth` turns the customer's persistent access token into bearer tokens (`GET /auth`)
and caches one until shortly before its `expiresOn`; every `PayrollClient` of the same
integration in a process shares it, so they share one exchange. A bearer call that answers 401
invalidates the token, exchanges once more and retries once; a second 401 is a `ConfigError`.

Where APIS.md says the published file is silent, the client reads it the safe way:
- Answers are read tolerantly (`schemas.payroll.tolerant`): null as "", numbers as their text,
  unknown fields ignored; a field we use that is missing or malformed is a `Permanent` naming
  its path, never its value.
- Any 2xx answer to a POST is success whatever its body: the writes return nothing, and a
  caller that needs an id the write created reads it back with a GET.
- An update sends the whole record, never a partial body; see `PayrollClient`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import msgspec

from payroll_sync.assumptions import PAYROLL_AUTH_HEADER, PAYROLL_UNKNOWN_EMPLOYEE_STATUS
from payroll_sync.connectors.answers import classify, unexpected_answer
from payroll_sync.connectors.http import DEFAULT_TIMEOUT, Answer, BeforeRequest, send
from payroll_sync.errors import Permanent, Retryable
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import (
    AbsenceWrite,
    ChildWrite,
    EmployeeWrite,
    EmploymentWrite,
    tolerant,
)

T = TypeVar("T")

#: A record as the API answered it: decoded JSON, every field kept, nothing normalised.
Record = dict[str, Any]

_json = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


def _decode_json(body: bytes, what: str) -> object:
    try:
        return _json.decode(body)
    except msgspec.DecodeError as exc:
        raise unexpected_answer(exc, api="payroll", what=what) from None


def _typed(decoded: object, row_type: type[T], what: str) -> T:
    """Decoded JSON read tolerantly into `row_type` (the one place answers become Structs)."""
    try:
        return msgspec.convert(tolerant(decoded, row_type), row_type)
    except msgspec.ValidationError as exc:
        raise unexpected_answer(exc, api="payroll", what=what) from None


def read_answer(body: bytes, row_type: type[T], what: str) -> T:
    """An answer body read tolerantly (`schemas.payroll.tolerant`): unknown fields ignored,
    null as "", numbers as their text; a field we use that is missing is `Permanent`."""
    return _typed(_decode_json(body, what), row_type, what)


def _records(decoded: object, what: str) -> list[Record]:
    """An answer that must be an array of objects, kept as read."""
    if not isinstance(decoded, list) or not all(isinstance(row, dict) for row in decoded):
        raise Permanent(f"24SevenOffice answered {what} in an unexpected shape at $")
    return decoded


def _text(value: object) -> str:
    """An identifier as read (a number or a string) as text, for matching."""
    text = payroll.api_text(value)
    return text.strip() if isinstance(text, str) else ""


def overlay(record: Record, ours: msgspec.Struct) -> Record:
    """`record` as read, with the fields `ours` sets (not None) put over it. Nested objects
    are overlaid key by key, so a sub-field we do not set keeps its value as read."""
    return _overlay(record, msgspec.to_builtins(ours))


def _overlay(record: Record, ours: dict[str, Any]) -> Record:
    merged = dict(record)
    for key, value in ours.items():
        if value is None:
            continue  # not ours to set
        held = merged.get(key)
        merged[key] = (
            _overlay(held, value) if isinstance(value, dict) and isinstance(held, dict) else value
        )
    return merged


def _expires_at(expires_on: str) -> float | None:
    """`expiresOn` ("2026-11-25T09:00:00+01:00") as a Unix time; None if we cannot read it."""
    try:
        parsed = datetime.fromisoformat(expires_on)
    except ValueError:
        return None
    # Without an offset we cannot know the zone: better to refresh at once than too late.
    return parsed.timestamp() if parsed.tzinfo is not None else None


class PayrollAuth:
    """Bearer tokens for one persistent access token; one instance per (base_url, token)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        access_token: str,
        *,
        before_request: BeforeRequest | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
        refresh_margin_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        integration: str = "",
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/auth"
        self._access_token = access_token
        self._before_request = before_request
        self._timeout = timeout
        self._margin = refresh_margin_seconds
        self._clock = clock
        self.integration = integration  # the id its requests are counted under (metrics)
        self._lock = asyncio.Lock()
        self._bearer: str | None = None
        self._refresh_at = 0.0  # Unix time from which the cached bearer is not used

    def __repr__(self) -> str:
        # Never show the tokens, e.g. in a traceback's locals.
        return f"PayrollAuth({self._url!r})"

    def _cached(self) -> str | None:
        if self._bearer is not None and self._clock() < self._refresh_at:
            return self._bearer
        return None

    async def bearer(self) -> str:
        """A bearer token believed valid; concurrent callers share one exchange."""
        if (token := self._cached()) is not None:
            return token
        async with self._lock:
            if (token := self._cached()) is not None:
                return token  # another caller exchanged while we waited
            return await self._exchange()

    def invalidate(self, bearer: str) -> None:
        """Forget `bearer` after the API refused it, unless it was already replaced."""
        if self._bearer == bearer:
            self._bearer = None

    async def _exchange(self) -> str:
        what = "token exchange"
        answer = await send(
            self._session,
            "GET",
            self._url,
            api="payroll",
            what=what,
            client_timeout=self._timeout,
            before_request=self._before_request,
            params={"token": self._access_token},
            integration=self.integration,
        )
        if (error := classify(*answer, api="payroll", what=what)) is not None:
            raise error
        token = read_answer(answer.body, payroll.AuthToken, what)
        now = self._clock()
        expires_at = _expires_at(token.expires_on)
        if expires_at is None:
            self._refresh_at = now  # use it for this call only
        else:
            # A short-lived token (tests, or a clock ahead of theirs) still gets half its life.
            lifetime = expires_at - now
            self._refresh_at = now + max(0.0, lifetime - min(self._margin, lifetime / 2))
        self._bearer = token.access_token
        # Returned even when it looks expired: the caller's one retry must use a fresh token.
        return token.access_token


class PayrollClient:
    """The payroll API calls of the sync. Errors are `errors.SyncError`s.

    Writes return nothing: any 2xx is success whatever its body (APIS.md), so no caller can
    come to rely on an answer the API does not publish.

    Updates (`update_employee`, `update_employment`, `update_absence`) send the whole record,
    never a partial body, so they are right whether the API merges the fields sent or
    replaces the record: each re-reads the record right before its POST and sends it exactly
    as read (unknown fields, nulls and numbers included) with the caller's fields overlaid.
    Re-reading rather than keeping the raw row alongside the Struct read earlier because:
    - the worker's "current" record may come from the producer's bulk snapshot, minutes old;
      sending that back would undo, under a replacing API, whatever payroll staff changed
      since (re-reading narrows that window to one round trip);
    - it costs one GET per update only: an unchanged record, the common case, is never
      re-read, and snapshots and queue messages keep their shape.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth: PayrollAuth,
        *,
        before_request: BeforeRequest | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._auth = auth
        self._before_request = before_request
        self._timeout = timeout

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        body: object = None,
        missing_ok: bool = False,
    ) -> bytes | None:
        """The answer body of one bearer call; None for an unknown employee if `missing_ok`."""
        data = None if body is None else _encoder.encode(body)
        answer: Answer | None = None
        for attempt in range(2):
            bearer = await self._auth.bearer()
            answer = await send(
                self._session,
                method,
                self._base + path,
                api="payroll",
                what=what,
                client_timeout=self._timeout,
                before_request=self._before_request,
                headers={PAYROLL_AUTH_HEADER: f"Bearer {bearer}"},
                body=data,
                integration=self._auth.integration,
            )
            if answer.status == 401 and attempt == 0:
                # Expired early or revoked: a refused request did nothing, so retrying is safe.
                self._auth.invalidate(bearer)
                continue
            break
        assert answer is not None
        if missing_ok and answer.status == PAYROLL_UNKNOWN_EMPLOYEE_STATUS:
            return None
        if (error := classify(*answer, api="payroll", what=what)) is not None:
            raise error
        return answer.body

    async def _get(self, path: str, what: str, row_type: type[T]) -> T:
        raw = await self._call("GET", path, what)
        assert raw is not None
        return read_answer(raw, row_type, what)

    async def _post(self, path: str, what: str, body: object) -> None:
        """A write; its answer's body, whatever it is, is not read."""
        await self._call("POST", path, what, body=body)

    async def _read_records(self, path: str, what: str) -> list[Record]:
        """The rows of a GET as read, each also checked against its Struct by the caller."""
        raw = await self._call("GET", path, what)
        assert raw is not None
        return _records(_decode_json(raw, what), what)

    # ------------------------------------------------------------ employees

    async def list_employees(self) -> list[payroll.Employee]:
        return await self._get("/employee/v2", "list employees", list[payroll.Employee])

    async def list_employees_body(self) -> bytes:
        """`GET /employee/v2`'s answer body as sent, for a caller that decodes only the rows
        it needs, one at a time (the producer, for a company of 100,000)."""
        raw = await self._call("GET", "/employee/v2", "list employees")
        assert raw is not None
        return raw

    async def get_employee(self, emp_id: int) -> payroll.Employee | None:
        what = "read employee"
        raw = await self._call("GET", f"/employee/v2/{emp_id}", what, missing_ok=True)
        if raw is None:
            return None
        rows = read_answer(raw, list[payroll.Employee], what)
        return rows[0] if rows else None

    async def create_employee(self, body: EmployeeWrite) -> None:
        """Raises `errors.Conflict` when the empId exists already."""
        await self._post("/employee/v2", "create employee", body)

    async def update_employee(self, emp_id: int, changes: EmployeeWrite) -> None:
        """The employee as it is now, with `changes` overlaid (see the class)."""
        what = "update employee"
        rows = await self._read_records(f"/employee/v2/{emp_id}", what)
        if len(rows) != 1:
            raise Permanent(f"24SevenOffice answered {what} with {len(rows)} employees, not 1")
        _typed(rows, list[payroll.Employee], what)  # the fields we use are sound
        await self._post(f"/employee/v2/{emp_id}", what, overlay(rows[0], changes))

    # ------------------------------------------------------------ employments

    async def list_employments(self, emp_id: int) -> list[payroll.Employment]:
        what = "read employments"
        raw = await self._call("GET", f"/employment/v2/{emp_id}", what, missing_ok=True)
        return [] if raw is None else read_answer(raw, list[payroll.Employment], what)

    async def create_employment(self, emp_id: int, item: EmploymentWrite) -> None:
        """A new employment with only our fields; the API picks its id (read it back)."""
        await self._post(f"/employment/v2/{emp_id}", "create employment", [item])

    async def update_employment(self, emp_id: int, changes: EmploymentWrite) -> None:
        """The employment `changes.employment_id` as it is now, with `changes` overlaid, sent
        as the one item of the upsert (the employee's other employments are not sent)."""
        what = "update employment"
        wanted = changes.employment_id or ""
        rows = await self._read_records(f"/employment/v2/{emp_id}", what)
        _typed(rows, list[payroll.Employment], what)
        record = next((row for row in rows if _text(row.get("employment_id")) == wanted), None)
        if record is None:
            # Gone since the worker read it: an upsert would create a partial one instead.
            raise Retryable("the employment to update is no longer in 24SevenOffice")
        await self._post(f"/employment/v2/{emp_id}", what, [overlay(record, changes)])

    # ------------------------------------------------------------ absences

    async def absence_types(self) -> list[payroll.AbsenceType]:
        return await self._get("/absencetypes/v2", "read absence types", list[payroll.AbsenceType])

    async def list_all_absences(self) -> list[payroll.Absence]:
        """Every absence of the company, of every date: the producer's one bulk read."""
        return await self._get("/absence/v2", "list absences", list[payroll.Absence])

    async def list_absences(self, emp_id: int) -> list[payroll.Absence] | None:
        """Every absence of one employee (no date filter: a leave may have moved); None when
        24SevenOffice does not know the employee."""
        what = "read absences"
        raw = await self._call("GET", f"/absence/v2/{emp_id}", what, missing_ok=True)
        return None if raw is None else read_answer(raw, list[payroll.Absence], what)

    async def create_absence(self, body: AbsenceWrite) -> None:
        """A new absence (`body` without `serialNo`)."""
        await self._post("/absence/v2", "create absence", body)

    async def update_absence(self, changes: AbsenceWrite) -> None:
        """The absence `changes.serial_no` as it is now, with `changes` overlaid."""
        what = "update absence"
        serial = _text(changes.serial_no)
        rows = await self._read_records(f"/absence/v2?serialNo={serial}", what)
        _typed(rows, list[payroll.Absence], what)
        # Matched here too: a server that ignored the filter must not make us send another one.
        record = next(
            (
                row
                for row in rows
                if _text(row.get("serialNo")) == serial
                and _text(row.get("empId")) == _text(changes.emp_id)
            ),
            None,
        )
        if record is None:
            raise Retryable("the absence to update is no longer in 24SevenOffice")
        await self._post("/absence/v2", what, overlay(record, changes))

    # ------------------------------------------------------------ children

    async def list_children(self, emp_id: int) -> list[payroll.Child]:
        what = "read children"
        raw = await self._call("GET", f"/child/v2/{emp_id}", what, missing_ok=True)
        return [] if raw is None else read_answer(raw, list[payroll.Child], what)

    async def create_child(self, body: ChildWrite) -> None:
        """A new child; the API picks its `childId` (read it back with `list_children`)."""
        await self._post("/child/v2", "create child", body)

    async def check(self) -> None:
        """Prove the token works (exchange and one bearer call); `ConfigError` if it does not."""
        await self.absence_types()

"""24SevenOffice Lønn payroll API v2 client: the token exchange and the calls the sync makes.

`PayrollAuth` turns the customer's persistent access token into bearer tokens (`GET /auth`)
and caches one until shortly before its `expiresOn`; every `PayrollClient` of the same
integration in a process shares it, so they share one exchange. A bearer call that answers 401
invalidates the token, exchanges once more and retries once; a second 401 is a `ConfigError`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

import aiohttp
import msgspec

from payroll_sync.assumptions import PAYROLL_AUTH_HEADER, PAYROLL_UNKNOWN_EMPLOYEE_STATUS
from payroll_sync.connectors.errors import Permanent, classify, unexpected_answer
from payroll_sync.connectors.http import DEFAULT_TIMEOUT, Answer, BeforeRequest, send
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import AbsenceWrite, ChildWrite, EmployeeWrite, EmploymentWrite

T = TypeVar("T")

_auth_decoder = msgspec.json.Decoder(payroll.AuthToken)
_employees_decoder = msgspec.json.Decoder(list[payroll.Employee])
_employments_decoder = msgspec.json.Decoder(list[payroll.Employment])
_absence_types_decoder = msgspec.json.Decoder(list[payroll.AbsenceType])
_absences_decoder = msgspec.json.Decoder(list[payroll.Absence])
_children_decoder = msgspec.json.Decoder(list[payroll.Child])
_encoder = msgspec.json.Encoder()


def _decode(decoder: msgspec.json.Decoder[T], body: bytes, what: str) -> T:
    try:
        return decoder.decode(body)
    except msgspec.MsgspecError as exc:
        raise unexpected_answer(exc, api="payroll", what=what) from None


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
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/auth"
        self._access_token = access_token
        self._before_request = before_request
        self._timeout = timeout
        self._margin = refresh_margin_seconds
        self._clock = clock
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
        )
        if (error := classify(*answer, api="payroll", what=what)) is not None:
            raise error
        token = _decode(_auth_decoder, answer.body, what)
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
    """The payroll API calls of the sync. Errors are `errors.SyncError`s."""

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

    async def _one_employee(
        self, method: str, path: str, what: str, body: EmployeeWrite
    ) -> payroll.Employee:
        raw = await self._call(method, path, what, body=body)
        assert raw is not None
        rows = _decode(_employees_decoder, raw, what)
        if len(rows) != 1:
            raise Permanent(f"24SevenOffice answered {what} with {len(rows)} employees, not 1")
        return rows[0]

    async def list_employees(self) -> list[payroll.Employee]:
        what = "list employees"
        raw = await self._call("GET", "/employee/v2", what)
        assert raw is not None
        return _decode(_employees_decoder, raw, what)

    async def get_employee(self, emp_id: int) -> payroll.Employee | None:
        what = "read employee"
        raw = await self._call("GET", f"/employee/v2/{emp_id}", what, missing_ok=True)
        if raw is None:
            return None
        rows = _decode(_employees_decoder, raw, what)
        return rows[0] if rows else None

    async def create_employee(self, body: EmployeeWrite) -> payroll.Employee:
        """Raises `errors.Conflict` when the empId exists already."""
        return await self._one_employee("POST", "/employee/v2", "create employee", body)

    async def update_employee(self, emp_id: int, body: EmployeeWrite) -> payroll.Employee:
        return await self._one_employee("POST", f"/employee/v2/{emp_id}", "update employee", body)

    async def list_employments(self, emp_id: int) -> list[payroll.Employment]:
        what = "read employments"
        raw = await self._call("GET", f"/employment/v2/{emp_id}", what, missing_ok=True)
        return [] if raw is None else _decode(_employments_decoder, raw, what)

    async def upsert_employments(
        self, emp_id: int, items: Sequence[EmploymentWrite]
    ) -> list[payroll.Employment]:
        """Items with a known `employment_id` are updated, the others created."""
        what = "write employments"
        raw = await self._call("POST", f"/employment/v2/{emp_id}", what, body=list(items))
        assert raw is not None
        return _decode(_employments_decoder, raw, what)

    async def absence_types(self) -> list[payroll.AbsenceType]:
        what = "read absence types"
        raw = await self._call("GET", "/absencetypes/v2", what)
        assert raw is not None
        return _decode(_absence_types_decoder, raw, what)

    async def list_all_absences(self) -> list[payroll.Absence]:
        """Every absence of the company, of every date: the producer's one bulk read."""
        what = "list absences"
        raw = await self._call("GET", "/absence/v2", what)
        assert raw is not None
        return _decode(_absences_decoder, raw, what)

    async def list_absences(self, emp_id: int) -> list[payroll.Absence] | None:
        """Every absence of one employee (no date filter: a leave may have moved); None when
        24SevenOffice does not know the employee."""
        what = "read absences"
        raw = await self._call("GET", f"/absence/v2/{emp_id}", what, missing_ok=True)
        return None if raw is None else _decode(_absences_decoder, raw, what)

    async def post_absence(self, body: AbsenceWrite) -> payroll.Absence:
        """Create an absence, or update the one whose `serialNo` the body gives."""
        what = "write absence"
        raw = await self._call("POST", "/absence/v2", what, body=body)
        assert raw is not None
        rows = _decode(_absences_decoder, raw, what)
        if len(rows) != 1:
            raise Permanent(f"24SevenOffice answered {what} with {len(rows)} absences, not 1")
        return rows[0]

    async def list_children(self, emp_id: int) -> list[payroll.Child]:
        what = "read children"
        raw = await self._call("GET", f"/child/v2/{emp_id}", what, missing_ok=True)
        return [] if raw is None else _decode(_children_decoder, raw, what)

    async def create_child(self, body: ChildWrite) -> payroll.Child:
        what = "write child"
        raw = await self._call("POST", "/child/v2", what, body=body)
        assert raw is not None
        rows = _decode(_children_decoder, raw, what)
        if len(rows) != 1:
            raise Permanent(f"24SevenOffice answered {what} with {len(rows)} children, not 1")
        return rows[0]

    async def check(self) -> None:
        """Prove the token works (exchange and one bearer call); `ConfigError` if it does not."""
        await self.absence_types()

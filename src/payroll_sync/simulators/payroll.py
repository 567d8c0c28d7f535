"""24SevenOffice Lønn payroll API v2 simulator (APIS.md and the official OpenAPI file).

HTTP only: auth (`GET /auth` token exchange with `expiresOn`, bearer tokens that expire),
request decoding with the write Structs, and answers in the API's shapes. The company's
state is `payroll_store`'s, the write rules are in `payroll_employees` and `payroll_absences`,
the value checks and errors in `payroll_values`. Two settings model what the published file
leaves open (assumptions.py): `post_answer` (a successful POST answers 200 with an empty body,
or with the stored rows as an array) and `update_mode` (an update merges the fields sent, or
replaces the record).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TypeVar

import msgspec
from aiohttp import web

from payroll_sync.assumptions import (
    PAYROLL_AUTH_HEADER,
    PAYROLL_POST_ANSWER,
    PAYROLL_RATE_LIMIT_BURST,
    PAYROLL_RATE_LIMIT_PER_SECOND,
    PAYROLL_TOKEN_TTL_SECONDS,
    PAYROLL_UNKNOWN_EMPLOYEE_STATUS,
    PAYROLL_UPDATE_MODE,
)
from payroll_sync.schemas import payroll
from payroll_sync.simulators.admin import bearer_token, controlled_app, json_response
from payroll_sync.simulators.controls import (
    Controls,
    PostAnswer,
    Settings,
    UpdateMode,
)
from payroll_sync.simulators.payroll_store import PayrollStore
from payroll_sync.simulators.payroll_values import (
    OSLO,
    Conflict,
    Invalid,
    NotFound,
    parse_emp_id,
)

API_PREFIX = "/api"
_employee_write = msgspec.json.Decoder(payroll.EmployeeWrite)
_employment_items = msgspec.json.Decoder(list[payroll.EmploymentWrite] | payroll.EmploymentWrite)
_absence_write = msgspec.json.Decoder(payroll.AbsenceWrite)
_child_write = msgspec.json.Decoder(payroll.ChildWrite)


@dataclass
class Session:
    persistent_token: str
    expires_at: float  # time.monotonic()


@dataclass
class Sessions:
    """Bearer tokens handed out by `GET /auth`, each tied to the persistent token it came from."""

    by_access_token: dict[str, Session] = field(default_factory=dict)

    def issue(self, persistent_token: str, ttl_seconds: float) -> payroll.AuthToken:
        access = secrets.token_urlsafe(24)
        self.by_access_token[access] = Session(persistent_token, time.monotonic() + ttl_seconds)
        expires = datetime.now(OSLO).replace(microsecond=0) + timedelta(seconds=ttl_seconds)
        return payroll.AuthToken(access_token=access, expires_on=expires.isoformat())

    def check(self, access_token: str, valid_persistent: list[str]) -> str | None:
        """None when the bearer token is good, else why it is not."""
        session = self.by_access_token.get(access_token)
        if session is None or session.persistent_token not in valid_persistent:
            return "Invalid access token"
        if time.monotonic() >= session.expires_at:
            return "Access token has expired"
        return None


_CONTROLS = web.AppKey("controls", Controls)
_STORE = web.AppKey("store", PayrollStore)
_SESSIONS = web.AppKey("sessions", Sessions)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    response = json_response({"error": HTTPStatus(status).phrase, "message": message}, status)
    response.headers.update(headers or {})
    return response


def _path_emp_id(request: web.Request) -> int:
    return parse_emp_id(request.match_info["empId"])


def _int_query(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    return None if raw is None or raw == "" else parse_emp_id(raw, name)


Api = Callable[[web.Request, PayrollStore], Awaitable[object]]
#: A published row shape a stored row (which also names its employee) is answered as.
Published = TypeVar("Published", payroll.Employment, payroll.Child)


def _api(handler: Api) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Auth, then the handler; store errors become the API's 400/404/409 answers."""

    async def wrapped(request: web.Request) -> web.Response:
        token = bearer_token(request, PAYROLL_AUTH_HEADER)
        if token is None:
            return _error(401, "Missing bearer token")
        problem = request.app[_SESSIONS].check(token, request.app[_CONTROLS].settings.tokens)
        if problem is not None:
            return _error(401, problem)
        try:
            answer = await handler(request, request.app[_STORE])
        except (Invalid, msgspec.ValidationError) as exc:
            return _error(400, str(exc))
        except msgspec.DecodeError as exc:
            return _error(400, f"malformed JSON body: {exc}")
        except Conflict as exc:
            return _error(409, str(exc))
        except NotFound as exc:
            return _error(PAYROLL_UNKNOWN_EMPLOYEE_STATUS, str(exc))
        if request.method == "POST" and request.app[_CONTROLS].settings.post_answer == "empty":
            return web.Response(status=200)  # no body, no content type
        return json_response(answer)

    return wrapped


def _replace(request: web.Request) -> bool:
    """Whether this update replaces the record (else it merges the fields sent)."""
    return request.app[_CONTROLS].settings.update_mode == "replace"


async def _auth(request: web.Request) -> web.Response:
    token = request.query.get("token", "")
    controls = request.app[_CONTROLS]
    if token not in controls.settings.tokens:
        return _error(401, "Invalid token")
    issued = request.app[_SESSIONS].issue(token, controls.settings.token_ttl_seconds)
    return json_response(issued)


async def _list_employees(_: web.Request, store: PayrollStore) -> object:
    return list(store.employees.values())


async def _get_employee(request: web.Request, store: PayrollStore) -> object:
    return [store.employee(_path_emp_id(request))]


async def _create_employee(request: web.Request, store: PayrollStore) -> object:
    return [store.create_employee(_employee_write.decode(await request.read()))]


async def _update_employee(request: web.Request, store: PayrollStore) -> object:
    emp_id = _path_emp_id(request)
    body = _employee_write.decode(await request.read())
    return [store.update_employee(emp_id, body, replace=_replace(request))]


def _published(rows: Iterable[msgspec.Struct], shape: type[Published]) -> list[Published]:
    """Stored rows as the API answers them: the published shape's fields only (no `empId`)."""
    fields = shape.__struct_fields__
    return [shape(**{f: getattr(row, f) for f in fields}) for row in rows]


async def _get_employments(request: web.Request, store: PayrollStore) -> object:
    return _published(store.employments_of(_path_emp_id(request)), payroll.Employment)


async def _post_employments(request: web.Request, store: PayrollStore) -> object:
    emp_id = _path_emp_id(request)
    items = _employment_items.decode(await request.read())
    listed = items if isinstance(items, list) else [items]
    stored = store.upsert_employments(emp_id, listed, replace=_replace(request))
    return _published(stored, payroll.Employment)


def _absence_query(request: web.Request, emp_id: int | None, store: PayrollStore) -> object:
    return store.list_absences(
        emp_id,
        request.query.get("datefrom") or None,
        request.query.get("dateto") or None,
        _int_query(request, "serialNo"),
    )


async def _list_absences(request: web.Request, store: PayrollStore) -> object:
    return _absence_query(request, None, store)


async def _employee_absences(request: web.Request, store: PayrollStore) -> object:
    return _absence_query(request, _path_emp_id(request), store)


async def _post_absence(request: web.Request, store: PayrollStore) -> object:
    body = _absence_write.decode(await request.read())
    return [store.post_absence(body, replace=_replace(request))]


async def _get_children(request: web.Request, store: PayrollStore) -> object:
    return _published(store.children_of(_path_emp_id(request)), payroll.Child)


async def _post_child(request: web.Request, store: PayrollStore) -> object:
    child = store.post_child(_child_write.decode(await request.read()), replace=_replace(request))
    return _published([child], payroll.Child)


async def _absence_types(_: web.Request, store: PayrollStore) -> object:
    return list(store.absence_types.values())


async def _absence_type(request: web.Request, store: PayrollStore) -> object:
    return [store.absence_type(request.match_info["code"])]


def create_app(
    dataset: payroll.Dataset | None = None,
    *,
    tokens: list[str],
    rate_limit_per_second: float = PAYROLL_RATE_LIMIT_PER_SECOND,
    rate_limit_burst: int = PAYROLL_RATE_LIMIT_BURST,
    token_ttl_seconds: float = PAYROLL_TOKEN_TTL_SECONDS,
    post_answer: PostAnswer = PAYROLL_POST_ANSWER,
    update_mode: UpdateMode = PAYROLL_UPDATE_MODE,
    seed: int = 0,
) -> web.Application:
    settings = Settings(
        tokens=list(tokens),
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
        token_ttl_seconds=token_ttl_seconds,
        post_answer=post_answer,
        update_mode=update_mode,
    )
    controls = Controls.start(API_PREFIX, seed, settings)
    store = PayrollStore(dataset)
    sessions = Sessions()

    def rate_key(request: web.Request) -> str | None:
        # Limited per persistent token, so refreshing the bearer token does not reset it.
        if request.path == f"{API_PREFIX}/auth":
            token = request.query.get("token", "")
            return token if token in controls.settings.tokens else None
        access = bearer_token(request, PAYROLL_AUTH_HEADER)
        session = sessions.by_access_token.get(access) if access else None
        return session.persistent_token if session is not None else None

    app = controlled_app(controls, rate_key, _error, store.dump_json, store.load_json)
    app[_CONTROLS], app[_STORE], app[_SESSIONS] = controls, store, sessions
    routes: list[tuple[str, str, Api]] = [
        ("GET", "/employee/v2", _list_employees),
        ("POST", "/employee/v2", _create_employee),
        ("GET", "/employee/v2/{empId}", _get_employee),
        ("POST", "/employee/v2/{empId}", _update_employee),
        ("GET", "/employment/v2/{empId}", _get_employments),
        ("POST", "/employment/v2/{empId}", _post_employments),
        ("GET", "/absence/v2", _list_absences),
        ("POST", "/absence/v2", _post_absence),
        ("GET", "/absence/v2/{empId}", _employee_absences),
        ("GET", "/child/v2/{empId}", _get_children),
        ("POST", "/child/v2", _post_child),
        ("GET", "/absencetypes/v2", _absence_types),
        ("GET", "/absencetypes/v2/{code}", _absence_type),
    ]
    app.router.add_get(f"{API_PREFIX}/auth", _auth)
    for method, path, handler in routes:
        app.router.add_route(method, f"{API_PREFIX}{path}", _api(handler))
    return app


def store_of(app: web.Application) -> PayrollStore:
    return app[_STORE]


def controls_of(app: web.Application) -> Controls:
    return app[_CONTROLS]

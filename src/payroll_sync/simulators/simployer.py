"""Simployer One (AlexisHR v1) simulator, per APIS.md.

`GET /v1/<resource>` and `GET /v1/<resource>/<id>` for every published resource we read
(`simployer_published.RESOURCES`), bearer-token auth, the published list query language of
`simployer_query`, plus the shared `/_admin/` routes and
`PATCH /_admin/state/<resource>/<id>` to change one row (tests edit the HR data with it).

Rows are kept as the JSON objects they were loaded as, so a data file whose rows carry fields
beyond the published ones is served with them: the client must ignore what it does not know.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus

import msgspec
from aiohttp import web

from payroll_sync.assumptions import SIMPLOYER_RATE_LIMIT_BURST, SIMPLOYER_RATE_LIMIT_PER_SECOND
from payroll_sync.simulators.admin import bearer_token, controlled_app, json_response
from payroll_sync.simulators.controls import Controls, Settings
from payroll_sync.simulators.simployer_published import RESOURCES, TABLES
from payroll_sync.simulators.simployer_query import (
    QueryError,
    Row,
    build_index,
    parse_query,
    run_get_one,
    run_query,
)

API_PREFIX = "/v1"
_tables_decoder = msgspec.json.Decoder(dict[str, list[dict[str, object]]])
_encoder = msgspec.json.Encoder()
Tables = dict[str, list[Row]]
Handler = Callable[[web.Request], Awaitable[web.Response]]
_CONTROLS = web.AppKey("controls", Controls)


def now_iso() -> str:
    # Millisecond precision, as the API's own timestamps: an `updated` filter must not miss
    # a change made in the same second as the watermark.
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def checked_row(table: str, row: Row) -> None:
    """Raise ValueError naming the table, row and field when `row` does not fit the published
    row (a required field missing, a value of the wrong type); fields beyond it are fine."""
    try:
        msgspec.convert(row, TABLES[table])
    except msgspec.ValidationError as exc:
        raise ValueError(f"{table} {row.get('id')!r}: {exc}") from None


def checked_tables(tables: Mapping[str, object]) -> Tables:
    """Tables of a data file, each row checked; an unknown table is refused."""
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown table(s) {', '.join(unknown)} (known: {', '.join(TABLES)})")
    out: Tables = {}
    for name in TABLES:
        rows = tables.get(name, [])
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError(f"{name}: expected a list of objects")
        for row in rows:
            checked_row(name, row)
        out[name] = [dict(row) for row in rows]
    return out


class SimployerStore:
    """The company's rows, as dicts in the API's shape, in insertion order."""

    def __init__(self, tables: Mapping[str, object] | None = None) -> None:
        self.tables: Tables = {}
        self.by_id: dict[str, dict[str, Row]] = {}
        self._indexes: dict[tuple[str, str], dict[object, list[int]]] = {}
        self.replace(tables or {})

    def replace(self, given: Mapping[str, object]) -> None:
        tables = checked_tables(given)
        by_id: dict[str, dict[str, Row]] = {}
        for name, rows in tables.items():
            index = by_id[name] = {}
            for row in rows:
                if row["id"] in index:
                    raise ValueError(f"{name}: duplicate id {row['id']!r}")
                index[str(row["id"])] = row
        self.tables, self.by_id = tables, by_id
        self._indexes.clear()

    def index(self, resource: str, name: str) -> dict[object, list[int]]:
        """Built on first use; any write drops them all (writes are rare, reads many)."""
        key = (resource, name)
        if key not in self._indexes:
            self._indexes[key] = build_index(self.tables[resource], name)
        return self._indexes[key]

    def load_json(self, raw: bytes) -> None:
        self.replace(_tables_decoder.decode(raw))

    def dump_json(self) -> bytes:
        return _encoder.encode(self.tables)

    def patch_row(self, resource: str, row_id: str, changes: dict[str, object]) -> Row:
        """Merge `changes` into one row, checked against the published row."""
        current = self.by_id[resource][row_id]
        if "id" in changes and changes["id"] != row_id:
            raise ValueError("id cannot be changed")
        merged = {**current, **changes}
        if "updated" in merged and "updated" not in changes:
            merged["updated"] = now_iso()  # as the real API would, so `updated` filters work
        checked_row(resource, merged)
        current.clear()
        current.update(merged)
        self._indexes.clear()
        return current


_STORE = web.AppKey("store", SimployerStore)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"statusCode": status, "message": message, "error": HTTPStatus(status).phrase}
    response = json_response(body, status=status)
    response.headers.update(headers or {})
    return response


def _list_handler(resource: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if (denied := _check_auth(request)) is not None:
            return denied
        store = request.app[_STORE]
        try:
            query = parse_query(resource, request.query.items())
        except QueryError as exc:
            return _error(400, str(exc))
        return json_response(run_query(resource, query, store.tables, store.index))

    return handler


def _get_handler(resource: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        if (denied := _check_auth(request)) is not None:
            return denied
        store = request.app[_STORE]
        row = store.by_id[resource].get(request.match_info["id"])
        if row is None:
            return _error(404, f"{resource} with id {request.match_info['id']!r} not found")
        params = [(k, v) for k, v in request.query.items() if k.startswith(("select", "relations"))]
        if len(params) != len(request.query):
            return _error(400, "only select and relations apply to a single row")
        try:
            query = parse_query(resource, params)
        except QueryError as exc:
            return _error(400, str(exc))
        return json_response(run_get_one(resource, row, query, store.tables))

    return handler


def _check_auth(request: web.Request) -> web.Response | None:
    token = bearer_token(request)
    if token is None:
        return _error(401, "Missing bearer token")
    if token not in request.app[_CONTROLS].settings.tokens:
        return _error(401, "Invalid or revoked access token")
    return None


async def _patch_row(request: web.Request) -> web.Response:
    store = request.app[_STORE]
    resource, row_id = request.match_info["resource"], request.match_info["id"]
    if resource not in store.by_id or row_id not in store.by_id[resource]:
        return _error(404, f"{resource} with id {row_id!r} not found")
    try:
        changes = msgspec.json.decode(await request.read(), type=dict[str, object])
        row = store.patch_row(resource, row_id, changes)
    except ValueError as exc:
        return _error(400, str(exc))
    return json_response(row)


def create_app(
    tables: Mapping[str, object] | None = None,
    *,
    tokens: list[str],
    rate_limit_per_second: float = SIMPLOYER_RATE_LIMIT_PER_SECOND,
    rate_limit_burst: int = SIMPLOYER_RATE_LIMIT_BURST,
    seed: int = 0,
) -> web.Application:
    settings = Settings(
        tokens=list(tokens),
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
    )
    controls = Controls.start(API_PREFIX, seed, settings)
    store = SimployerStore(tables)

    def rate_key(request: web.Request) -> str | None:
        token = bearer_token(request)
        return token if token in controls.settings.tokens else None

    app = controlled_app(controls, rate_key, _error, store.dump_json, store.load_json)
    app[_CONTROLS] = controls
    app[_STORE] = store
    for resource in RESOURCES:
        app.router.add_get(f"{API_PREFIX}/{resource}", _list_handler(resource))
        app.router.add_get(f"{API_PREFIX}/{resource}/{{id}}", _get_handler(resource))
    app.router.add_patch("/_admin/state/{resource}/{id}", _patch_row)
    return app


def store_of(app: web.Application) -> SimployerStore:
    return app[_STORE]


def controls_of(app: web.Application) -> Controls:
    return app[_CONTROLS]

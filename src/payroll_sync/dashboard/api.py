"""The JSON API under /api/v1/: the pages' data and actions, for scripts and other systems.

Authenticated by `Authorization: Bearer <operator token>` (see guard.py). Runs and records use
the shapes of `runs.public`; failures those of `views.failure_json` (diff values masked, hidden
ones left out); the alerts' incidents those of `incidents.incidents_json`. A run's JSON holds
its mass-change brake summary (`runs.brake_view.brake_json`, masked alike, or null); a held
run is approved or cancelled with a POST, `{"by": "<name>"}` optional (kept as `api:<name>`),
answered with the decided summary as the intake answers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

import msgspec
import structlog
from aiohttp import web

from payroll_sync.dashboard.approval import Action, NameRefused, decide, operator_name
from payroll_sync.dashboard.filters import (
    FILTER_FIELDS,
    FailureFilter,
    FilterError,
    group_by_reason,
    parse_filter,
    select,
)
from payroll_sync.dashboard.incidents import incidents_json, incidents_of
from payroll_sync.dashboard.loading import failure_rows
from payroll_sync.dashboard.state import dashboard_of
from payroll_sync.dashboard.views import failure_json
from payroll_sync.errors import RequestRefused
from payroll_sync.producer.retry import RetryResult
from payroll_sync.runs.brake_view import brake_json, brake_view
from payroll_sync.runs.public import run_view, run_with_records
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.outcomes import Run

log = structlog.get_logger("payroll_sync.dashboard")

PREFIX: Final = "/api/v1"
DEFAULT_RUNS: Final = 50
MAX_RUNS: Final = 500
MAX_BODY_BYTES: Final = 16 * 1024


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"{PREFIX}/runs", list_runs)
    app.router.add_get(f"{PREFIX}/runs/{{run_id}}", get_run)
    app.router.add_post(f"{PREFIX}/runs/{{run_id}}/approve", approve_run)
    app.router.add_post(f"{PREFIX}/runs/{{run_id}}/cancel", cancel_run)
    app.router.add_get(f"{PREFIX}/incidents", list_incidents)
    app.router.add_get(f"{PREFIX}/failures", list_failures)
    app.router.add_post(f"{PREFIX}/failures/retry", retry_matching)
    app.router.add_post(f"{PREFIX}/failures/{{id:.+}}/retry", retry_one)
    app.router.add_post(f"{PREFIX}/failures/{{id:.+}}/discard", discard_one)


def _json(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(payload), status=status, content_type="application/json"
    )


def _problem(status: int, error: str, message: str) -> web.Response:
    return _json({"error": error, "message": message}, status=status)


async def list_runs(request: web.Request) -> web.Response:
    text = request.query.get("limit", str(DEFAULT_RUNS))
    if not text.isdigit() or not 1 <= int(text) <= MAX_RUNS:
        return _problem(400, "Bad Request", f"limit: expected a whole number 1–{MAX_RUNS}")
    runs = await dashboard_of(request).store.list_runs(int(text))
    return _json({"runs": [run_view(run) for run in runs]})


async def get_run(request: web.Request) -> web.Response:
    store = dashboard_of(request).store
    run = await store.get_run(request.match_info["run_id"])
    if run is None:
        return _problem(404, "Not Found", "no run with this id (runs are kept 30 days)")
    return _json(await _run_body(store, run))


async def _run_body(store: RunStore, run: Run) -> dict[str, Any]:
    """A run with its records and its brake summary (null: the brake did not count it)."""
    body = run_with_records(run, await store.outcomes(run.id))
    summary = await store.brake_summary(run.id)
    body["brake"] = brake_json(brake_view(summary, run)) if summary is not None else None
    return body


async def list_incidents(request: web.Request) -> web.Response:
    """The alerts' open incidents and those resolved lately; `?integration=` for one."""
    integration = request.query.get("integration") or None
    store = dashboard_of(request).store
    incidents = await incidents_of(store, now=time.time(), integration=integration)
    return _json(incidents_json(incidents))


#: Who decided, when an API caller gives no name.
UNNAMED: Final = "operator token"


async def _caller(request: web.Request) -> str:
    """`api:<name>` from an optional body `{"by": "<name>"}`; `NameRefused` naming the field."""
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise NameRefused(f"body: at most {MAX_BODY_BYTES} bytes")
    if not raw.strip():
        return f"api:{UNNAMED}"
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise NameRefused('body: expected a JSON object, e.g. {"by": "Kari"}, or none') from None
    if not isinstance(body, dict) or set(body) - {"by"}:
        raise NameRefused('body: expected a JSON object with only "by" (who decides), or none')
    if "by" not in body:
        return f"api:{UNNAMED}"
    try:
        return f"api:{operator_name(body['by'])}"
    except NameRefused as error:
        # The form's wording, the API's field name.
        raise NameRefused(str(error).replace("Your name", "by", 1)) from None


async def _decide(request: web.Request, action: Action) -> web.Response:
    run_id = request.match_info["run_id"]
    try:
        by = await _caller(request)
    except NameRefused as error:
        return _problem(400, "Bad Request", str(error))
    store = dashboard_of(request).store
    run = await store.get_run(run_id)
    if run is None:
        return _problem(404, "Not Found", "no run with this id (runs are kept 30 days)")
    try:
        summary = await decide(request, run_id, action, by)
    except RequestRefused as refused:
        return _problem(409, "Conflict", str(refused))
    # As the intake answers: the decided summary (the run's status: GET the run).
    return _json(brake_json(brake_view(summary, await store.get_run(run_id) or run)))


async def approve_run(request: web.Request) -> web.Response:
    """Release a held run: its records go to the workers. 409 when it is not held."""
    return await _decide(request, "approve")


async def cancel_run(request: web.Request) -> web.Response:
    """End a held run, writing nothing. 409 when it is not held."""
    return await _decide(request, "cancel")


async def list_failures(request: web.Request) -> web.Response:
    try:
        chosen = parse_filter(request.query)
    except FilterError as error:
        return _problem(400, "Bad Request", str(error))
    shown = select(await failure_rows(dashboard_of(request).store), chosen)
    return _json(
        {
            "count": len(shown),
            "reasons": [
                {"reason": group.reason, "count": group.count} for group in group_by_reason(shown)
            ],
            "failures": [failure_json(row) for row in shown],
        }
    )


def _results(results: Sequence[RetryResult]) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(item) for item in results]


async def retry_one(request: web.Request) -> web.Response:
    (result,) = await dashboard_of(request).retry([request.match_info["id"]])
    if result.status == "not_failing":
        return _problem(404, "Not Found", "no such failure (retried successfully, or discarded)")
    if result.status == "task_gone":
        return _problem(
            409, "Conflict", "its run has expired, so there is no task to retry; sync instead"
        )
    return _json(msgspec.to_builtins(result), status=202)


async def _filter_body(request: web.Request) -> FailureFilter:
    raw = await request.content.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise FilterError(f"body: at most {MAX_BODY_BYTES} bytes")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise FilterError(
            'body: expected a JSON object, the filter ({} for all failures), e.g. {"reason": "ssn"}'
        ) from None
    if not isinstance(body, dict):
        raise FilterError("body: expected a JSON object, the filter ({} for all failures)")
    unknown = sorted(str(key) for key in body if key not in FILTER_FIELDS)
    if unknown:
        raise FilterError(
            f"body: unknown field {', '.join(unknown)} (known: {', '.join(FILTER_FIELDS)})"
        )
    return parse_filter(body)


async def retry_matching(request: web.Request) -> web.Response:
    try:
        chosen = await _filter_body(request)
    except FilterError as error:
        return _problem(400, "Bad Request", str(error))
    shown = select(await failure_rows(dashboard_of(request).store), chosen)
    results = await dashboard_of(request).retry([row.id for row in shown])
    return _json(
        {
            "matched": len(shown),
            "queued": sum(1 for item in results if item.status == "queued"),
            "results": _results(results),
        },
        status=202,
    )


async def discard_one(request: web.Request) -> web.Response:
    ident = request.match_info["id"]
    if not await dashboard_of(request).store.failures.discard(ident):
        return _problem(404, "Not Found", "no such failure (retried successfully, or discarded)")
    log.info("failure.discarded", failure_id=ident, discarded=True)
    return _json({"id": ident, "discarded": True})

"""Approve or cancel a run held by the mass-change brake, from its page.

- `POST /runs/{id}/approve`: the run's records go to the workers (`Producer.approve`).
- `GET /runs/{id}/cancel`: a confirmation page; its form `POST /runs/{id}/cancel` ends the run
  without writing anything (`Producer.cancel`).

Both forms carry the session's CSRF token (guard.py) and the operator's name: one operator
token is shared, so the name is the only way to know who decided; it is kept with the decision
as `dashboard:<name>`. Done, the action answers 303 back to the run's page, which says what
happened (only if it did: the notice is read from the run's summary). A refused action (the
run was approved or cancelled meanwhile, by someone else) shows the run's page with the
producer's message and 409, never a 500.
"""

from __future__ import annotations

import re
from typing import Final, Literal
from urllib.parse import quote

import structlog
from aiohttp import web

from payroll_sync.dashboard.pages import show_run
from payroll_sync.dashboard.state import dashboard_of, render
from payroll_sync.errors import RequestRefused
from payroll_sync.runs.brake_view import brake_view
from payroll_sync.schemas.brake import BrakeSummary

log = structlog.get_logger("payroll_sync.dashboard")

Action = Literal["approve", "cancel"]

EVENTS: Final[dict[Action, str]] = {
    "approve": "dashboard.run_approved",
    "cancel": "dashboard.run_cancelled",
}
NAME_FIELD: Final = "by"
MAX_NAME: Final = 60
# Letters (any script), digits, spaces and the punctuation of names and e-mail addresses.
_NAME: Final = re.compile(r"[\w .,'@()-]+")


class NameRefused(ValueError):
    """The operator's name is missing or not a name; the message says which."""


def operator_name(value: object) -> str:
    """The name typed into an approval form, trimmed; `NameRefused` naming the field."""
    name = " ".join(value.split()) if isinstance(value, str) else ""
    if not name:
        raise NameRefused("Your name: required, so that the run says who decided")
    if len(name) > MAX_NAME:
        raise NameRefused(f"Your name: at most {MAX_NAME} characters")
    if not _NAME.fullmatch(name):
        raise NameRefused("Your name: letters, digits, spaces and . , ' @ ( ) - only")
    return name


def add_routes(app: web.Application) -> None:
    app.router.add_post("/runs/{run_id}/approve", approve)
    app.router.add_get("/runs/{run_id}/cancel", confirm_cancel)
    app.router.add_post("/runs/{run_id}/cancel", cancel)
    # An action's address reloaded or bookmarked leads back to the run, never to a 405.
    app.router.add_get("/runs/{run_id}/approve", back_to_run)


def _run_path(run_id: str) -> str:
    return f"/runs/{quote(run_id, safe='')}"


async def back_to_run(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(_run_path(request.match_info["run_id"]))


async def decide(request: web.Request, run_id: str, action: Action, by: str) -> BrakeSummary:
    """Approve or cancel through the producer; `RequestRefused` when the run is not held."""
    dashboard = dashboard_of(request)
    act = dashboard.producer.approve if action == "approve" else dashboard.producer.cancel
    summary = await act(run_id, by=by, now=dashboard.clock())
    log.info(EVENTS[action], run_id=run_id, decision=summary.decision)
    return summary


async def approve(request: web.Request) -> web.StreamResponse:
    run_id = request.match_info["run_id"]
    form = await request.post()
    try:
        name = operator_name(form.get(NAME_FIELD))
    except NameRefused as error:
        return await show_run(request, run_id, error=str(error), status=400)
    return await _act(request, run_id, "approve", name)


async def confirm_cancel(request: web.Request) -> web.StreamResponse:
    return await _confirm_page(request, request.match_info["run_id"])


async def _confirm_page(
    request: web.Request, run_id: str, *, error: str = "", status: int = 200
) -> web.StreamResponse:
    store = dashboard_of(request).store
    run = await store.get_run(run_id)
    summary = await store.brake_summary(run_id) if run is not None else None
    if run is None:
        return await show_run(request, run_id)  # 404
    view = brake_view(summary, run) if summary is not None else None
    if view is None or not view.awaiting:
        raise web.HTTPFound(_run_path(run_id))  # its page says what became of it
    return render(
        request,
        "confirm_cancel.html",
        status=status,
        title=f"Cancel run {run.id}?",
        run=run,
        brake=view,
        error=error,
    )


async def cancel(request: web.Request) -> web.StreamResponse:
    run_id = request.match_info["run_id"]
    form = await request.post()
    if form.get("confirmed") != "yes":
        # Not from the confirmation page: show it.
        raise web.HTTPSeeOther(_run_path(run_id) + "/cancel")
    try:
        name = operator_name(form.get(NAME_FIELD))
    except NameRefused as error:
        return await _confirm_page(request, run_id, error=str(error), status=400)
    return await _act(request, run_id, "cancel", name)


async def _act(request: web.Request, run_id: str, action: Action, name: str) -> web.StreamResponse:
    if await dashboard_of(request).store.get_run(run_id) is None:
        return await show_run(request, run_id)  # 404
    try:
        summary = await decide(request, run_id, action, f"dashboard:{name}")
    except RequestRefused as refused:
        log.info("dashboard.brake_refused", run_id=run_id, action=action)
        return await show_run(request, run_id, error=str(refused), status=409)
    raise web.HTTPSeeOther(f"{_run_path(run_id)}?decided={summary.decision}")

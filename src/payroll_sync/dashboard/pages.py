"""The server-rendered pages: login, runs, a run's records, failures and their actions.

Every action is a plain form POST answered with a redirect (303) back to the page it came from,
so everything works without JavaScript and a reload never repeats an action.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode

import structlog
from aiohttp import web
from multidict import MultiMapping

from payroll_sync.dashboard.attempts import client_of
from payroll_sync.dashboard.filters import (
    FailureFilter,
    FilterError,
    filter_query,
    group_by_reason,
    parse_filter,
    select,
)
from payroll_sync.dashboard.guard import LOGIN_PATH, locked_out, retry_after
from payroll_sync.dashboard.incidents import incidents_of
from payroll_sync.dashboard.loading import failure_rows
from payroll_sync.dashboard.session import (
    COOKIE_NAME,
    Session,
    encode_session,
    new_session,
    safe_next,
    tokens_equal,
)
from payroll_sync.dashboard.state import dashboard_of, render, request_session
from payroll_sync.dashboard.views import in_progress, record_row
from payroll_sync.producer.retry import RetryResult
from payroll_sync.runs.brake_view import brake_view, decision_notice
from payroll_sync.schemas.outcomes import OUTCOMES

log = structlog.get_logger("payroll_sync.dashboard")

RUNS_SHOWN: Final = 50
RECORDS_PER_PAGE: Final = 100
#: Pages of something still running reload themselves this often (a <meta> refresh: no JS).
REFRESH_SECONDS: Final = 5


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/runs", runs_page)
    app.router.add_get("/runs/{run_id}", run_page)
    app.router.add_get("/failures", failures_page)
    app.router.add_post("/failures/retry", retry_selected)
    app.router.add_get("/failures/retry-all", confirm_retry_all)
    app.router.add_post("/failures/retry-all", retry_all)
    app.router.add_post("/failures/{id:.+}/retry", retry_one)
    app.router.add_post("/failures/{id:.+}/discard", discard_one)


def _set_session(request: web.Request, response: web.StreamResponse, session: Session) -> None:
    dashboard = dashboard_of(request)
    response.set_cookie(
        COOKIE_NAME,
        encode_session(session, dashboard.secret),
        max_age=max(1, int(session.expires - dashboard.clock())),
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


# ------------------------------------------------------------------ login


async def home(_: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/runs")


async def login_form(request: web.Request) -> web.StreamResponse:
    session = request_session(request)
    if session is not None and session.authenticated:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return _login_page(request, session, error="", status=200)


def _login_page(
    request: web.Request, session: Session | None, *, error: str, status: int
) -> web.Response:
    fresh = session is None
    if session is None:
        # An anonymous session, only so that the login form has a CSRF token too.
        session = new_session(authenticated=False, now=dashboard_of(request).clock())
    next_path = safe_next(request.query.get("next"))
    response = render(
        request,
        "login.html",
        status=status,
        title="Log in",
        login_csrf=session.csrf,
        next_path=next_path,
        error=error,
    )
    if fresh:
        _set_session(request, response, session)
    return response


async def login(request: web.Request) -> web.StreamResponse:
    """The operator token in, a logged-in session out.

    Every wrong token counts against the client (attempts.py) and is answered after
    `login_delay`; a client locked out gets 429 whatever it sends, the right token included.
    """
    dashboard = dashboard_of(request)
    client = client_of(request.remote)
    form = await request.post()
    token = form.get("token")
    if isinstance(token, str) and token and tokens_equal(token, dashboard.operator_token):
        lockout = await dashboard.failed_tokens.check(client)
        if not lockout.locked:
            await dashboard.failed_tokens.forget(client)
            session = new_session(authenticated=True, now=dashboard.clock())
            log.info("dashboard.login", remote=request.remote)
            target = form.get("next")
            response = web.HTTPSeeOther(safe_next(target if isinstance(target, str) else None))
            _set_session(request, response, session)
            raise response
    else:
        lockout = await dashboard.failed_tokens.failed(client)
    log.info(
        "dashboard.login_refused",
        remote=request.remote,
        failures=lockout.failures,
        locked=lockout.locked,
    )
    await asyncio.sleep(dashboard.login_delay)
    if lockout.locked:
        page = _login_page(
            request,
            request_session(request),
            error=locked_out(lockout).capitalize() + ".",
            status=429,
        )
        page.headers.update(retry_after(lockout))
        return page
    return _login_page(
        request,
        request_session(request),
        error="That is not the operator token.",
        status=401,
    )


async def logout(request: web.Request) -> web.StreamResponse:
    session = request_session(request)
    if session is not None:
        await dashboard_of(request).revoke(session.sid, session.expires)
    log.info("dashboard.logout")
    response = web.HTTPSeeOther(LOGIN_PATH)
    response.del_cookie(COOKIE_NAME, path="/")
    raise response


# ------------------------------------------------------------------ runs


async def runs_page(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    store = dashboard.store
    runs = await store.list_runs(RUNS_SHOWN)
    # Every held run, not only those among the newest: none may wait unseen.
    held = [run for run in await store.unfinished_runs() if run.status == "awaiting_approval"]
    return render(
        request,
        "runs.html",
        title="Runs",
        runs=runs,
        held=sorted(held, key=lambda run: run.created_at, reverse=True),
        incidents=await incidents_of(store, now=dashboard.clock()),
        outcomes=OUTCOMES,
        refresh=REFRESH_SECONDS if any(in_progress(run) for run in runs) else 0,
    )


async def run_page(request: web.Request) -> web.StreamResponse:
    return await show_run(request, request.match_info["run_id"])


async def show_run(
    request: web.Request, run_id: str, *, error: str = "", status: int = 200
) -> web.Response:
    """A run's page: its brake summary when it has one, its records (filtered, paged); `error`
    says why an action on it was refused."""
    store = dashboard_of(request).store
    run = await store.get_run(run_id)
    if run is None:
        return _error(
            request, 404, "No such run", "There is no run with this id (runs are kept 30 days)."
        )
    outcome = request.query.get("outcome", "")
    if outcome and outcome not in OUTCOMES:
        return _error(
            request, 400, "Unknown outcome", f"outcome must be one of: {', '.join(OUTCOMES)}."
        )
    page = _page_number(request.query.get("page", "1"))
    records = [record_row(item) for item in await store.outcomes(run.id)]
    if outcome:
        records = [item for item in records if item.outcome == outcome]
    pages = max(1, -(-len(records) // RECORDS_PER_PAGE))
    page = min(page, pages)
    shown = records[(page - 1) * RECORDS_PER_PAGE : page * RECORDS_PER_PAGE]
    summary = await store.brake_summary(run.id)
    brake = brake_view(summary, run) if summary is not None else None
    return render(
        request,
        "run.html",
        status=status,
        title=f"Run {run.id}",
        run=run,
        brake=brake,
        notice=decision_notice(brake, request.query.get("decided", "")),
        error=error,
        outcomes=OUTCOMES,
        outcome=outcome,
        records=shown,
        matching=len(records),
        page=page,
        pages=pages,
        # Not while held: the operator reads the summary and types a name meanwhile.
        refresh=REFRESH_SECONDS if in_progress(run) else 0,
    )


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else 1


# ------------------------------------------------------------------ failures


async def failures_page(request: web.Request) -> web.StreamResponse:
    try:
        chosen = parse_filter(request.query)
    except FilterError as error:
        return _error(request, 400, "Filter not understood", str(error))
    rows = await failure_rows(dashboard_of(request).store)
    shown = select(rows, chosen)
    return render(
        request,
        "failures.html",
        title="Failures",
        chosen=chosen,
        query=filter_query(chosen),
        groups=group_by_reason(shown),
        matching=len(shown),
        total=len(rows),
        integrations=sorted({row.integration for row in rows}),
        notice=_notice(request.query),
    )


def _notice(query: MultiMapping[str]) -> str:
    """What the last action did, from the redirect's query string (counts only)."""

    def count(name: str) -> int:
        text = query.get(name, "")
        return int(text) if text.isdigit() and len(text) < 7 else 0

    parts = []
    if "retried" in query:
        parts.append(f"{count('retried')} queued for retry; each disappears here once it succeeds.")
        if count("not_failing"):
            parts.append(f"{count('not_failing')} no longer failing (nothing to do).")
        if count("task_gone"):
            parts.append(
                f"{count('task_gone')} could not be retried: the run that held them has expired; "
                "run a sync of the integration instead."
            )
    if "discarded" in query:
        parts.append(
            "Discarded." if count("discarded") else "Nothing discarded: it was no longer listed."
        )
    return " ".join(parts)


def _form_filter(form: MultiMapping[object]) -> FailureFilter:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        return parse_filter(values)
    except FilterError:
        return FailureFilter()


def _back_to_failures(chosen: FailureFilter, **counts: int) -> web.HTTPSeeOther:
    query = filter_query(chosen)
    extra = urlencode(counts)
    return web.HTTPSeeOther("/failures?" + "&".join(part for part in (query, extra) if part))


def _counts(results: Sequence[RetryResult]) -> dict[str, int]:
    return {
        "retried": sum(1 for item in results if item.status == "queued"),
        "not_failing": sum(1 for item in results if item.status == "not_failing"),
        "task_gone": sum(1 for item in results if item.status == "task_gone"),
    }


async def retry_one(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    results = await dashboard_of(request).retry([request.match_info["id"]])
    raise _back_to_failures(_form_filter(form), **_counts(results))


async def retry_selected(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    ids = [value for value in form.getall("id", []) if isinstance(value, str)]
    results = await dashboard_of(request).retry(ids)
    raise _back_to_failures(_form_filter(form), **_counts(results))


async def confirm_retry_all(request: web.Request) -> web.StreamResponse:
    try:
        chosen = parse_filter(request.query)
    except FilterError as error:
        return _error(request, 400, "Filter not understood", str(error))
    shown = select(await failure_rows(dashboard_of(request).store), chosen)
    return render(
        request,
        "confirm_retry.html",
        title="Retry all matching?",
        chosen=chosen,
        query=filter_query(chosen),
        rows=shown,
    )


async def retry_all(request: web.Request) -> web.StreamResponse:
    """Retries what the confirmation page listed that still matches the filter: never more."""
    form = await request.post()
    chosen = _form_filter(form)
    confirmed = {value for value in form.getall("id", []) if isinstance(value, str)}
    rows = select(await failure_rows(dashboard_of(request).store), chosen)
    results = await dashboard_of(request).retry([row.id for row in rows if row.id in confirmed])
    counts = _counts(results)
    # Confirmed ones that no longer match (fixed, discarded) count as no longer failing.
    counts["not_failing"] += len(confirmed - {row.id for row in rows})
    raise _back_to_failures(chosen, **counts)


async def discard_one(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    ident = request.match_info["id"]
    discarded = await dashboard_of(request).store.failures.discard(ident)
    log.info("failure.discarded", failure_id=ident, discarded=discarded)
    raise _back_to_failures(_form_filter(form), discarded=int(discarded))


def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", status=status, title=title, message=message)

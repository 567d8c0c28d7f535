"""Who may do what: the operator's session for pages, the bearer token for the API, CSRF.

- `/static/…` is public (a stylesheet and a script), and so are `/healthz` and `/readyz`.
- `/api/…` needs `Authorization: Bearer <operator token>`, else 401 (JSON). No cookies there,
  so the API cannot be driven by another site through a logged-in browser. A wrong token is
  answered after `login_delay` and counted against the client (attempts.py): locked out, it
  gets 429 with `Retry-After`, whatever token it sends.
- every other path but `/login` needs a logged-in session; a GET is redirected to the login
  page (which brings the operator back afterwards), anything else gets 303 to it.
- every POST outside the API (login included) must carry the session's CSRF token in the form
  field `csrf`, else 403.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import urlencode

import structlog
from aiohttp import web

from payroll_sync.dashboard.attempts import Lockout, client_of
from payroll_sync.dashboard.session import COOKIE_NAME, Session, csrf_ok, decode_session
from payroll_sync.dashboard.session import tokens_equal as _tokens_equal
from payroll_sync.dashboard.state import SESSION, dashboard_of, render
from payroll_sync.health import PATHS as HEALTH_PATHS

log = structlog.get_logger("payroll_sync.dashboard")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_PATH: Final = "/login"
CSRF_FIELD: Final = "csrf"


async def read_session(request: web.Request) -> Session | None:
    dashboard = dashboard_of(request)
    session = decode_session(
        request.cookies.get(COOKIE_NAME), dashboard.secret, now=dashboard.clock()
    )
    if session is None or await dashboard.revoked(session.sid):
        return None
    return session


def offered_token(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def bearer_ok(request: web.Request) -> bool:
    token = offered_token(request)
    return token is not None and _tokens_equal(token, dashboard_of(request).operator_token)


def locked_out(lockout: Lockout) -> str:
    minutes = max(1, math.ceil(lockout.seconds_left / 60))
    return (
        f"too many wrong operator tokens from this address: try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}"
    )


def retry_after(lockout: Lockout) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(lockout.seconds_left)))}


async def _api_access(request: web.Request) -> web.Response | None:
    """None when the request may go on; else the answer (401, or 429 when locked out)."""
    dashboard = dashboard_of(request)
    client = client_of(request.remote)
    if bearer_ok(request):
        lockout = await dashboard.failed_tokens.check(client)
        if not lockout.locked:
            return None
    elif offered_token(request) is not None:
        lockout = await dashboard.failed_tokens.failed(client)
        log.info(
            "dashboard.api_refused",
            path=request.path,
            method=request.method,
            failures=lockout.failures,
            locked=lockout.locked,
        )
    else:
        log.info("dashboard.api_refused", path=request.path, method=request.method)
        return api_unauthorized()
    await asyncio.sleep(dashboard.login_delay)
    if lockout.locked:
        return web.json_response(
            {"error": "Too Many Requests", "message": locked_out(lockout)},
            status=429,
            headers=retry_after(lockout),
        )
    return api_unauthorized()


def api_unauthorized() -> web.Response:
    return web.json_response(
        {"error": "Unauthorized", "message": "send Authorization: Bearer <operator token>"},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="payroll-sync"'},
    )


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    if path.startswith("/static/") or path in HEALTH_PATHS:
        return await handler(request)
    if path.startswith("/api/"):
        refused = await _api_access(request)
        return refused if refused is not None else await handler(request)

    session = await read_session(request)
    if session is not None:
        request[SESSION] = session
    logged_in = session is not None and session.authenticated
    if path != LOGIN_PATH and not logged_in:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPFound(f"{LOGIN_PATH}?{urlencode({'next': request.path_qs})}")
        raise web.HTTPSeeOther(LOGIN_PATH)
    if request.method == "POST":
        form = await request.post()
        if not csrf_ok(session, form.get(CSRF_FIELD)):
            log.info("dashboard.csrf_refused", path=path)
            return render(
                request,
                "error.html",
                status=403,
                title="Form refused",
                message=(
                    "This form was not sent from a page of this dashboard, or it has expired. "
                    "Go back, reload the page and try again."
                ),
            )
    return await handler(request)

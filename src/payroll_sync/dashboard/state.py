"""What the dashboard's handlers share: the store, the producer, the secrets, the templates."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote

import jinja2
from aiohttp import web

from payroll_sync.catalog import LiveCatalog
from payroll_sync.dashboard.attempts import MAX_FAILURES, WINDOW_SECONDS, FailedTokens
from payroll_sync.dashboard.filters import FailureFilter, filter_query
from payroll_sync.dashboard.revoked import RevokedSessions
from payroll_sync.dashboard.session import Session
from payroll_sync.dashboard.views import local_time, status_words
from payroll_sync.producer.producer import Producer
from payroll_sync.producer.retry import RetryResult
from payroll_sync.runs.public import iso_time
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.wizard.status import StatusReader

if TYPE_CHECKING:
    # Imported for its type only: a dashboard without DATABASE_URL never loads asyncpg.
    from payroll_sync.registry.store import Registry


@dataclass
class Dashboard:
    """Everything the handlers share; one per application."""

    store: RunStore
    # Retries go through it (its store is `store`).
    producer: Producer
    operator_token: str
    secret: bytes
    templates: jinja2.Environment
    clock: Callable[[], float] = time.time
    # Seconds a wrong token (login form or API) waits before it is answered.
    login_delay: float = 1.0
    # Wrong tokens from one client within the window that lock it out (attempts.py).
    lockout_failures: int = MAX_FAILURES
    lockout_seconds: float = WINDOW_SECONDS
    # The integrations in force now (the process's live catalog); None: the dashboard was
    # made without one (tests of the failure pages).
    catalog: LiveCatalog | None = None
    # Where the integration pages save settings and tokens; None (no DATABASE_URL): the pages
    # show the settings file's integrations, read-only.
    registry: Registry | None = None

    revoked_sessions: RevokedSessions = field(init=False)
    failed_tokens: FailedTokens = field(init=False)
    # Each integration's last run, next slots and last check (wizard/status.py).
    statuses: StatusReader = field(init=False)

    def __post_init__(self) -> None:
        self.revoked_sessions = RevokedSessions(self.store.redis, self.store.keys)
        self.failed_tokens = FailedTokens(
            self.store.redis,
            self.store.keys.prefix,
            max_failures=self.lockout_failures,
            window_seconds=self.lockout_seconds,
        )
        schedules = ScheduleState(self.store.redis, prefix=self.store.prefix)
        self.statuses = StatusReader(self.store, schedules=schedules, checks=self.registry)

    async def retry(self, ids: Sequence[str]) -> list[RetryResult]:
        return await self.producer.retry(ids, now=self.clock())

    async def revoke(self, sid: str, expires: float) -> None:
        """Every dashboard process refuses the session from now until its cookie expires."""
        await self.revoked_sessions.add(sid, seconds=expires - self.clock() + 1)

    async def revoked(self, sid: str) -> bool:
        return await self.revoked_sessions.contains(sid)


DASHBOARD: Final = web.AppKey("dashboard", Dashboard)
SESSION: Final = web.RequestKey("session", Session)


def template_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("payroll_sync.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = local_time
    env.filters["iso"] = lambda unix: iso_time(unix) or ""
    env.filters["status_words"] = status_words
    env.globals["filter_query"] = lambda **parts: filter_query(FailureFilter(**parts))
    # Failure ids hold ':' and a key of any shape: one path segment, always.
    env.filters["segment"] = lambda value: quote(str(value), safe="")
    return env


def dashboard_of(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


def request_session(request: web.Request) -> Session | None:
    return request.get(SESSION)


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page; the session (for the CSRF field and the menu) comes from the request."""
    session = request_session(request)
    context.setdefault("refresh", 0)
    html = (
        dashboard_of(request)
        .templates.get_template(template)
        .render(
            authenticated=bool(session and session.authenticated),
            csrf=session.csrf if session else "",
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

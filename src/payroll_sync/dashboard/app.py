"""The dashboard's aiohttp application: shared state, templates, routes and response headers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from payroll_sync.catalog import LiveCatalog
from payroll_sync.dashboard import api, approval, drift_page, integration_pages, pages
from payroll_sync.dashboard.attempts import MAX_FAILURES, WINDOW_SECONDS
from payroll_sync.dashboard.guard import guard
from payroll_sync.dashboard.session import secret_for
from payroll_sync.dashboard.state import DASHBOARD, Dashboard, template_environment
from payroll_sync.dashboard.trouble import answer_trouble
from payroll_sync.health import add_health_routes
from payroll_sync.metrics.exposition import add_metrics_route
from payroll_sync.producer.producer import Producer
from payroll_sync.queue.pacing import waiting_refresh

if TYPE_CHECKING:
    from payroll_sync.registry.store import Registry

STATIC_DIR: Final = Path(__file__).parent / "static"

# Scripts and styles only from this site (no inline code, no CDN); Pico's icons are data: URIs.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def create_app(
    *,
    producer: Producer,
    operator_token: str,
    secret: bytes | None = None,
    clock: Callable[[], float] = time.time,
    login_delay: float = 1.0,
    lockout_failures: int = MAX_FAILURES,
    lockout_seconds: float = WINDOW_SECONDS,
    catalog: LiveCatalog | None = None,
    registry: Registry | None = None,
    database_url: str | None = None,
) -> web.Application:
    if not operator_token:
        raise ValueError("operator_token: the dashboard needs one")
    # Outermost first: Redis down and hung-up clients are answered for the guard too.
    app = web.Application(middlewares=[answer_trouble, guard])
    app[DASHBOARD] = Dashboard(
        store=producer.store,
        producer=producer,
        operator_token=operator_token,
        secret=secret or secret_for(operator_token),
        templates=template_environment(),
        clock=clock,
        login_delay=login_delay,
        lockout_failures=lockout_failures,
        lockout_seconds=lockout_seconds,
        catalog=catalog,
        registry=registry,
    )
    pages.add_routes(app)
    approval.add_routes(app)
    integration_pages.add_routes(app)
    drift_page.add_routes(app)
    api.add_routes(app)
    # /readyz checks PostgreSQL where the registry is used (`database_url`).
    add_health_routes(app, redis=producer.store.redis, database_url=database_url)
    app.router.add_static("/static", STATIC_DIR)
    # For Prometheus, without a login (guard.py): counts by integration id, no personal data.
    refresh = waiting_refresh(
        producer.store.redis,
        producer.store.prefix,
        lambda: catalog.settings.integrations if catalog is not None else (),
    )
    add_metrics_route(app, refresh=[refresh])
    app.on_response_prepare.append(_headers)
    return app


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        # Pages and API answers may hold personal data: never kept by a browser or proxy.
        response.headers["Cache-Control"] = "no-store"

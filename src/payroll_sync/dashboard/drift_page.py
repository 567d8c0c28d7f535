"""`/integrations/{id}/drift`: the fields someone changed in 24SevenOffice since our last write,
which the next sync will overwrite (docs/drift.md), grouped by field and masked.

The report is the integration's latest employee dry run's (`runs.drift`, as the intake's JSON
API says it). **Check for drift now** (POST, CSRF) starts an employee dry run and comes back
here; the page reloads itself while that run is in progress.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

import structlog
from aiohttp import web

from payroll_sync.dashboard.integration_source import find, live, missing
from payroll_sync.dashboard.state import dashboard_of, render
from payroll_sync.errors import RequestRefused, SyncError
from payroll_sync.rules.drift import IN_PROGRESS
from payroll_sync.runs.drift import read_drift_report
from payroll_sync.schemas.messages import SyncRequest

log = structlog.get_logger("payroll_sync.dashboard")

#: While its dry run is in progress the page reloads itself this often (no JS).
REFRESH_SECONDS: Final = 2


def add_routes(app: web.Application) -> None:
    app.router.add_get("/integrations/{id}/drift", drift_page)
    app.router.add_post("/integrations/{id}/drift", check_now)


async def drift_page(request: web.Request) -> web.StreamResponse:
    return await _show(request, request.match_info["id"])


async def _show(
    request: web.Request, integration_id: str, *, error: str = "", status: int = 200
) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    if await find(dashboard, integration_id) is None:
        return missing(request, integration_id)
    report = await read_drift_report(dashboard.store, integration_id)
    return render(
        request,
        "drift.html",
        status=status,
        title=f"Drift · {integration_id}",
        id=integration_id,
        report=report,
        error=error,
        refresh=REFRESH_SECONDS if report.message == IN_PROGRESS and not error else 0,
    )


async def check_now(request: web.Request) -> web.StreamResponse:
    """An employee dry run now; back to this page, which follows it."""
    dashboard = dashboard_of(request)
    integration_id = request.match_info["id"]
    if await find(dashboard, integration_id) is None:
        return missing(request, integration_id)
    sync = SyncRequest(integration=integration_id, kind="employees", dry_run=True)
    try:
        await live(dashboard, integration_id)
        assert dashboard.catalog is not None  # live said so
        expansion = await dashboard.producer.submit(sync, dashboard.catalog.settings)
    except SyncError as failed:
        return await _show(request, integration_id, error=failed.reason, status=409)
    except RequestRefused as refused:
        return await _show(request, integration_id, error=str(refused), status=409)
    log.info("dashboard.drift_check_started", integration=integration_id, run_id=expansion.run_id)
    raise web.HTTPSeeOther(f"/integrations/{quote(integration_id, safe='')}/drift")

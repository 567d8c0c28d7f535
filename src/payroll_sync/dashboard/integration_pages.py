"""The integration pages: a person onboards a company and runs it.

- `/integrations`: every integration with its last run, the failures of that run, its last
  connection check and its next scheduled run (Oslo time).
- `/integrations/new`, `/integrations/{id}/edit`: the settings form (registry only;
  integration_settings.py).
- `/integrations/{id}`: status and settings, and the actions **Check connection**, **Sync
  employees now** and **Export absences…** (a dry run first, its changes shown masked, then the
  export for real); with a registry, **Remove integration…** (integration_removal.py).

Without a registry (no DATABASE_URL) the settings file's integrations are shown read-only; the
actions still work (they change nothing in the settings).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final
from urllib.parse import quote, urlencode

import aiohttp
import structlog
from aiohttp import web

from payroll_sync.dashboard import integration_removal, integration_settings
from payroll_sync.dashboard.incidents import incidents_of
from payroll_sync.dashboard.integration_form import (
    ExportValues,
    FormError,
    default_period,
    export_request,
    export_values,
)
from payroll_sync.dashboard.integration_source import (
    NO_REGISTRY,
    all_integrations,
    find,
    form_fields,
    live,
    missing,
    now,
    today,
)
from payroll_sync.dashboard.state import Dashboard, dashboard_of, render
from payroll_sync.dashboard.views import in_progress, record_row
from payroll_sync.errors import ConfigError, RequestRefused, SyncError
from payroll_sync.registry.records import ConnectionCheck
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import Run
from payroll_sync.wizard.check import check_connection

log = structlog.get_logger("payroll_sync.dashboard")

#: The export page reloads itself this often while its dry run is in progress (no JS).
REFRESH_SECONDS: Final = 2


def add_routes(app: web.Application) -> None:
    app.router.add_get("/integrations", list_page)
    # Before `/integrations/{id}`: "new" is no integration's id here.
    app.router.add_get("/integrations/new", integration_settings.new_form)
    app.router.add_post("/integrations/new", integration_settings.create)
    app.router.add_get("/integrations/{id}", integration_page)
    app.router.add_get("/integrations/{id}/edit", integration_settings.edit_form)
    app.router.add_post("/integrations/{id}/edit", integration_settings.save)
    app.router.add_get("/integrations/{id}/remove", integration_removal.confirm_form)
    app.router.add_post("/integrations/{id}/remove", integration_removal.remove)
    app.router.add_post("/integrations/{id}/check", check)
    app.router.add_post("/integrations/{id}/sync", sync_now)
    # The two actions answer with the integration's page at their own address: reloading or
    # bookmarking that address leads back to the page, never to a 405.
    app.router.add_get("/integrations/{id}/check", back_to_integration)
    app.router.add_get("/integrations/{id}/sync", back_to_integration)
    app.router.add_get("/integrations/{id}/export", export_form)
    app.router.add_post("/integrations/{id}/export", export)


# ------------------------------------------------------------------ the list


async def list_page(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    integrations = await all_integrations(dashboard)
    removed = request.query.get("removed", "")
    statuses = await dashboard.statuses.many(integrations, now=now(dashboard))
    checks = await _checks(dashboard, list(integrations))
    rows = [
        {"id": name, "status": statuses[name], "check": checks.get(name)}
        for name in sorted(integrations)
    ]
    return render(
        request,
        "integrations.html",
        title="Integrations",
        rows=rows,
        # Said only when it is indeed gone: a made-up link cannot claim a removal.
        removed="" if removed in integrations else removed,
        editable=dashboard.registry is not None,
        no_registry=NO_REGISTRY,
    )


async def _checks(dashboard: Dashboard, ids: Sequence[str]) -> dict[str, ConnectionCheck | None]:
    registry = dashboard.registry
    if registry is None:
        return {}
    found = await asyncio.gather(*(registry.last_check(name) for name in ids))
    return dict(zip(ids, found, strict=True))


# ------------------------------------------------------------------ one integration


async def integration_page(request: web.Request) -> web.StreamResponse:
    return await _show(request, request.match_info["id"])


async def _show(
    request: web.Request,
    integration_id: str,
    *,
    check: ConnectionCheck | None = None,
    error: str = "",
    status: int = 200,
) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    found = await find(dashboard, integration_id)
    if found is None:
        return missing(request, integration_id)
    settings, stored = found
    state = await dashboard.statuses.one(integration_id, settings, now=now(dashboard))
    return render(
        request,
        "integration.html",
        status=status,
        title=f"Integration {integration_id}",
        id=integration_id,
        settings=settings,
        stored=stored,
        state=state,
        incidents=await incidents_of(
            dashboard.store, now=dashboard.clock(), integration=integration_id
        ),
        check=check,
        error=error,
        notice="Saved." if "saved" in request.query else "",
        editable=dashboard.registry is not None,
        no_registry=NO_REGISTRY,
    )


async def back_to_integration(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/integrations/{quote(request.match_info['id'], safe='')}")


async def check(request: web.Request) -> web.StreamResponse:
    """Both tokens tried now; the page says which side failed and why (kept when there is a
    registry, shown either way)."""
    dashboard = dashboard_of(request)
    integration_id = request.match_info["id"]
    try:
        settings, tokens = await live(dashboard, integration_id)
    except ConfigError as error:
        return await _show(request, integration_id, error=error.reason, status=409)
    async with aiohttp.ClientSession() as session:
        result = await check_connection(settings, tokens, session=session, now=dashboard.clock())
    if dashboard.registry is not None:
        await dashboard.registry.record_check(integration_id, result)
    log.info(
        "dashboard.connection_checked",
        integration=integration_id,
        simployer_ok=result.simployer.ok,
        payroll_ok=result.payroll.ok,
    )
    return await _show(request, integration_id, check=result)


async def sync_now(request: web.Request) -> web.StreamResponse:
    """An employee sync, trigger manual; then the run's page."""
    integration_id = request.match_info["id"]
    sync = SyncRequest(integration=integration_id, kind="employees", trigger="manual")
    run_id, error = await _submit(dashboard_of(request), sync)
    if not run_id:
        return await _show(request, integration_id, error=error, status=409)
    raise web.HTTPSeeOther(f"/runs/{quote(run_id, safe='')}")


async def _submit(dashboard: Dashboard, sync: SyncRequest) -> tuple[str, str]:
    """(the run id, "") or ("", why not) in words a person can act on."""
    try:
        await live(dashboard, sync.integration)
        assert dashboard.catalog is not None  # _live said so
        expansion = await dashboard.producer.submit(sync, dashboard.catalog.settings)
    except SyncError as error:
        return "", error.reason
    except RequestRefused as error:
        return "", str(error)
    log.info(
        "dashboard.sync_requested",
        integration=sync.integration,
        kind=sync.kind,
        dry_run=sync.dry_run,
        run_id=expansion.run_id,
    )
    return expansion.run_id, ""


# ------------------------------------------------------------------ export absences


async def export_form(request: web.Request) -> web.StreamResponse:
    """The form; with `?run=`, the dry run it started and what it would change."""
    dashboard = dashboard_of(request)
    integration_id = request.match_info["id"]
    if await find(dashboard, integration_id) is None:
        return missing(request, integration_id)
    query = {name: request.query.getall(name) for name in request.query}
    values = export_values(query) if "from" in query else default_period(today(dashboard))
    dry_run: Run | None = None
    run_id = request.query.get("run", "")
    if run_id:
        found = await dashboard.store.get_run(run_id)
        # Only this integration's absence dry runs are shown here.
        if (
            found is not None
            and found.integration == integration_id
            and found.kind == "absences"
            and found.dry_run
        ):
            dry_run = found
    return await _export_page(request, integration_id, values, dry_run=dry_run)


async def _export_page(
    request: web.Request,
    integration_id: str,
    values: ExportValues,
    *,
    dry_run: Run | None = None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    records = []
    if dry_run is not None:
        outcomes = await dashboard_of(request).store.outcomes(dry_run.id)
        records = sorted(
            (record_row(item) for item in outcomes),
            key=lambda row: (row.employee_number, row.leave_id),
        )
    running = dry_run is not None and in_progress(dry_run)
    return render(
        request,
        "export.html",
        status=status,
        title=f"Export absences · {integration_id}",
        id=integration_id,
        values=values,
        run=dry_run,
        records=records,
        error=error,
        refresh=REFRESH_SECONDS if running else 0,
    )


async def export(request: web.Request) -> web.StreamResponse:
    """`action=preview`: a dry run, then back to this page to show it; `action=export`: the
    export for real, then its run's page."""
    dashboard = dashboard_of(request)
    integration_id = request.match_info["id"]
    if await find(dashboard, integration_id) is None:
        return missing(request, integration_id)
    form = form_fields(await request.post())
    values = export_values(form)
    dry_run = form.get("action", ["preview"])[0] != "export"
    try:
        sync = export_request(integration_id, values, dry_run=dry_run)
    except FormError as error:
        return await _export_page(request, integration_id, values, error=str(error), status=400)
    run_id, why = await _submit(dashboard, sync)
    if not run_id:
        return await _export_page(request, integration_id, values, error=why, status=409)
    if not dry_run:
        raise web.HTTPSeeOther(f"/runs/{quote(run_id, safe='')}")
    query = urlencode(
        {
            "run": run_id,
            "from": values.start,
            "to": values.end,
            "employees": values.employees,
            "codes": values.codes,
        }
    )
    raise web.HTTPSeeOther(f"/integrations/{quote(integration_id, safe='')}/export?{query}")

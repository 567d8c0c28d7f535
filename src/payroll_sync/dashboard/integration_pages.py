"""The integration pages: a person onboards a company and runs it.

- `/integrations`: every integration with its last run, the failures of that run, its last
  connection check and its next scheduled run (Oslo time).
- `/integrations/new`, `/integrations/{id}/edit`: the settings form (registry only). It is read
  by the wizard API's own decoder (integration_form.py), so errors name the same fields; an
  error is shown beside the form and nothing is stored. Tokens are write-only.
- `/integrations/{id}`: status and settings, and the actions **Check connection**, **Sync
  employees now** and **Export absences…** (a dry run first, its changes shown masked, then the
  export for real).

Without a registry (no DATABASE_URL) the settings file's integrations are shown read-only; the
actions still work (they change nothing in the settings).
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import quote, urlencode

import aiohttp
import msgspec
import structlog
from aiohttp import web
from multidict import MultiMapping

from payroll_sync.config import Credentials
from payroll_sync.dashboard.integration_form import (
    WEEKDAYS,
    ExportValues,
    FormError,
    FormValues,
    decode_settings,
    default_period,
    export_request,
    export_values,
    new_id,
    values_from_form,
    values_of,
)
from payroll_sync.dashboard.state import Dashboard, dashboard_of, render
from payroll_sync.dashboard.views import OSLO, record_row
from payroll_sync.errors import ConfigError, RequestRefused, SyncError
from payroll_sync.registry.records import ConnectionCheck, StoredIntegration
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Integration, Scope
from payroll_sync.wizard.check import check_connection
from payroll_sync.wizard.payload import BadIntegration
from payroll_sync.wizard.preview import Choice, ScopePreview, scope_choices, scope_preview
from payroll_sync.wizard.status import next_slots

log = structlog.get_logger("payroll_sync.dashboard")

#: The export page reloads itself this often while its dry run is in progress (no JS).
REFRESH_SECONDS: Final = 2
NO_REGISTRY: Final = (
    "These settings come from the settings file (PAYROLL_SYNC_CONFIG): editing them here needs "
    "the integration registry (set DATABASE_URL)."
)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/integrations", list_page)
    # Before `/integrations/{id}`: "new" is no integration's id here.
    app.router.add_get("/integrations/new", new_form)
    app.router.add_post("/integrations/new", create)
    app.router.add_get("/integrations/{id}", integration_page)
    app.router.add_get("/integrations/{id}/edit", edit_form)
    app.router.add_post("/integrations/{id}/edit", save)
    app.router.add_post("/integrations/{id}/check", check)
    app.router.add_post("/integrations/{id}/sync", sync_now)
    # The two actions answer with the integration's page at their own address: reloading or
    # bookmarking that address leads back to the page, never to a 405.
    app.router.add_get("/integrations/{id}/check", back_to_integration)
    app.router.add_get("/integrations/{id}/sync", back_to_integration)
    app.router.add_get("/integrations/{id}/export", export_form)
    app.router.add_post("/integrations/{id}/export", export)


# ------------------------------------------------------------------ where integrations live


async def _all(dashboard: Dashboard) -> dict[str, Integration]:
    if dashboard.registry is not None:
        return {stored.id: stored.settings for stored in await dashboard.registry.list()}
    if dashboard.catalog is not None:
        return dict(dashboard.catalog.settings.integrations)
    return {}


async def _find(
    dashboard: Dashboard, integration_id: str
) -> tuple[Integration, StoredIntegration | None] | None:
    if dashboard.registry is not None:
        stored = await dashboard.registry.get(integration_id)
        return None if stored is None else (stored.settings, stored)
    found = (await _all(dashboard)).get(integration_id)
    return None if found is None else (found, None)


async def _live(dashboard: Dashboard, integration_id: str) -> tuple[Integration, Credentials]:
    """The settings and tokens in force now (the catalog, refreshed: an edit saved a moment ago
    counts). ConfigError naming what is missing, never a token."""
    catalog = dashboard.catalog
    if catalog is None:
        raise ConfigError("this dashboard was started without its integrations")
    await catalog.refresh()
    return catalog.current.integration(integration_id), catalog.credentials(integration_id)


def _now(dashboard: Dashboard) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(dashboard.clock(), datetime.UTC)


def _today(dashboard: Dashboard) -> datetime.date:
    return _now(dashboard).astimezone(OSLO).date()


def _form(form: MultiMapping[Any]) -> dict[str, list[str]]:
    """A posted form as name -> its text values (several for checkboxes)."""
    found: dict[str, list[str]] = {}
    for name, value in form.items():
        if isinstance(value, str):
            found.setdefault(name, []).append(value)
    return found


def _error(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", status=status, title=title, message=message)


def _missing(request: web.Request, integration_id: str) -> web.Response:
    return _error(
        request, 404, "No such integration", f"There is no integration called {integration_id!r}."
    )


# ------------------------------------------------------------------ the list


async def list_page(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    integrations = await _all(dashboard)
    statuses = await dashboard.statuses.many(integrations, now=_now(dashboard))
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
    found = await _find(dashboard, integration_id)
    if found is None:
        return _missing(request, integration_id)
    settings, stored = found
    state = await dashboard.statuses.one(integration_id, settings, now=_now(dashboard))
    return render(
        request,
        "integration.html",
        status=status,
        title=f"Integration {integration_id}",
        id=integration_id,
        settings=settings,
        stored=stored,
        state=state,
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
        settings, tokens = await _live(dashboard, integration_id)
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
        await _live(dashboard, sync.integration)
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
    if await _find(dashboard, integration_id) is None:
        return _missing(request, integration_id)
    query = {name: request.query.getall(name) for name in request.query}
    values = export_values(query) if "from" in query else default_period(_today(dashboard))
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
    running = dry_run is not None and dry_run.status != "done"
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
    if await _find(dashboard, integration_id) is None:
        return _missing(request, integration_id)
    form = _form(await request.post())
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


# ------------------------------------------------------------------ the settings form


async def new_form(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    if dashboard.registry is None:
        return _error(request, 409, "Adding needs the registry", NO_REGISTRY)
    return await _settings_page(request, FormValues(), integration_id="")


async def create(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    registry = dashboard.registry
    if registry is None:
        return _error(request, 409, "Adding needs the registry", NO_REGISTRY)
    form = _form(await request.post())
    values = values_from_form(form)
    try:
        integration_id = new_id(form)
        if await registry.get(integration_id) is not None:
            raise FormError(f"id: an integration called {integration_id!r} exists already")
        settings, tokens = decode_settings(form, None)
        if tokens.simployer_token is None or tokens.payroll_token is None:
            missing = [
                name
                for name, token in (
                    ("simployer_token", tokens.simployer_token),
                    ("payroll_token", tokens.payroll_token),
                )
                if token is None
            ]
            raise FormError(f"{', '.join(missing)}: a new integration needs both tokens")
    except (FormError, BadIntegration) as error:
        return await _settings_page(
            request, values, integration_id="", error=str(error), status=400
        )
    await registry.put(integration_id, settings, tokens)
    log.info("dashboard.integration_created", integration=integration_id)
    raise web.HTTPSeeOther(f"/integrations/{quote(integration_id, safe='')}?saved=1")


async def edit_form(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    integration_id = request.match_info["id"]
    if dashboard.registry is None:
        return _error(request, 409, "Editing needs the registry", NO_REGISTRY)
    found = await _find(dashboard, integration_id)
    if found is None:
        return _missing(request, integration_id)
    settings, stored = found
    preview, why = await _preview(dashboard, integration_id, settings.scope)
    return await _settings_page(
        request,
        values_of(integration_id, settings),
        integration_id=integration_id,
        stored=stored,
        preview=preview,
        preview_error=why,
    )


async def save(request: web.Request) -> web.StreamResponse:
    """`action=save` stores the form; `action=preview` shows the scope preview of the form's
    scope, storing nothing."""
    dashboard = dashboard_of(request)
    registry = dashboard.registry
    integration_id = request.match_info["id"]
    if registry is None:
        return _error(request, 409, "Editing needs the registry", NO_REGISTRY)
    found = await _find(dashboard, integration_id)
    if found is None:
        return _missing(request, integration_id)
    base, stored = found
    form = _form(await request.post())
    values = values_from_form(form)
    values.id = integration_id
    try:
        settings, tokens = decode_settings(form, base)
    except BadIntegration as error:
        return await _settings_page(
            request,
            values,
            integration_id=integration_id,
            stored=stored,
            error=str(error),
            status=400,
        )
    if form.get("action", ["save"])[0] == "preview":
        preview, why = await _preview(dashboard, integration_id, settings.scope)
        return await _settings_page(
            request,
            values,
            integration_id=integration_id,
            stored=stored,
            preview=preview,
            preview_error=why,
            schedule_of=settings,
        )
    await registry.put(integration_id, settings, tokens)
    log.info("dashboard.integration_saved", integration=integration_id)
    raise web.HTTPSeeOther(f"/integrations/{quote(integration_id, safe='')}?saved=1")


async def _preview(
    dashboard: Dashboard, integration_id: str, scope: Scope
) -> tuple[ScopePreview | None, str]:
    try:
        settings, tokens = await _live(dashboard, integration_id)
        async with aiohttp.ClientSession() as session:
            found = await scope_preview(
                settings, tokens, session=session, today=_today(dashboard), scope=scope
            )
    except SyncError as error:
        return None, error.reason
    return found, ""


async def _choices(
    dashboard: Dashboard, integration_id: str
) -> tuple[list[Choice], list[Choice], str]:
    """Simployer One's departments and offices; none (and why) when they cannot be read."""
    if not integration_id:
        return [], [], "Save the integration first: its lists are read with its token."
    try:
        settings, tokens = await _live(dashboard, integration_id)
        async with aiohttp.ClientSession() as session:
            departments, offices = await scope_choices(settings, tokens, session=session)
    except SyncError as error:
        return [], [], error.reason
    return departments, offices, ""


def _picks(choices: Sequence[Choice], chosen: Sequence[str]) -> list[dict[str, object]]:
    """Checkboxes: Simployer One's own, then those chosen that it no longer knows."""
    known = {choice.id for choice in choices}
    boxes: list[dict[str, object]] = [
        {"id": choice.id, "name": choice.name, "checked": choice.id in chosen} for choice in choices
    ]
    boxes += [
        {"id": ident, "name": f"{ident} (unknown to Simployer One)", "checked": True}
        for ident in chosen
        if ident not in known
    ]
    return boxes


async def _settings_page(
    request: web.Request,
    values: FormValues,
    *,
    integration_id: str,
    stored: StoredIntegration | None = None,
    preview: ScopePreview | None = None,
    preview_error: str = "",
    error: str = "",
    status: int = 200,
    schedule_of: Integration | None = None,
) -> web.Response:
    dashboard = dashboard_of(request)
    departments, offices, choices_error = await _choices(dashboard, integration_id)
    schedule = schedule_of or (stored.settings if stored else None)
    upcoming = await _upcoming(dashboard, integration_id, schedule) if schedule else []
    return render(
        request,
        "integration_form.html",
        status=status,
        title=f"Settings · {integration_id}" if integration_id else "Add integration",
        id=integration_id,
        values=values,
        stored=stored,
        weekdays=WEEKDAYS,
        departments=_picks(departments, values.departments),
        offices=_picks(offices, values.offices),
        choices_error=choices_error,
        preview=preview,
        preview_error=preview_error,
        upcoming=upcoming,
        schedule_on=schedule.schedule.enabled if schedule is not None else False,
        error=error,
    )


async def _upcoming(
    dashboard: Dashboard, integration_id: str, settings: Integration
) -> list[datetime.datetime]:
    """The next five runs as the schedulers will fire them (wizard/status.py, on the Oslo
    clock). A schedule that is off shows what switching it on would do: its first run the next
    morning, then its weekdays x times."""
    schedule = msgspec.structs.replace(settings.schedule, enabled=True)
    since = (await dashboard.statuses.schedules.enabled_since()).get(integration_id)
    on_since = since if settings.schedule.enabled else None
    return next_slots(schedule, now=_now(dashboard), switched_on_at=on_since)

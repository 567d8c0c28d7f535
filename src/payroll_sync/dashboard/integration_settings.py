"""The integration settings form: add an integration, edit one (registry only).

The form is read by the wizard API's own decoder (integration_form.py), so an error names the
same field the API names; it is shown beside the form and nothing is stored. Tokens are
write-only: never rendered back, blank on edit keeps the stored one. The form shows the next
five runs as the schedulers will fire them, the scope's pick lists from Simployer One and the
scope preview's count.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from urllib.parse import quote

import aiohttp
import msgspec
import structlog
from aiohttp import web

from payroll_sync.dashboard.integration_form import (
    WEEKDAYS,
    FormError,
    FormValues,
    code_boxes,
    decode_settings,
    new_id,
    values_from_form,
    values_of,
)
from payroll_sync.dashboard.integration_source import (
    NO_REGISTRY,
    error_page,
    find,
    form_fields,
    live,
    missing,
    now,
    today,
)
from payroll_sync.dashboard.state import Dashboard, dashboard_of, render
from payroll_sync.errors import SyncError
from payroll_sync.registry.records import StoredIntegration
from payroll_sync.schemas.settings import Integration, Scope
from payroll_sync.wizard.payload import BadIntegration
from payroll_sync.wizard.preview import Choice, ScopePreview, scope_choices, scope_preview
from payroll_sync.wizard.status import next_slots

log = structlog.get_logger("payroll_sync.dashboard")


async def new_form(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    if dashboard.registry is None:
        return error_page(request, 409, "Adding needs the registry", NO_REGISTRY)
    return await _settings_page(request, FormValues(), integration_id="")


async def create(request: web.Request) -> web.StreamResponse:
    dashboard = dashboard_of(request)
    registry = dashboard.registry
    if registry is None:
        return error_page(request, 409, "Adding needs the registry", NO_REGISTRY)
    form = form_fields(await request.post())
    values = values_from_form(form)
    try:
        integration_id = new_id(form)
        if await registry.get(integration_id) is not None:
            raise FormError(f"id: an integration called {integration_id!r} exists already")
        settings, tokens = decode_settings(form)
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
        return error_page(request, 409, "Editing needs the registry", NO_REGISTRY)
    found = await find(dashboard, integration_id)
    if found is None:
        return missing(request, integration_id)
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
        return error_page(request, 409, "Editing needs the registry", NO_REGISTRY)
    found = await find(dashboard, integration_id)
    if found is None:
        return missing(request, integration_id)
    _, stored = found
    form = form_fields(await request.post())
    values = values_from_form(form)
    values.id = integration_id
    try:
        settings, tokens = decode_settings(form)
    except (FormError, BadIntegration) as error:
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
        settings, tokens = await live(dashboard, integration_id)
        async with aiohttp.ClientSession() as session:
            found = await scope_preview(
                settings, tokens, session=session, today=today(dashboard), scope=scope
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
        settings, tokens = await live(dashboard, integration_id)
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
        codes=code_boxes(values.absence_codes),
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
    return next_slots(schedule, now=now(dashboard), switched_on_at=on_since)

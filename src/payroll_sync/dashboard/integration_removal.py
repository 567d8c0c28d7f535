"""Removing an integration from its page (registry only): a confirmation page that says what
removal does and asks for the id typed again, then `Registry.delete`.

Removal is for good (re-adding needs both tokens again), so a wrong or missing confirmation
removes nothing and says so. The log event carries the id only.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import structlog
from aiohttp import web

from payroll_sync.dashboard.integration_source import (
    NO_REGISTRY,
    error_page,
    find,
    form_fields,
    missing,
)
from payroll_sync.dashboard.state import dashboard_of, render

log = structlog.get_logger("payroll_sync.dashboard")

_NEEDS_REGISTRY = "Removing needs the registry"


async def confirm_form(request: web.Request) -> web.StreamResponse:
    integration_id = request.match_info["id"]
    if dashboard_of(request).registry is None:
        return error_page(request, 409, _NEEDS_REGISTRY, NO_REGISTRY)
    if await find(dashboard_of(request), integration_id) is None:
        return missing(request, integration_id)
    return _confirm_page(request, integration_id)


async def remove(request: web.Request) -> web.StreamResponse:
    """Removes it when `confirm` is its id; else the confirmation page again, nothing removed."""
    dashboard = dashboard_of(request)
    registry = dashboard.registry
    integration_id = request.match_info["id"]
    if registry is None:
        return error_page(request, 409, _NEEDS_REGISTRY, NO_REGISTRY)
    form = form_fields(await request.post())
    typed = form.get("confirm", [""])[0].strip()
    if typed != integration_id:
        if await find(dashboard, integration_id) is None:
            return missing(request, integration_id)
        why = "type its id to remove it" if not typed else "that is not this integration's id"
        return _confirm_page(
            request, integration_id, error=f"confirm: {why}. Nothing removed.", status=400
        )
    if not await registry.delete(integration_id):
        return missing(request, integration_id)
    log.info("dashboard.integration_removed", integration=integration_id)
    raise web.HTTPSeeOther(f"/integrations?{urlencode({'removed': integration_id})}")


def _confirm_page(
    request: web.Request, integration_id: str, *, error: str = "", status: int = 200
) -> web.Response:
    return render(
        request,
        "confirm_remove.html",
        status=status,
        title=f"Remove {integration_id}?",
        id=integration_id,
        back=f"/integrations/{quote(integration_id, safe='')}",
        error=error,
    )

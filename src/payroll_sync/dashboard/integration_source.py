"""Where the integration pages find integrations, and what their handlers share.

With a registry (DATABASE_URL) the pages read and write it; without, they show the settings
file's integrations (the live catalog) read-only. Tokens come only from the live catalog,
refreshed first, so an edit saved a moment ago counts.
"""

from __future__ import annotations

import datetime
from typing import Any, Final

from aiohttp import web
from multidict import MultiMapping

from payroll_sync.config import Credentials
from payroll_sync.dashboard.state import Dashboard, render
from payroll_sync.errors import ConfigError
from payroll_sync.producer.producer import oslo_today
from payroll_sync.registry.records import StoredIntegration
from payroll_sync.schemas.settings import Integration
from payroll_sync.wizard.status import integrations_of

NO_REGISTRY: Final = (
    "These settings come from the settings file (PAYROLL_SYNC_CONFIG): editing them here needs "
    "the integration registry (set DATABASE_URL)."
)


async def all_integrations(dashboard: Dashboard) -> dict[str, Integration]:
    return await integrations_of(dashboard.registry, dashboard.catalog)


async def find(
    dashboard: Dashboard, integration_id: str
) -> tuple[Integration, StoredIntegration | None] | None:
    if dashboard.registry is not None:
        stored = await dashboard.registry.get(integration_id)
        return None if stored is None else (stored.settings, stored)
    found = (await all_integrations(dashboard)).get(integration_id)
    return None if found is None else (found, None)


async def live(dashboard: Dashboard, integration_id: str) -> tuple[Integration, Credentials]:
    """The settings and tokens in force now (the catalog, refreshed: an edit saved a moment ago
    counts). ConfigError naming what is missing, never a token."""
    catalog = dashboard.catalog
    if catalog is None:
        raise ConfigError("this dashboard was started without its integrations")
    await catalog.refresh()
    return catalog.current.integration(integration_id), catalog.credentials(integration_id)


def now(dashboard: Dashboard) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(dashboard.clock(), datetime.UTC)


def today(dashboard: Dashboard) -> datetime.date:
    return oslo_today(dashboard.clock())


def form_fields(form: MultiMapping[Any]) -> dict[str, list[str]]:
    """A posted form as name -> its text values (several for checkboxes)."""
    found: dict[str, list[str]] = {}
    for name, value in form.items():
        if isinstance(value, str):
            found.setdefault(name, []).append(value)
    return found


def error_page(request: web.Request, status: int, title: str, message: str) -> web.Response:
    return render(request, "error.html", status=status, title=title, message=message)


def missing(request: web.Request, integration_id: str) -> web.Response:
    return error_page(
        request, 404, "No such integration", f"There is no integration called {integration_id!r}."
    )

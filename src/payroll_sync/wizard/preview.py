"""How many and which employees an integration's scope takes in now, and why the others not.

STUB: the `api` branch implements it.
"""

from __future__ import annotations

import datetime

import aiohttp
import msgspec

from payroll_sync.config import Credentials
from payroll_sync.schemas.settings import Integration, Scope


class ScopePreview(msgspec.Struct, frozen=True, kw_only=True):
    in_scope: int
    # Employee numbers in scope, numeric order.
    employee_numbers: list[str]
    # Why the others are not, reason -> employee numbers ("excluded", "not in the test group",
    # "outside the chosen departments and offices", "not employed now", ...).
    left_out: dict[str, list[str]]
    # Scope ids Simployer One does not know (a department or office since deleted).
    unknown_departments: list[str] = msgspec.field(default_factory=list)
    unknown_offices: list[str] = msgspec.field(default_factory=list)


async def scope_preview(
    integration: Integration,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession,
    today: datetime.date,
    scope: Scope | None = None,
) -> ScopePreview:
    """Read Simployer One's employees and departments and apply `scope` (default: the
    integration's own) as a sync would today."""
    raise NotImplementedError


class Choice(msgspec.Struct, frozen=True):
    id: str
    name: str


async def scope_choices(
    integration: Integration, credentials: Credentials, *, session: aiohttp.ClientSession
) -> tuple[list[Choice], list[Choice]]:
    """Simployer One's own departments and offices, for the scope form's pick lists."""
    raise NotImplementedError

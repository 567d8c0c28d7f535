"""Integration settings: the TOML file's shape (`PAYROLL_SYNC_CONFIG`).

Only stdlib and msgspec. Decoded once at start-up into frozen Structs and passed down; unknown
keys are refused so a misspelt setting fails loudly instead of being ignored.
Tokens are never stored here, only the names of the environment variables that hold them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from payroll_sync.schemas.messages import EmployeeNumber, IntegrationId

HttpUrl = Annotated[str, Meta(pattern=r"^https?://[^\s/]+(/\S*)?$")]
EnvName = Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Id = Annotated[str, Meta(min_length=1)]


class Scope(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Which employees an integration syncs. All empty = every active employee."""

    # Simployer One department ids; their sub-departments are included.
    departments: list[Id] = msgspec.field(default_factory=list)
    # Simployer One office ids.
    offices: list[Id] = msgspec.field(default_factory=list)
    # A test group of employee numbers: when set, only these (still active ones) are synced.
    employees: list[EmployeeNumber] = msgspec.field(default_factory=list)
    # Employee numbers never synced.
    exclude: list[EmployeeNumber] = msgspec.field(default_factory=list)


class Integration(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    simployer_url: HttpUrl
    simployer_token_env: EnvName
    payroll_url: HttpUrl
    payroll_token_env: EnvName
    # 24SevenOffice requests per second for this integration, shared by every worker process.
    rate_limit_per_second: Annotated[float, Meta(gt=0, le=1000)] = 10.0
    # Requests that may go at once after a quiet spell; default: one second's worth.
    rate_limit_burst: Annotated[int, Meta(ge=1, le=10000)] | None = None
    scope: Scope = msgspec.field(default_factory=Scope)


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    integrations: dict[IntegrationId, Integration] = msgspec.field(default_factory=dict)

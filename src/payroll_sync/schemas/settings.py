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
EnvName = Annotated[str, Meta(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")]
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

    @property
    def burst(self) -> int:
        return self.rate_limit_burst or max(1, int(self.rate_limit_per_second))


class Worker(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """How workers retry and wait (the `[worker]` table; every key optional)."""

    # Retryable errors (network, 5xx) are retried with exponential backoff for this long, counted
    # from a record's first attempt; then the record fails. Hours, not Dramatiq's weeks: HR
    # administrators should see a stuck record the same day.
    retry_for_hours: Annotated[float, Meta(gt=0, le=72)] = 3.0
    first_retry_seconds: Annotated[float, Meta(gt=0, le=3600)] = 1.0
    max_retry_delay_seconds: Annotated[float, Meta(gt=0, le=3600)] = 300.0
    # A record whose rate-limit wait would be longer than this is put back on the queue with a
    # delay instead of holding a worker thread that other integrations need.
    max_rate_wait_seconds: Annotated[float, Meta(ge=0, le=60)] = 2.0
    # Per-request timeout towards either API.
    request_timeout_seconds: Annotated[float, Meta(gt=0, le=300)] = 30.0
    # A worker process silent this long is taken for dead, and its unfinished messages go back
    # to the queue for the others (Dramatiq's Redis broker heartbeat).
    dead_worker_after_seconds: Annotated[float, Meta(ge=1, le=3600)] = 60.0
    # How many Redis commands in a million also run the broker's maintenance, which is what
    # requeues a dead worker's messages (Dramatiq's default is 1,000).
    broker_maintenance_chance: Annotated[int, Meta(ge=1, le=1_000_000)] = 10_000


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    integrations: dict[IntegrationId, Integration] = msgspec.field(default_factory=dict)
    worker: Worker = msgspec.field(default_factory=Worker)

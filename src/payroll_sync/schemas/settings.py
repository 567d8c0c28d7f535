"""Integration settings: the TOML file's shape (`PAYROLL_SYNC_CONFIG`).

Only stdlib and msgspec. Decoded once at start-up into frozen Structs and passed down; unknown
keys are refused so a misspelt setting fails loudly instead of being ignored.
Tokens are never stored here, only the names of the environment variables that hold them
(or nothing, for an integration of the registry, which keeps its tokens itself).
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Final, Literal

import msgspec
from msgspec import Meta

from payroll_sync.assumptions import SIMPLOYER_RATE_LIMIT_PER_SECOND
from payroll_sync.schemas.absence_codes import describe_unknown, unknown_codes
from payroll_sync.schemas.brake import Brake
from payroll_sync.schemas.messages import AbsenceCodeText, EmployeeNumber, IntegrationId

# A TOML key that needs no quotes.
_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
HttpUrl = Annotated[str, Meta(pattern=r"^https?://[^\s/]+(/\S*)?$")]
EnvName = Annotated[str, Meta(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")]
Id = Annotated[str, Meta(min_length=1)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A time of day on the Oslo clock, "06:30".
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
# Who may call the intake: a caller's name, as it appears in logs and runs.
CallerName = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


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


class Absences(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """What the absence sync exports (the `[integrations.ID.absences]` table)."""

    # 24SevenOffice absence codes exported; empty = all.
    codes: list[AbsenceCodeText] = msgspec.field(default_factory=list)
    # Simployer One leave type id or name (case-insensitive) -> 24SevenOffice code; wins over
    # the leave type's own code and the default table.
    overrides: dict[str, AbsenceCodeText] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        wrong = unknown_codes(self.codes)
        if wrong:
            raise ValueError(describe_unknown("codes", wrong))
        # Named by its leave type, as the settings file writes the key, so the person knows
        # which line to fix.
        for leave_type, code in self.overrides.items():
            if unknown_codes([code]):
                key = leave_type if _BARE_KEY.fullmatch(leave_type) else json.dumps(leave_type)
                raise ValueError(describe_unknown(f"overrides.{key}", [code]))


class Schedule(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """When scheduled runs fire (the `[integrations.ID.schedule]` table), Europe/Oslo time."""

    enabled: bool = False
    weekdays: list[Weekday] = msgspec.field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    times: list[ClockTime] = msgspec.field(default_factory=lambda: ["06:00"])
    # What a scheduled run syncs: employees, and absences in a window around the run's day.
    employees: bool = True
    absences: bool = False
    absence_days_back: Annotated[int, Meta(ge=0, le=366)] = 31
    absence_days_ahead: Annotated[int, Meta(ge=0, le=366)] = 31


class Integration(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    simployer_url: HttpUrl
    # The environment variables holding the tokens: required in the settings file (config.py
    # says so), None in the registry, which stores the tokens themselves (encrypted).
    simployer_token_env: EnvName | None = None
    payroll_url: HttpUrl
    payroll_token_env: EnvName | None = None
    # 24SevenOffice requests per second for this integration, shared by every worker process.
    rate_limit_per_second: Annotated[float, Meta(gt=0, le=1000)] = 10.0
    # Requests that may go at once after a quiet spell; default: one second's worth.
    rate_limit_burst: Annotated[int, Meta(ge=1, le=10000)] | None = None
    # Simployer One requests per second for this integration (the producer's bulk reads and
    # the workers' re-reads), shared by every process; bursts of one second's worth.
    simployer_rate_limit_per_second: Annotated[float, Meta(gt=0, le=1000)] = (
        SIMPLOYER_RATE_LIMIT_PER_SECOND
    )
    scope: Scope = msgspec.field(default_factory=Scope)
    absences: Absences = msgspec.field(default_factory=Absences)
    schedule: Schedule = msgspec.field(default_factory=Schedule)
    # The mass-change brake (schemas/brake.py): past these, a run waits for approval.
    brake: Brake = msgspec.field(default_factory=Brake)

    @property
    def burst(self) -> int:
        return self.rate_limit_burst or max(1, int(self.rate_limit_per_second))

    @property
    def simployer_burst(self) -> int:
        return max(1, int(self.simployer_rate_limit_per_second))


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
    # On SIGTERM a worker takes no new record and gives the ones it holds this long to finish;
    # then it hands the rest back to the queue (another worker reads both systems afresh).
    stop_timeout_seconds: Annotated[float, Meta(ge=1, le=600)] = 30.0


class Intake(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Who may send sync requests over HTTP (the `[intake]` table)."""

    # Caller name -> the environment variable holding that caller's bearer token.
    callers: dict[CallerName, EnvName] = msgspec.field(default_factory=dict)
    # Caller name -> the only integrations it may ask for and read runs of (`[intake.allow]`).
    # A caller not named here may ask for any integration.
    allow: dict[CallerName, list[IntegrationId]] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        strangers = sorted(set(self.allow) - set(self.callers))
        if strangers:
            raise ValueError(
                f"allow: {', '.join(strangers)} not in [intake.callers] "
                "(name each caller there, with its token variable)"
            )

    def allowed(self, caller: str) -> frozenset[str] | None:
        """The integrations `caller` may ask for; None: any."""
        listed = self.allow.get(caller)
        return None if listed is None else frozenset(listed)


class Limits(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Plausibility bounds checked before any payroll write (the `[limits]` table; NOK).

    A salary above its bound fails the record naming `compensation.amount`: far more likely a
    typo (or a figure in øre) than a pay, and payroll would pay it. Raise a bound for a company
    whose real salaries exceed it.
    """

    max_monthly_salary: Annotated[float, Meta(gt=0, le=1e9)] = 3_000_000.0
    max_hourly_salary: Annotated[float, Meta(gt=0, le=1e7)] = 20_000.0


class Alerts(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """When an integration pages someone, and where (the `[alerts]` table; docs/alerts.md)."""

    # The environment variable holding the webhook URL (a Slack URL embeds its secret): the
    # URL itself is never in the file, nor in a log. Unset or empty: incidents are kept and
    # shown, nothing is sent.
    webhook_url_env: EnvName = "PAYROLL_SYNC_ALERT_WEBHOOK_URL"
    # `failing`: more than this share of the records of the last `last_runs` finished runs
    # failed, counting only when they hold at least `min_records` records.
    failed_percent: Annotated[float, Meta(ge=0, le=100)] = 20.0
    last_runs: Annotated[int, Meta(ge=1, le=50)] = 3
    min_records: Annotated[int, Meta(ge=1, le=1_000_000)] = 1
    # `stale`: a scheduled slot came due this long ago and no scheduled run finished since
    # (or a run has waited this long for approval).
    stale_hours: Annotated[float, Meta(ge=1, le=24 * 14)] = 24.0
    # Seconds between evaluations (in the scheduler process).
    interval_seconds: Annotated[float, Meta(ge=1, le=3600)] = 60.0
    # The dashboard's base URL, for a link to the integration's page in each message.
    dashboard_url: HttpUrl | None = None


class Settings(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    integrations: dict[IntegrationId, Integration] = msgspec.field(default_factory=dict)
    worker: Worker = msgspec.field(default_factory=Worker)
    intake: Intake = msgspec.field(default_factory=Intake)
    limits: Limits = msgspec.field(default_factory=Limits)
    alerts: Alerts = msgspec.field(default_factory=Alerts)

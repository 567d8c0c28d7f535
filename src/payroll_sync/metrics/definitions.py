"""Every metric of payroll-sync, in one place (docs/metrics.md lists them).

Created in prometheus-client's default registry when this module is first imported. In a worker
process `payroll-sync worker` has set PROMETHEUS_MULTIPROC_DIR first, so the values go to files
that the worker's exposition server sums over its processes (metrics/worker.py). Gauges say how
they combine over processes (`multiprocess_mode`); the ones here are set only by the HTTP
services, at scrape time, from Redis.

Labels hold integration ids, kinds, outcomes, APIs and answer classes: never an employee number,
a name, a URL or anything else a record or a request carries.
"""

from __future__ import annotations

from typing import Final, Literal

from prometheus_client import Counter, Gauge, Histogram

Api = Literal["payroll", "simployer"]

RECORDS: Final = Counter(
    "payroll_sync_records",
    "Records finished by a worker (their final outcome recorded once), by integration, kind "
    "(employees/absences), outcome (created/updated/unchanged/withdrawn/skipped/failed) and "
    "whether the run was a dry run.",
    ["integration", "kind", "outcome", "dry_run"],
)

API_REQUESTS: Final = Counter(
    "payroll_sync_api_requests",
    "Requests sent to 24SevenOffice (api=payroll) and Simployer One (api=simployer), by "
    "integration (empty for a check of one not saved yet) and answer class: 2xx, 3xx, 4xx, "
    "5xx, 429 (rate limited), other, timeout, connection_error.",
    ["integration", "api", "answer"],
)

# By API only: per integration its 13 series for each API were 26 of an integration's 36, and
# the workers' scrape grew past a second at 1,000 integrations (bench/metrics_scrape.py).
RATE_LIMIT_WAIT: Final = Histogram(
    "payroll_sync_rate_limit_wait_seconds",
    "Seconds a request waited for a slot of its integration's shared rate limit before it was "
    "sent (0 when a slot was free), by API, every integration together.",
    ["api"],
    buckets=(0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)

RATE_LIMIT_WAITED: Final = Counter(
    "payroll_sync_rate_limit_waited_seconds",
    "Seconds requests waited in all for slots of the integration's shared rate limit, by "
    "integration and API (its rate: the share of the time a worker's requests wait).",
    ["integration", "api"],
)

DEFERRALS: Final = Counter(
    "payroll_sync_rate_limit_deferrals",
    "Records a worker put back on the queue to wait instead of holding a thread, by integration "
    "and cause: wait (the next rate-limit slot was too far off) or 429 (an API answered 429).",
    ["integration", "cause"],
)

RUN_DURATION: Final = Histogram(
    "payroll_sync_run_duration_seconds",
    "Seconds from a run's creation to its last record's outcome, observed once when the run "
    "ends, by kind and whether it was a dry run.",
    ["kind", "dry_run"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800),
)

RECORDS_WAITING: Final = Gauge(
    "payroll_sync_records_waiting",
    "Records the pacer holds for an integration, not yet released to the workers' queue (read "
    "from Redis when scraped).",
    ["integration"],
    multiprocess_mode="max",
)

OLDEST_WAITING_AGE: Final = Gauge(
    "payroll_sync_oldest_waiting_record_age_seconds",
    "Age in seconds of the integration's oldest record the pacer holds (since it was queued; "
    "0 when none waits), read from Redis when scraped.",
    ["integration"],
    multiprocess_mode="max",
)

SCHEDULE_SLOTS: Final = Counter(
    "payroll_sync_schedule_slots",
    "Scheduled slots this scheduler claimed, by integration and result: fired (its sync "
    "requests submitted) or missed (found too late and skipped).",
    ["integration", "result"],
)


def flag(value: bool) -> str:
    """A boolean label value."""
    return "true" if value else "false"

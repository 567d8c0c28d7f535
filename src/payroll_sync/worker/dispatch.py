"""The pacer's dispatcher: a thread in every worker process that releases paced records.

Every worker process runs one, and one at a time releases: it holds a lease it renews every
second; the others stand by and take the lease over within `LEASE_SECONDS` of the leader's
death (at once when it stops). The release script is atomic, so even two leaders at once never
release the same record. The leader sleeps until the next integration's turn, at least
`MIN_SLEEP_SECONDS` (each call then releases what freed meanwhile, within each integration's
burst) and at most `MAX_SLEEP_SECONDS`, so an idle deployment costs a few cheap calls a second.
A Redis fault is logged without details and retried after a pause: the records wait in Redis
meanwhile, nothing is lost.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import dramatiq
import redis
import structlog
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import Middleware

from payroll_sync.catalog import Catalog, LiveCatalog
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.pacing import MAX_RECORDS_PER_CALL, Limit, PaceKeys, Pacer
from payroll_sync.runs.store import Release
from payroll_sync.schemas.settings import Settings
from payroll_sync.worker.context import WorkerContext

#: Longest sleep between release calls (a newly pended run waits at most this long).
MAX_SLEEP_SECONDS: Final = 0.05
#: Shortest: releases come in small batches, not one call per record (measured: a 2 ms floor
#: cost ~0.25 ms of worker CPU per record at 200 records/s). An integration whose burst is 1
#: is thereby held to 50 requests/s.
MIN_SLEEP_SECONDS: Final = 0.02
#: The leader's lease, renewed every `RENEW_SECONDS`; a standby looks as often.
LEASE_SECONDS: Final = 3.0
RENEW_SECONDS: Final = 1.0
#: How often the workers' settings are written for the release script.
LIMITS_EVERY_SECONDS: Final = 30.0
#: Pause after a Redis fault.
FAULT_PAUSE_SECONDS: Final = 1.0

log = structlog.get_logger("payroll_sync.pacing")


#: For a removed integration: its waiting records are released as fast as workers take them,
#: each to end at once "integration removed" (no request is sent for them).
DRAIN_LIMIT: Final = Limit(per_second=1_000_000.0, burst=MAX_RECORDS_PER_CALL)


def limits_of(settings: Settings, removed: Iterable[str] = ()) -> dict[str, Limit]:
    limits = dict.fromkeys(removed, DRAIN_LIMIT)
    limits.update(
        (name, Limit(per_second=item.rate_limit_per_second, burst=item.burst))
        for name, item in settings.integrations.items()
    )
    return limits


def catalog_limits(catalog: LiveCatalog) -> Callable[[], dict[str, Limit]]:
    """The limits of the catalog's snapshot in force, each time asked (worked out once per
    snapshot: the dispatcher asks fifty times a second)."""
    made: list[tuple[Catalog, dict[str, Limit]]] = []

    def limits() -> dict[str, Limit]:
        current = catalog.current
        if not made or made[0][0] is not current:
            made[:] = [(current, limits_of(current.settings, current.removed))]
        return made[0][1]

    return limits


def pace_keys() -> PaceKeys | None:
    """The pacer's keys on this process's broker (none without a Redis broker)."""
    broker = broker_setup.installed()
    if not isinstance(broker, RedisBroker):
        return None
    return PaceKeys(broker.namespace)


def pacing_release(integration: str) -> Release | None:
    """What a begin tells the pacer when it takes up one of `integration`'s paced records:
    one fewer on its way, and the integration's turn comes now (runs/scripts/begin.lua)."""
    keys = pace_keys()
    if keys is None:
        return None
    return Release(count=keys.outstanding(integration), turns=keys.due, turn=integration)


class Dispatcher:
    """The release loop of one process."""

    def __init__(
        self,
        pacer: Pacer,
        *,
        limiter_prefix: str,
        limits: Callable[[], Mapping[str, Limit]],
    ) -> None:
        self.pacer = pacer
        self.limiter_prefix = limiter_prefix
        # Asked every loop: the catalog's limits follow added, changed and removed
        # integrations; written to Redis when they differ, and every LIMITS_EVERY_SECONDS.
        self.limits = limits
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="pacing-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(redis.RedisError):
            self.pacer.resign(self.holder)

    def run(self) -> None:
        limits_at = renewed_at = -LEASE_SECONDS
        leading = False
        published: Mapping[str, Limit] = {}
        while not self._stop.is_set():
            try:
                if time.monotonic() - renewed_at >= RENEW_SECONDS:
                    leading = self.pacer.lead(self.holder, LEASE_SECONDS)
                    renewed_at = time.monotonic()
                if not leading:
                    self._stop.wait(RENEW_SECONDS)
                    continue
                limits = self.limits()
                if limits is not published or time.monotonic() - limits_at > LIMITS_EVERY_SECONDS:
                    self.pacer.publish_limits(limits)
                    published, limits_at = limits, time.monotonic()
                released = self.pacer.release(self.limiter_prefix)
            except redis.RedisError as error:
                log.warning("pacing.redis_fault", error_type=type(error).__name__)
                self._stop.wait(FAULT_PAUSE_SECONDS)
                continue
            pause = MAX_SLEEP_SECONDS if released.next_in is None else released.next_in
            self._stop.wait(min(MAX_SLEEP_SECONDS, max(MIN_SLEEP_SECONDS, pause)))


class PacingDispatcher(Middleware):
    """Runs a `Dispatcher` in each worker process of a Redis broker, with the settings and
    rate limiter of the process's worker context (`context()`)."""

    def __init__(self, context: Callable[[], WorkerContext]) -> None:
        self.context = context
        self.dispatcher: Dispatcher | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, RedisBroker):
            return
        ctx = self.context()
        self.dispatcher = Dispatcher(
            Pacer(broker), limiter_prefix=ctx.limiter.key(""), limits=catalog_limits(ctx.catalog)
        )
        self.dispatcher.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()

"""Run the Redis broker's maintenance on a timer in each worker process.

Dramatiq's Redis broker puts a dead worker's unacknowledged messages back on their queues only
in its maintenance, which runs by chance with a command on the same queue (`maintenance_chance`
per million). On a quiet queue that can take many minutes, longer than the
`dead_worker_after_seconds` the operator set. A worker process that runs it every quarter of
that time hands a dead worker's records to a live one soon after they count as dead.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import dramatiq
import redis
import structlog
from dramatiq.middleware import Middleware

from payroll_sync.queue.broker import MaintainedRedisBroker

#: Bounds on the interval, a quarter of the broker's heartbeat timeout.
MIN_INTERVAL_SECONDS: Final = 1.0
MAX_INTERVAL_SECONDS: Final = 15.0

log = structlog.get_logger("payroll_sync.queue")


def interval_for(heartbeat_timeout_ms: float) -> float:
    return min(MAX_INTERVAL_SECONDS, max(MIN_INTERVAL_SECONDS, heartbeat_timeout_ms / 4000.0))


class TimelyMaintenance(Middleware):
    """A daemon thread per worker process, started with the worker and stopped with it."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        if not isinstance(broker, MaintainedRedisBroker) or self._thread is not None:
            return
        self._stop.clear()
        interval = interval_for(float(broker.heartbeat_timeout))
        self._thread = threading.Thread(
            target=self._run, args=(broker, interval), name="broker-maintenance", daemon=True
        )
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._stop.set()
        self._thread = None

    def _run(self, broker: MaintainedRedisBroker, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                broker.maintain()
            except redis.RedisError as error:  # Redis away: the next turn tries again
                log.warning("broker.maintenance_failed", error_type=type(error).__name__)

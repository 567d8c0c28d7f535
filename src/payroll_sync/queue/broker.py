"""The Dramatiq broker, set up once per process before any actor module is imported.

Production and tests use Redis (`RedisBroker`, its keys under a namespace of their own); the
demo on a machine without Redis uses the `StubBroker` and an in-process worker. A process that
only sends (CLI, scheduler, intake, dashboard) gets its broker from `current()`.
"""

from __future__ import annotations

import threading
from typing import Final

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from payroll_sync import config
from payroll_sync.logs import configure_logging
from payroll_sync.queue.redis_clients import sync_client
from payroll_sync.schemas.settings import Worker

EMPLOYEE_QUEUE: Final = "employees"
ABSENCE_QUEUE: Final = "absences"
#: Sync requests published by upstream systems (worker/requests.py handles them).
REQUEST_QUEUE: Final = "requests"

_installed: dramatiq.Broker | None = None


def broker_namespace(prefix: str) -> str:
    """Where the broker's queues live in Redis: beside the run store's keys, not under them."""
    return f"{prefix}-dramatiq"


class MaintainedRedisBroker(RedisBroker):
    """Dramatiq's Redis broker, whose maintenance can also be run on demand.

    Maintenance (in the broker's Lua dispatch script) is what puts a dead worker's unacknowledged
    messages back on their queue, one queue at a time, but it runs only by chance with some
    command on that queue: an idle worker may not run it on a quiet queue for minutes.
    `maintain()` runs it on every queue now (queue/maintenance.py calls it on a timer).
    """

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[no-untyped-call]
        self._forced = threading.local()

    def _should_do_maintenance(self, command: str) -> int:
        if getattr(self._forced, "on", False):
            return 1
        return int(super()._should_do_maintenance(command))

    def maintain(self) -> None:
        """Run maintenance on each declared queue and delay queue (with the read-only `qsize`)."""
        self._forced.on = True
        try:
            for queue in sorted(self.queues | self.delay_queues):
                self.do_qsize(queue)
        finally:
            self._forced.on = False


def redis_broker(redis_url: str, *, prefix: str, policy: Worker) -> MaintainedRedisBroker:
    return MaintainedRedisBroker(
        # A client that retries through a short outage (queue/redis_clients.py).
        client=sync_client(redis_url),
        namespace=broker_namespace(prefix),
        heartbeat_timeout=int(policy.dead_worker_after_seconds * 1000),
        maintenance_chance=policy.broker_maintenance_chance,
    )


def install(broker: dramatiq.Broker) -> dramatiq.Broker:
    """Make `broker` the process's broker, with the AsyncIO middleware our actors need."""
    global _installed
    if not any(isinstance(item, AsyncIO) for item in broker.middleware):
        broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)
    _installed = broker
    return broker


def install_stub() -> StubBroker:
    broker = StubBroker()
    install(broker)
    return broker


def installed() -> dramatiq.Broker | None:
    return _installed


def current() -> dramatiq.Broker:
    """The process's broker: the one installed, else the Redis broker the environment names."""
    if _installed is not None:
        return _installed
    configure_logging()
    env = config.environment()
    settings = config.load_settings(env.config_path)
    return install(redis_broker(env.redis_url, prefix=env.prefix, policy=settings.worker))

"""The Dramatiq broker, set up once per process before any actor module is imported.

Production and tests use Redis (`RedisBroker`, its keys under a namespace of their own); the
demo on a machine without Redis uses the `StubBroker` and an in-process worker. A process that
only sends (CLI, scheduler, intake, dashboard) gets its broker from `current()`.
"""

from __future__ import annotations

from typing import Final

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from payroll_sync import config
from payroll_sync.logs import configure_logging
from payroll_sync.schemas.settings import Worker

EMPLOYEE_QUEUE: Final = "employees"
ABSENCE_QUEUE: Final = "absences"
#: Sync requests published by upstream systems (worker/requests.py handles them).
REQUEST_QUEUE: Final = "requests"

_installed: dramatiq.Broker | None = None


def broker_namespace(prefix: str) -> str:
    """Where the broker's queues live in Redis: beside the run store's keys, not under them."""
    return f"{prefix}-dramatiq"


def redis_broker(redis_url: str, *, prefix: str, policy: Worker) -> RedisBroker:
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=redis_url,
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

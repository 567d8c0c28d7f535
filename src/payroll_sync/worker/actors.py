"""The Dramatiq actors: thin, everything they do lives in `process_task`.

Importing this module sets up the broker from the environment unless one is installed already
(the demo installs a StubBroker first), so `dramatiq payroll_sync.worker.actors` just works.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import dramatiq
import redis.asyncio as aioredis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import Middleware

from payroll_sync import config
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.send import ABSENCE_ACTOR, EMPLOYEE_ACTOR, REQUEST_ACTOR, send_again
from payroll_sync.worker import requests
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.dispatch import PacingDispatcher
from payroll_sync.worker.process_task import process_task

# Enough for the slowest record (a few requests, each with its own timeout, plus rate waits).
TIME_LIMIT_MS: Final = 10 * 60 * 1000

_context: WorkerContext | None = None
_context_lock = asyncio.Lock()


def use_context(context: WorkerContext | None) -> None:
    """Hand the actors a ready context (the demo and in-process tests do)."""
    global _context
    _context = context


def _ensure_context() -> WorkerContext:
    """The context handed over, else one from the environment (connecting only when used)."""
    global _context
    if _context is None:
        env = config.environment()
        settings = config.load_settings(env.config_path)
        redis = aioredis.Redis.from_url(env.redis_url)
        _context = WorkerContext(settings=settings, redis=redis, prefix=env.prefix, env=None)
    return _context


async def _current_context() -> WorkerContext:
    async with _context_lock:
        return _ensure_context()


class CloseContext(Middleware):
    """Close the process's HTTP session and Redis connections on shutdown."""

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop_thread = get_event_loop_thread()
        if _context is not None and loop_thread is not None:
            loop_thread.run_coroutine(_context.close())


broker = broker_setup.current()
broker.add_middleware(CloseContext())
# Releases each integration's paced records at its own rate (worker/dispatch.py).
broker.add_middleware(PacingDispatcher(_ensure_context))


@dramatiq.actor(
    broker=broker,
    actor_name=EMPLOYEE_ACTOR,
    queue_name=broker_setup.EMPLOYEE_QUEUE,
    max_retries=0,
    time_limit=TIME_LIMIT_MS,
)
async def sync_employee_task(body: str) -> None:
    ctx = await _current_context()
    await process_task(body, kind="employees", ctx=ctx, send_again=send_again)


@dramatiq.actor(
    broker=broker,
    actor_name=ABSENCE_ACTOR,
    queue_name=broker_setup.ABSENCE_QUEUE,
    max_retries=0,
    time_limit=TIME_LIMIT_MS,
)
async def sync_absence_task(body: str) -> None:
    ctx = await _current_context()
    await process_task(body, kind="absences", ctx=ctx, send_again=send_again)


# Sync requests published to the `requests` queue (upstream systems); see worker/requests.py.
@dramatiq.actor(broker=broker, actor_name=REQUEST_ACTOR, **requests.ACTOR_OPTIONS)
async def submit_sync_request(body: str) -> None:
    await requests.handle_sync_request(body, ctx=await _current_context())

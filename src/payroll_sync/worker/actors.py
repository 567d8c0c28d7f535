"""The Dramatiq actors: thin, everything they do lives in `process_task`.

Importing this module sets up the broker from the environment unless one is installed already
(the demo installs a StubBroker first), so `dramatiq payroll_sync.worker.actors` just works.

Around each record: a graceful stop (worker/stopping.py) and patience with Redis. The worker's
own Redis client retries until Redis answers (queue/redis_clients.py); an error of the broker's
client, which gives up after about a minute, does not escape to Dramatiq, which would
dead-letter the message (`max_retries=0`): the record runs again once Redis answers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Final

import dramatiq
import msgspec
import structlog
from dramatiq.asyncio import get_event_loop_thread

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.metrics import worker as worker_metrics
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.maintenance import TimelyMaintenance
from payroll_sync.queue.redis_clients import FOREVER, UNAVAILABLE, async_client
from payroll_sync.queue.send import ABSENCE_ACTOR, EMPLOYEE_ACTOR, REQUEST_ACTOR, send_again
from payroll_sync.schemas.messages import SyncKind, decode_task
from payroll_sync.schemas.settings import Worker
from payroll_sync.worker import requests
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.dispatch import PacingDispatcher
from payroll_sync.worker.process_task import REQUEUE_SLACK_SECONDS, process_task
from payroll_sync.worker.stopping import GracefulStop, InFlight

# Enough for the slowest record (a few requests, each with its own timeout, plus rate waits).
TIME_LIMIT_MS: Final = 10 * 60 * 1000
#: Waits between runs of a record while Redis does not answer: doubling up to the cap.
REDIS_FIRST_WAIT_SECONDS: Final = 1.0
REDIS_MAX_WAIT_SECONDS: Final = 30.0

log = structlog.get_logger("payroll_sync.worker")

_context: WorkerContext | None = None
# The pacer's boot hook (main thread) and the first records (event-loop thread) may both ask.
_context_lock = threading.Lock()
_in_flight = InFlight()


def use_context(context: WorkerContext | None) -> None:
    """Hand the actors a ready context (the demo and in-process tests do)."""
    global _context
    _context = context


async def _open_context() -> WorkerContext:
    """The context from the environment, on the worker's event loop: the catalog (its database
    pool belongs to this loop) and the task that keeps it current."""
    env = config.environment()
    catalog = await LiveCatalog.open(env)
    redis = async_client(env.redis_url, retries=FOREVER)
    context = WorkerContext(catalog=catalog, redis=redis, prefix=env.prefix)
    context.start_refreshing()
    return context


def _ensure_context() -> WorkerContext:
    """The context handed over, else one from the environment, opened on the event loop's
    thread. Never called on that thread itself (it would wait for itself)."""
    global _context
    with _context_lock:
        if _context is None:
            loop_thread = get_event_loop_thread()
            if loop_thread is None:
                raise RuntimeError("the AsyncIO middleware's event loop is not running")
            _context = loop_thread.run_coroutine(_open_context())
        return _context


async def _current_context() -> WorkerContext:
    if _context is not None:
        return _context
    # Opened on the loop, from another thread, while this coroutine lets the loop run.
    return await asyncio.to_thread(_ensure_context)


def _stop_timeout() -> float:
    settings = _context.settings if _context is not None else None
    return (settings.worker if settings is not None else Worker()).stop_timeout_seconds


def _close_context() -> None:
    """Close the process's HTTP session and Redis connections (after the last record)."""
    loop_thread = get_event_loop_thread()
    if _context is not None and loop_thread is not None:
        loop_thread.run_coroutine(_context.close())


broker = broker_setup.current()
broker.add_middleware(TimelyMaintenance())
broker.add_middleware(GracefulStop(_in_flight, timeout=_stop_timeout, close=_close_context))
# Releases each integration's paced records at its own rate (worker/dispatch.py).
broker.add_middleware(PacingDispatcher(_ensure_context))
if worker_metrics.enabled():
    # Dramatiq's queue metrics, and the one server of every process's (metrics/worker.py).
    broker.add_middleware(worker_metrics.queue_metrics())


async def _hand_back(body: str, kind: SyncKind, ctx: WorkerContext, *, started: bool) -> None:
    """Put the record back on the queue for another worker, as it came (same attempt);
    `started`: it had begun (and was cancelled), else it was taken up after the stop began."""
    try:
        task = decode_task(body, kind)
    except msgspec.DecodeError:
        # Nothing to hand back: process_task says so in its log and drops it.
        await process_task(body, kind=kind, ctx=ctx, send_again=send_again)
        return
    due = time.time() + REQUEUE_SLACK_SECONDS
    await ctx.store.expect(task.run_id, task.key, due=due)
    await send_again(task, 0.0)
    log.info(
        "record.handed_back",
        integration=task.integration,
        run_id=task.run_id,
        employee_number=task.employee_number,
        attempt=task.attempt,
        started=started,
    )


async def _patiently(run: Callable[[], Awaitable[object]]) -> None:
    """Run `run` again whenever Redis does not answer, waiting longer each time."""
    wait = REDIS_FIRST_WAIT_SECONDS
    while True:
        try:
            await run()
            return
        except UNAVAILABLE as error:
            log.warning(
                "worker.redis_unavailable", error_type=type(error).__name__, retry_in_s=wait
            )
        await asyncio.sleep(wait)
        wait = min(wait * 2, REDIS_MAX_WAIT_SECONDS)


async def _sync_record(body: str, kind: SyncKind) -> None:
    task = asyncio.current_task()
    assert task is not None
    ctx = await _current_context()
    if _in_flight.stopping:
        # Taken off the queue after the stop began: not started, so back it goes.
        await _patiently(lambda: _hand_back(body, kind, ctx, started=False))
        return
    _in_flight.add(task)
    try:
        await _patiently(lambda: process_task(body, kind=kind, ctx=ctx, send_again=send_again))
    except asyncio.CancelledError:
        if not _in_flight.handing_back():
            raise  # Dramatiq's time limit, not our stop
        task.uncancel()
        await _patiently(lambda: _hand_back(body, kind, ctx, started=True))
    finally:
        _in_flight.discard(task)


@dramatiq.actor(
    broker=broker,
    actor_name=EMPLOYEE_ACTOR,
    queue_name=broker_setup.EMPLOYEE_QUEUE,
    max_retries=0,
    time_limit=TIME_LIMIT_MS,
)
async def sync_employee_task(body: str) -> None:
    await _sync_record(body, "employees")


@dramatiq.actor(
    broker=broker,
    actor_name=ABSENCE_ACTOR,
    queue_name=broker_setup.ABSENCE_QUEUE,
    max_retries=0,
    time_limit=TIME_LIMIT_MS,
)
async def sync_absence_task(body: str) -> None:
    await _sync_record(body, "absences")


# Sync requests published to the `requests` queue (upstream systems); see worker/requests.py.
@dramatiq.actor(broker=broker, actor_name=REQUEST_ACTOR, **requests.ACTOR_OPTIONS)
async def submit_sync_request(body: str) -> None:
    await requests.handle_sync_request(body, ctx=await _current_context())

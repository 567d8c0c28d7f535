"""The scheduler process: every few seconds, fire the slots that are due.

One pass (`Scheduler.tick`):
1. look for changed integrations (the live catalog: the settings file, or the registry); an
   added or changed schedule counts from this pass, a removed integration's is forgotten;
2. look for slots in (last checked, now] of every enabled schedule (`slots.due_slots`), where
   "last checked" is shared in Redis, so after a restart the gap holds the slots missed while
   every scheduler was down;
3. take each due slot's lock (SET NX): the one process that gets it fires the slot (submits its
   sync requests) or, when it is 6 hours late or more, logs it as skipped;
4. record "now" as last checked.

Submissions run beside the loop (a bulk read per request can take a while) and at most
`max_concurrent` at once; on stop the scheduler waits for those in flight. A slot whose lock was
taken is never fired again, even when its submission fails (`schedule.failed` says why): the
next slot, or a manual sync, picks the work up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import redis.asyncio as aioredis
import structlog

from payroll_sync.alerts.loop import AlertLoop
from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.errors import RequestRefused, SyncError
from payroll_sync.producer.producer import Producer, Submit
from payroll_sync.runs.recovery import recovery_loop
from payroll_sync.scheduler.requests import slot_requests
from payroll_sync.scheduler.slots import MAX_LATE, Due, due_slots, first_run, next_slot_at
from payroll_sync.scheduler.state import Claim, ScheduleState
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Schedule, Settings

log = structlog.get_logger("payroll_sync.scheduler")

#: Seconds between passes (`payroll-sync scheduler --interval`).
DEFAULT_INTERVAL: Final = 5.0
#: Submissions in flight at once (each opens its own HTTP session and reads in bulk).
DEFAULT_MAX_CONCURRENT: Final = 4

Clock = Callable[[], datetime.datetime]


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Pass:
    """What one pass did (for tests and the loop's own bookkeeping)."""

    fired: list[tuple[str, str]] = field(default_factory=list)  # (integration, slot key)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    switched_on: list[str] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        *,
        catalog: LiveCatalog,
        state: ScheduleState,
        submit: Submit,  # `Producer.submit`: one request, with the settings in force
        clock: Clock = utc_now,
        owner: str | None = None,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    ) -> None:
        self.catalog = catalog
        self.state = state
        self._submit = submit
        self._clock = clock
        self.owner = owner or default_owner()
        self._slots = asyncio.Semaphore(max_concurrent)
        self._in_flight: set[asyncio.Task[None]] = set()

    def _now(self) -> datetime.datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the scheduler's clock must return an aware datetime")
        return now.astimezone(datetime.UTC)

    async def tick(self) -> Pass:
        """One pass: reload, find due slots, claim and fire them, record the time checked."""
        if await self.catalog.refresh():
            _log_reloaded(self.catalog.settings)
        settings = self.catalog.settings
        now = self._now()
        since = await self.state.last_checked() or now
        on_record = await self.state.enabled_since()
        scheduled = {
            name: item.schedule
            for name, item in settings.integrations.items()
            if item.schedule.enabled
        }
        await self.state.forget(name for name in on_record if name not in scheduled)
        done = Pass()
        for name, schedule in sorted(scheduled.items()):
            switched_on_at = on_record.get(name)
            if switched_on_at is None:
                switched_on_at = await self.state.mark_enabled(name, now)
                done.switched_on.append(name)
                log.info(
                    "schedule.enabled",
                    integration=name,
                    first_run=first_run(switched_on_at).oslo.isoformat(),
                )
            for due in due_slots(schedule, since=since, now=now, switched_on_at=switched_on_at):
                await self._handle(name, schedule, due, settings, now, done)
        await self.state.set_checked(now)
        return done

    async def _handle(
        self,
        name: str,
        schedule: Schedule,
        due: Due,
        settings: Settings,
        now: datetime.datetime,
        done: Pass,
    ) -> None:
        claim = Claim(by=self.owner, action="fire" if due.fire else "skip", at=now.timestamp())
        if not await self.state.claim(name, due.slot, claim):
            return  # another scheduler process has this slot
        if not due.fire:
            done.skipped.append((name, due.slot.key))
            log.warning(
                "schedule.skipped",
                integration=name,
                slot=due.slot.key,
                due_at=due.slot.oslo.isoformat(),
                late_seconds=int(due.late.total_seconds()),
                reason=f"{_hours(due.late)} late (the limit is {_hours(MAX_LATE)})",
            )
            return
        done.fired.append((name, due.slot.key))
        requests = slot_requests(name, schedule, due.slot)
        if not requests:
            log.warning(
                "schedule.nothing_to_sync",
                integration=name,
                slot=due.slot.key,
                reason="the schedule syncs neither employees nor absences",
            )
            return
        task = asyncio.create_task(self._fire(name, due, requests, settings))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _fire(
        self, name: str, due: Due, requests: list[SyncRequest], settings: Settings
    ) -> None:
        async with self._slots:
            # One kind failing (e.g. absences refused) does not keep the other from running.
            for request in requests:
                context = {
                    "integration": name,
                    "slot": due.slot.key,
                    "kind": request.kind,
                    "first_run": due.slot.first_run,
                }
                try:
                    expansion = await self._submit(request, settings)
                except SyncError as error:
                    log.error("schedule.failed", **context, reason=error.reason)
                except RequestRefused as error:
                    log.error("schedule.failed", **context, reason=str(error))
                except Exception as error:
                    # Anything else may carry a URL or a response in its text: the type only.
                    log.error("schedule.failed", **context, reason=type(error).__name__)
                else:
                    log.info(
                        "schedule.fired",
                        **context,
                        run_id=expansion.run_id,
                        late_seconds=int(due.late.total_seconds()),
                    )

    async def drain(self) -> None:
        """Wait for the submissions in flight."""
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight), return_exceptions=True)

    async def run(self, stop: asyncio.Event, *, interval: float = DEFAULT_INTERVAL) -> None:
        """Pass after pass until `stop` is set; then wait for the submissions in flight."""
        log.info("scheduler.started", owner=self.owner, interval=interval)
        while not stop.is_set():
            try:
                await self.tick()
            except (aioredis.RedisError, OSError) as error:
                # Redis away for a moment: try again next pass; "last checked" was not moved,
                # so nothing due in the meantime is lost.
                log.error("scheduler.pass_failed", reason=type(error).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
        log.info("scheduler.stopping", owner=self.owner, in_flight=len(self._in_flight))
        await self.drain()
        log.info("scheduler.stopped", owner=self.owner)


def _log_reloaded(settings: Settings) -> None:
    scheduled = [name for name, item in settings.integrations.items() if item.schedule.enabled]
    log.info(
        "schedule.reloaded",
        integrations=len(settings.integrations),
        # Names only while they are few: a registry holds thousands.
        scheduled=sorted(scheduled) if len(scheduled) <= 20 else len(scheduled),
    )


def _hours(late: datetime.timedelta) -> str:
    minutes = int(late.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


async def run_scheduler(
    *,
    env: Environment,
    interval: float,
    stop: asyncio.Event,
    catalog: LiveCatalog | None = None,
) -> None:
    """The production wiring: the live catalog, Redis, the `Producer`; runs until `stop`."""
    catalog = catalog or await LiveCatalog.open(env)
    prefix = env.prefix
    redis = aioredis.Redis.from_url(env.redis_url)
    try:
        await redis.ping()
        producer = Producer(redis, prefix, tokens=catalog)
        state = ScheduleState(redis, prefix=prefix)
        scheduler = Scheduler(catalog=catalog, state=state, submit=producer.submit)
        # Alerts per integration (alerts/loop.py), on the same catalog and slots.
        alerts = AlertLoop(
            catalog=catalog,
            redis=redis,
            prefix=prefix,
            next_slot=next_slot_at,
            enabled_since=state.enabled_since,
        )
        # The scheduler also watches for records whose message was lost (runs/recovery.py).
        await asyncio.gather(
            scheduler.run(stop, interval=interval),
            recovery_loop(
                producer.store, redis, enqueue=producer.enqueue, stop=stop, clock=time.time
            ),
            alerts.run(stop),
        )
    finally:
        await redis.aclose()
        await catalog.close()

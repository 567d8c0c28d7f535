"""The alerts' evaluation loop, run by the scheduler process beside its own.

One pass (`AlertLoop.tick`):
1. read the integrations (the live catalog the scheduler keeps current) and their recent runs
   (reading.py: a bounded window, pipelined);
2. for each integration and condition, the rules say holds / not / cannot tell; a condition
   that holds opens an incident unless one is open, one that stopped holding resolves it
   (store.py: atomic, so two scheduler processes make one transition); an integration gone
   from the catalog has its incidents resolved;
3. set the `payroll_sync_alert_open` gauge from the incidents open;
4. send what the outbox holds, oldest first; a failed call stays for the next pass, and an
   incident's later call waits for its earlier one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import aiohttp
import redis.asyncio as aioredis
import structlog

from payroll_sync.alerts import rules
from payroll_sync.alerts.metrics import ALERT_OPEN, WEBHOOK_DELIVERIES
from payroll_sync.alerts.reading import recent_runs
from payroll_sync.alerts.rules import CONDITIONS, Finding, NextSlot
from payroll_sync.alerts.store import Incident, IncidentStore
from payroll_sync.alerts.webhook import message, post, webhook_url
from payroll_sync.catalog import LiveCatalog
from payroll_sync.runs.keys import Keys
from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Integration, Settings

log = structlog.get_logger("payroll_sync.alerts")

#: Runs read: created within stale_hours and this much more (the last few runs of a daily
#: schedule; the latest run of each kind is read whatever its age).
WINDOW_MARGIN: Final = datetime.timedelta(hours=24)

Clock = Callable[[], datetime.datetime]
#: When each schedule was first seen switched on (the scheduler's `ScheduleState.enabled_since`).
EnabledSince = Callable[[], Awaitable[dict[str, datetime.datetime]]]


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass
class Pass:
    """What one pass did (for tests)."""

    opened: list[Incident] = field(default_factory=list)
    resolved: list[Incident] = field(default_factory=list)
    sent: int = 0
    failed: int = 0


class AlertLoop:
    def __init__(
        self,
        *,
        catalog: LiveCatalog,
        redis: aioredis.Redis,
        prefix: str,
        next_slot: NextSlot,
        enabled_since: EnabledSince,
        environ: Mapping[str, str] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.catalog = catalog
        self.redis = redis
        self.keys = Keys(prefix)
        self.store = IncidentStore(redis, prefix=prefix)
        self._next_slot = next_slot
        self._enabled_since = enabled_since
        self._environ = environ
        self._clock = clock
        self._gauged: set[tuple[str, str]] = set()

    def _now(self) -> datetime.datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the alerts' clock must return an aware datetime")
        return now.astimezone(datetime.UTC)

    async def tick(self, session: aiohttp.ClientSession) -> Pass:
        done = await self.evaluate()
        await self.deliver(session, done)
        return done

    # ------------------------------------------------------------------ conditions

    async def evaluate(self) -> Pass:
        settings = self.catalog.settings
        now = self._now()
        limits = settings.alerts
        window = datetime.timedelta(hours=limits.stale_hours) + WINDOW_MARGIN
        names = sorted(settings.integrations)
        runs = await recent_runs(self.redis, self.keys, names, since=(now - window).timestamp())
        switched_on = await self._enabled_since()
        references = await self.store.references()
        moved: dict[str, float] = {}
        done = Pass()
        for name in names:
            integration = settings.integrations[name]
            reference = self._reference(name, integration, runs[name], references, now, window)
            if reference is not None and reference != references.get(name):
                moved[name] = reference
            findings = self._findings(
                integration, runs[name], now, reference, switched_on.get(name), settings
            )
            for finding in findings:
                await self._apply(name, finding, now.timestamp(), done)
        forget = [name for name in references if name not in _on(settings)]
        await self.store.save_references(moved, forget)
        await self._resolve_removed(set(names), now.timestamp(), done)
        await self._gauge(names)
        return done

    def _reference(
        self,
        name: str,
        integration: Integration,
        runs: list[Run],
        references: dict[str, float],
        now: datetime.datetime,
        window: datetime.timedelta,
    ) -> float | None:
        """The latest scheduled finish known, or when watching began; None: not scheduled."""
        if not integration.schedule.enabled:
            return None
        known = references.get(name, (now - window).timestamp())
        return max(known, rules.last_scheduled_finish(runs))

    def _findings(
        self,
        integration: Integration,
        runs: list[Run],
        now: datetime.datetime,
        reference: float | None,
        switched_on_at: datetime.datetime | None,
        settings: Settings,
    ) -> list[Finding]:
        since = reference if reference is not None else now.timestamp()
        if switched_on_at is not None:
            since = max(since, switched_on_at.timestamp())
        elif integration.schedule.enabled:
            # The scheduler has not seen this schedule on yet: it is switched on from now.
            since = now.timestamp()
        return [
            rules.failing(runs, settings.alerts),
            rules.stale(
                runs,
                integration.schedule,
                now=now,
                reference=datetime.datetime.fromtimestamp(since, datetime.UTC),
                switched_on_at=switched_on_at,
                settings=settings.alerts,
                next_slot=self._next_slot,
            ),
        ]

    async def _apply(self, name: str, finding: Finding, now: float, done: Pass) -> None:
        if finding.holds:
            opened = await self.store.open(
                name, finding.condition, now=now, detail=finding.detail, numbers=finding.numbers
            )
            if opened is not None:
                done.opened.append(opened)
                log.warning(
                    "alert.opened",
                    integration=name,
                    condition=finding.condition,
                    incident=opened.id,
                    detail=finding.detail,
                )
        elif finding.holds is False:
            resolved = await self.store.resolve(
                name, finding.condition, now=now, detail=finding.detail
            )
            if resolved is not None:
                done.resolved.append(resolved)
                log.info(
                    "alert.resolved",
                    integration=name,
                    condition=finding.condition,
                    incident=resolved.id,
                    detail=finding.detail,
                )

    async def _resolve_removed(self, names: set[str], now: float, done: Pass) -> None:
        for incident in await self.store.open_incidents():
            if incident.integration in names:
                continue
            resolved = await self.store.resolve(
                incident.integration,
                incident.condition,
                now=now,
                detail="the integration was removed",
            )
            if resolved is not None:
                done.resolved.append(resolved)
                log.info(
                    "alert.resolved",
                    integration=incident.integration,
                    condition=incident.condition,
                    incident=resolved.id,
                    detail="the integration was removed",
                )

    async def _gauge(self, names: list[str]) -> None:
        open_now = {(i.integration, i.condition) for i in await self.store.open_incidents()}
        wanted: set[tuple[str, str]] = {(name, str(c)) for name in names for c in CONDITIONS}
        for labels in self._gauged - wanted:
            with contextlib.suppress(KeyError):
                ALERT_OPEN.remove(*labels)
        for labels in wanted:
            ALERT_OPEN.labels(*labels).set(1 if labels in open_now else 0)
        self._gauged = wanted

    # ------------------------------------------------------------------ webhook

    async def deliver(self, session: aiohttp.ClientSession, done: Pass | None = None) -> Pass:
        done = done or Pass()
        settings = self.catalog.settings.alerts
        url = webhook_url(settings, self._environ if self._environ is not None else os.environ)
        pending = await self.store.pending()
        if not pending:
            return done
        if url is None:
            await self.store.drop(pending)
            WEBHOOK_DELIVERIES.labels("no_webhook").inc(len(pending))
            log.info("alert.not_sent", notifications=len(pending), reason="no webhook URL set")
            return done
        waiting: set[str] = set()  # incidents whose earlier call is not sent yet
        for notification in pending:
            incident = notification.incident.id
            if incident in waiting:
                continue
            if not await self.store.take(notification):
                waiting.add(incident)  # another process is sending it, or has sent it
                continue
            delivery = await post(session, url, message(notification, settings))
            context = {
                "integration": notification.incident.integration,
                "condition": notification.incident.condition,
                "incident": incident,
                "transition": notification.event,
            }
            if delivery.ok:
                await self.store.sent(notification)
                WEBHOOK_DELIVERIES.labels("sent").inc()
                done.sent += 1
                log.info("alert.sent", **context)
            else:
                await self.store.release(notification)
                WEBHOOK_DELIVERIES.labels("failed").inc()
                done.failed += 1
                waiting.add(incident)
                log.warning("alert.send_failed", **context, reason=delivery.result)
        return done

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass, every `[alerts] interval_seconds`, until `stop` is set."""
        # Its start is logged; its stop is the scheduler's (`scheduler.stopped`, the last event).
        log.info("alerts.started")
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                try:
                    await self.tick(session)
                except (aioredis.RedisError, OSError) as error:
                    # Redis away for a moment: the next pass sees the same runs again.
                    log.error("alerts.pass_failed", reason=type(error).__name__)
                except Exception as error:
                    # Alerts never take the scheduler down; the type only, as elsewhere.
                    log.error("alerts.pass_failed", reason=type(error).__name__, unexpected=True)
                interval = self.catalog.settings.alerts.interval_seconds
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)


def _on(settings: Settings) -> set[str]:
    return {name for name, item in settings.integrations.items() if item.schedule.enabled}

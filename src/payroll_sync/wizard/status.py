"""What the wizard API's GET and the dashboard's Integrations page both show of an integration:
its last run and that run's failures, its next scheduled slots on the Oslo clock, and its last
connection check.

`next_slots` is pure (the scheduler's own rules, scheduler/slots.py); `StatusReader` reads the
rest: the run store's per-integration index (`RunStore.last_runs`, two round trips for any number
of integrations), the schedulers' record of when each schedule was switched on, and the
registry's last check (one query per integration, so only for one integration's page).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Mapping
from typing import Any, Final, Protocol

import msgspec

from payroll_sync.catalog import LiveCatalog
from payroll_sync.registry.records import ConnectionCheck, StoredIntegration
from payroll_sync.runs.public import iso_time, run_view
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.slots import upcoming
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Integration, Schedule

#: How many coming slots a page shows ("the next five runs").
NEXT_SLOTS: Final = 5


class Listing(Protocol):
    """What listing needs of the registry (`registry.store.Registry`)."""

    async def list(self) -> list[StoredIntegration]: ...


async def integrations_of(
    registry: Listing | None, catalog: LiveCatalog | None
) -> dict[str, Integration]:
    """Every integration by id: the registry's as stored now (with one), else the settings
    file's as the catalog holds them (without a catalog, none)."""
    if registry is not None:
        return {stored.id: stored.settings for stored in await registry.list()}
    return dict(catalog.settings.integrations) if catalog is not None else {}


class Checks(Protocol):
    """What the status needs of the registry (`registry.store.Registry`)."""

    async def last_check(self, integration_id: str) -> ConnectionCheck | None: ...


class IntegrationStatus(msgspec.Struct, frozen=True, kw_only=True):
    # The latest run of either kind (dry runs too); None when none is kept.
    last_run: Run | None
    # The coming slots on the Oslo clock (aware, +01:00 or +02:00); empty when the schedule is off.
    next_slots: list[datetime.datetime]
    # The last connection check; None when there was none (or it was not read: lists skip it).
    last_check: ConnectionCheck | None = None

    @property
    def failures(self) -> int:
        """Records that failed in the last run."""
        return self.last_run.counts.get("failed", 0) if self.last_run is not None else 0

    @property
    def next_slot(self) -> datetime.datetime | None:
        return self.next_slots[0] if self.next_slots else None


def next_slots(
    schedule: Schedule,
    *,
    now: datetime.datetime,
    switched_on_at: datetime.datetime | None,
    count: int = NEXT_SLOTS,
) -> list[datetime.datetime]:
    """The next `count` slots of `schedule` after `now` as the schedulers will fire them, on the
    Oslo clock; none when it is off. `switched_on_at`: when a scheduler first saw it on (None:
    not yet, and the next pass, seconds away, counts it switched on now)."""
    if not schedule.enabled:
        return []
    slots = upcoming(schedule, now, switched_on_at=switched_on_at or now)
    return [slot.oslo for slot in itertools.islice(slots, count)]


class StatusReader:
    def __init__(
        self, store: RunStore, *, schedules: ScheduleState, checks: Checks | None = None
    ) -> None:
        self.store = store
        self.schedules = schedules
        # None without a registry (the settings file): no check is kept.
        self.checks = checks

    async def one(
        self, integration_id: str, integration: Integration, *, now: datetime.datetime
    ) -> IntegrationStatus:
        """The whole status, its last check included."""
        found = await self.many({integration_id: integration}, now=now)
        check = await self.checks.last_check(integration_id) if self.checks is not None else None
        return msgspec.structs.replace(found[integration_id], last_check=check)

    async def many(
        self, integrations: Mapping[str, Integration], *, now: datetime.datetime
    ) -> dict[str, IntegrationStatus]:
        """Each integration's last run and next slots (no check: a list does not show it)."""
        ids = list(integrations)
        runs = await self.store.last_runs(ids)
        switched_on = await self.schedules.enabled_since()
        return {
            name: IntegrationStatus(
                last_run=runs[name],
                next_slots=next_slots(
                    integrations[name].schedule, now=now, switched_on_at=switched_on.get(name)
                ),
            )
            for name in ids
        }


# ------------------------------------------------------------------ JSON


def check_view(check: ConnectionCheck | None) -> dict[str, Any] | None:
    if check is None:
        return None
    return {
        "checked_at": iso_time(check.checked_at),
        "ok": check.ok,
        "simployer": {"ok": check.simployer.ok, "reason": check.simployer.reason},
        "payroll": {"ok": check.payroll.ok, "reason": check.payroll.reason},
    }


def status_view(status: IntegrationStatus) -> dict[str, Any]:
    """The status as the API shows it: times ISO 8601, slots on the Oslo clock with offset."""
    return {
        "last_run": run_view(status.last_run) if status.last_run is not None else None,
        "failures": status.failures,
        "next_slot": status.next_slot.isoformat() if status.next_slot is not None else None,
        "next_slots": [slot.isoformat() for slot in status.next_slots],
        "last_check": check_view(status.last_check),
    }

"""When scheduled runs fire: pure functions of a `Schedule` and instants, no I/O.

A schedule names wall-clock times on the Oslo clock (weekdays x times). croniter walks those
wall-clock times on naive datetimes, where there is no DST at all; `resolve` then turns each one
into an instant, with the two DST rules spelled out in one place:

- Spring forward (last Sunday of March, 02:00 -> 03:00): a time the clock skips (02:30) fires
  once, at 03:00, when the clock resumes, as cron does. Two times that land on the same instant
  that way (02:30 and 03:00) fire once, under the first one's name.
- Fall back (last Sunday of October, 03:00 -> 02:00): a time in the repeated hour (02:30) fires
  once, at its first occurrence (02:30 +02:00), not again an hour later.

Instants are compared and subtracted in UTC: Python compares two datetimes that share a tzinfo
by their wall-clock fields, which is wrong across a DST change.

A slot's identity (`Slot.key`) is its wall-clock name, "2026-03-29T02:30": the same in every
scheduler process, whatever it resolved to, and what the once-only lock is keyed on.
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

from croniter import croniter

from payroll_sync.schemas.settings import Schedule

OSLO: Final = ZoneInfo("Europe/Oslo")
UTC: Final = datetime.UTC

#: "Shortly after 06:00": the first run of a schedule switched on, the next day (Oslo).
FIRST_RUN_TIME: Final = datetime.time(6, 5)
#: A slot this late (or later) is skipped and logged instead of fired.
MAX_LATE: Final = datetime.timedelta(hours=6)
#: How far back missed slots are looked for: past this they are neither fired nor logged. Longer
#: than MAX_LATE so a long outage still logs what it skipped; bounded so a year-old "last
#: checked" does not walk a year of slots.
LOOKBACK: Final = datetime.timedelta(days=7)

# Wall-clock times walked back from the start so a time moved forward by the spring gap (at
# most an hour in Oslo) is still seen.
_WALL_MARGIN: Final = datetime.timedelta(hours=3)


@dataclass(frozen=True)
class Slot:
    """One firing of a schedule."""

    # The instant it fires (UTC).
    at: datetime.datetime
    # The Oslo wall-clock time the schedule names (naive), e.g. 2026-03-29 02:30.
    wall: datetime.datetime
    # The first run after the schedule was switched on, not one of its weekdays x times.
    first_run: bool = False

    @property
    def key(self) -> str:
        """Stable identity for the once-only lock: the Oslo wall-clock name."""
        return self.wall.strftime("%Y-%m-%dT%H:%M")

    @property
    def oslo(self) -> datetime.datetime:
        """The instant on the Oslo clock, with its offset (+01:00 or +02:00)."""
        return self.at.astimezone(OSLO)


@dataclass(frozen=True)
class Due:
    """A slot whose time has come: fire it, or (`fire` False) skip it as too late."""

    slot: Slot
    late: datetime.timedelta
    fire: bool


def resolve(wall: datetime.datetime) -> datetime.datetime:
    """The instant (UTC) an Oslo wall-clock time fires at; DST rules in the module docstring."""
    probe = wall
    # A skipped time: the first wall-clock minute that exists (gaps are whole minutes).
    while not _exists(probe):
        probe += datetime.timedelta(minutes=1)
    # fold=0 is the first occurrence of a repeated time.
    return probe.replace(tzinfo=OSLO, fold=0).astimezone(UTC)


def _exists(wall: datetime.datetime) -> bool:
    there_and_back = wall.replace(tzinfo=OSLO).astimezone(UTC).astimezone(OSLO)
    return there_and_back.replace(tzinfo=None) == wall


def _utc(instant: datetime.datetime) -> datetime.datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {instant.isoformat()}")
    return instant.astimezone(UTC)


def _walls(schedule: Schedule, start: datetime.datetime) -> Iterator[datetime.datetime]:
    """The schedule's Oslo wall-clock times after `start` (naive), in order, without repeats."""
    if not schedule.weekdays or not schedule.times:
        return
    days = ",".join(dict.fromkeys(schedule.weekdays))
    walkers = []
    for clock in sorted(set(schedule.times)):
        hour, minute = clock.split(":")
        walkers.append(_walk(f"{int(minute)} {int(hour)} * * {days}", start))
    previous: datetime.datetime | None = None
    for wall in heapq.merge(*walkers):
        if wall != previous:
            yield wall
        previous = wall


def _walk(expression: str, start: datetime.datetime) -> Iterator[datetime.datetime]:
    walker = croniter(expression, start)
    while True:
        yield walker.get_next(datetime.datetime)


def regular_slots(schedule: Schedule, after: datetime.datetime) -> Iterator[Slot]:
    """The schedule's weekdays x times firing strictly after `after`, endless, in order.

    Ignores `schedule.enabled`: this is what the schedule would do.
    """
    after_utc = _utc(after)
    start = after_utc.astimezone(OSLO).replace(tzinfo=None) - _WALL_MARGIN
    last: datetime.datetime | None = None
    for wall in _walls(schedule, start):
        at = resolve(wall)
        # A skipped time can land on the next time's instant: that instant fires once.
        if at <= after_utc or (last is not None and at <= last):
            continue
        last = at
        yield Slot(at=at, wall=wall)


def next_fire_times(
    schedule: Schedule, after: datetime.datetime, count: int
) -> list[datetime.datetime]:
    """The next `count` fire times of the regular schedule after `after`, on the Oslo clock."""
    slots = regular_slots(schedule, after)
    return [next(slots).oslo for _ in range(count)] if schedule.weekdays and schedule.times else []


def first_run(switched_on_at: datetime.datetime) -> Slot:
    """A schedule switched on at `switched_on_at` first fires shortly after 06:00 the next day."""
    day = _utc(switched_on_at).astimezone(OSLO).date() + datetime.timedelta(days=1)
    wall = datetime.datetime.combine(day, FIRST_RUN_TIME)
    return Slot(at=resolve(wall), wall=wall, first_run=True)


def upcoming(
    schedule: Schedule,
    after: datetime.datetime,
    *,
    switched_on_at: datetime.datetime | None,
) -> Iterator[Slot]:
    """Every slot after `after`: the first run after switching on, then the regular ones.

    No regular slot before the first run fires; one at the first run's own time is the first run.
    `switched_on_at` None means the schedule has been on since before anything asked about here.
    """
    regular = regular_slots(schedule, after)
    if switched_on_at is None:
        yield from regular
        return
    first = first_run(switched_on_at)
    if first.at > _utc(after):
        yield first
    for slot in regular:
        if slot.at > first.at:
            yield slot


def next_slot_at(
    schedule: Schedule, after: datetime.datetime, switched_on_at: datetime.datetime | None
) -> datetime.datetime | None:
    """When the first slot after `after` fires (the alerts' stale rule), None: it has none."""
    return next(
        (slot.at for slot in upcoming(schedule, after, switched_on_at=switched_on_at)), None
    )


def due_slots(
    schedule: Schedule,
    *,
    since: datetime.datetime,
    now: datetime.datetime,
    switched_on_at: datetime.datetime | None,
) -> list[Due]:
    """The slots in (since, now]: fire those less than MAX_LATE late, skip the rest.

    `since` is when the scheduler last checked; after a restart the gap holds the slots missed
    while it was down. A disabled schedule has none.
    """
    if not schedule.enabled:
        return []
    now_utc = _utc(now)
    start = max(_utc(since), now_utc - LOOKBACK)
    found: list[Due] = []
    for slot in upcoming(schedule, start, switched_on_at=switched_on_at):
        if slot.at > now_utc:
            break
        late = now_utc - slot.at
        found.append(Due(slot=slot, late=late, fire=late < MAX_LATE))
    return found

"""Which alert conditions hold for one integration: pure functions of its recent runs, its
schedule and `now`, no I/O.

`failing`: of the last `last_runs` finished, non-dry runs (status `done`), more than
`failed_percent` of their records failed. Runs held for approval (`awaiting_approval`) or
`cancelled` are not failures and are not counted. Fewer than `min_records` records, or no
finished run at all in what was read, says nothing (None): an open incident stays open, none
opens.

`stale`: the schedule is enabled, a slot came due more than `stale_hours` ago, and no scheduled
run finished (status `done`, not dry, no expansion error) since. The reference point is the
latest such finish known, or, when none is known, when watching began: the later of when the
schedule was switched on (the scheduler's record) and when the alerts first looked at it. So a
new integration gets the grace of `stale_hours` from its first due slot (the scheduler's first
run, shortly after 06:00 the day after switching on). Also `stale`, with its own wording: a run
has waited for approval longer than `stale_hours`, scheduled or not.

Which slots a schedule has is the scheduler's business (scheduler/slots.py, a layer above this
one): the caller hands in `NextSlot`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal
from zoneinfo import ZoneInfo

from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Alerts, Schedule

Condition = Literal["failing", "stale"]
CONDITIONS: Final[tuple[Condition, ...]] = ("failing", "stale")
OSLO: Final = ZoneInfo("Europe/Oslo")

#: The first slot of `schedule` strictly after `after` (an aware datetime), counting the first
#: run after it was switched on at `switched_on_at` (None: on since before anything asked).
NextSlot = Callable[
    [Schedule, datetime.datetime, datetime.datetime | None], datetime.datetime | None
]


@dataclass(frozen=True)
class Finding:
    """A condition's state: holds (True), does not (False) or cannot tell (None).

    `detail` is what the webhook and the dashboard say: counts and times, never a record's
    reason, a name or a value. `numbers` are the same counts, for the dashboard.
    """

    condition: Condition
    holds: bool | None
    detail: str = ""
    numbers: dict[str, float] | None = None


def oslo_text(instant: datetime.datetime) -> str:
    """ "2026-11-29 06:00 Europe/Oslo"."""
    return instant.astimezone(OSLO).strftime("%Y-%m-%d %H:%M") + " Europe/Oslo"


def _at(unix: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC)


def counted_runs(runs: Iterable[Run], last_runs: int) -> list[Run]:
    """The last `last_runs` finished non-dry runs, newest first."""
    finished = [run for run in runs if run.status == "done" and not run.dry_run]
    finished.sort(key=lambda run: (run.finished_at or run.created_at, run.id), reverse=True)
    return finished[:last_runs]


def failing(runs: Sequence[Run], settings: Alerts) -> Finding:
    counted = counted_runs(runs, settings.last_runs)
    records = sum(run.finished for run in counted)
    failed = sum(run.counts.get("failed", 0) for run in counted)
    if not counted or records < settings.min_records:
        return Finding("failing", None)
    plural = "run" if len(counted) == 1 else f"{len(counted)} runs"
    detail = f"{failed} of {records} records failed in the last {plural}"
    numbers: dict[str, float] = {"failed": failed, "records": records, "runs": len(counted)}
    # More than the threshold; compared in whole numbers so 20% of 5 is exactly 1.
    holds = failed * 100 > settings.failed_percent * records
    return Finding("failing", holds, detail, numbers)


def last_scheduled_finish(runs: Iterable[Run]) -> float:
    """When the latest scheduled run that did its work finished (0: none here)."""
    return max(
        (
            run.finished_at
            for run in runs
            if run.trigger == "scheduled"
            and run.status == "done"
            and not run.dry_run
            and not run.error
        ),
        default=0.0,
    )


def stale(
    runs: Sequence[Run],
    schedule: Schedule,
    *,
    now: datetime.datetime,
    reference: datetime.datetime,
    switched_on_at: datetime.datetime | None,
    settings: Alerts,
    next_slot: NextSlot,
) -> Finding:
    """`reference`: the latest scheduled finish known, or when watching began (see above)."""
    limit = datetime.timedelta(hours=settings.stale_hours)
    held = [run.created_at for run in runs if run.status == "awaiting_approval" and not run.dry_run]
    if held and now - _at(min(held)) > limit:
        since = _at(min(held))
        return Finding(
            "stale",
            True,
            f"a run has waited for approval since {oslo_text(since)}",
            {"held_runs": len(held), "since": since.timestamp()},
        )
    if not schedule.enabled:
        return Finding("stale", False)
    latest = max(reference.timestamp(), last_scheduled_finish(runs))
    slot = next_slot(schedule, _at(latest), switched_on_at)
    if slot is None or now - slot <= limit:
        return Finding("stale", False)
    return Finding(
        "stale",
        True,
        f"no scheduled run finished since {oslo_text(slot)}, when one was due",
        {"due_at": slot.timestamp(), "hours": round((now - slot).total_seconds() / 3600, 1)},
    )

"""When scheduled runs fire: tables of schedules, instants and the Oslo times that come out.

Times are written with their UTC offset, as the Oslo clock shows them: "+01:00" is winter time
(CET), "+02:00" summer time (CEST). 2026-03-29 and 2026-10-25 are the DST changes (Sundays).
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest

from payroll_sync.scheduler.requests import slot_requests
from payroll_sync.scheduler.slots import (
    FIRST_RUN_TIME,
    LOOKBACK,
    MAX_LATE,
    OSLO,
    due_slots,
    first_run,
    next_fire_times,
    regular_slots,
    resolve,
    upcoming,
)
from payroll_sync.schemas.messages import Period
from payroll_sync.schemas.settings import Schedule

WEEKDAYS: list[Any] = ["mon", "tue", "wed", "thu", "fri"]
EVERY_DAY: list[Any] = [*WEEKDAYS, "sat", "sun"]


def at(text: str) -> datetime.datetime:
    """An instant from ISO text with its offset."""
    moment = datetime.datetime.fromisoformat(text)
    assert moment.tzinfo is not None, text
    return moment


def schedule(weekdays: list[Any], times: list[str], **extra: Any) -> Schedule:
    return Schedule(enabled=True, weekdays=weekdays, times=times, **extra)


def iso(moments: list[datetime.datetime]) -> list[str]:
    return [moment.isoformat() for moment in moments]


# ------------------------------------------------------------------ next fire times

NEXT_FIRE_TIMES = [
    pytest.param(
        schedule(WEEKDAYS, ["06:00"]),
        "2026-03-27T20:00:00+01:00",  # Friday evening
        ["2026-03-30T06:00:00+02:00", "2026-03-31T06:00:00+02:00"],
        id="friday evening -> monday (and summer time began on the sunday between)",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["06:00"]),
        "2026-11-29T12:00:00+01:00",  # Sunday
        ["2026-11-30T06:00:00+01:00", "2026-12-01T06:00:00+01:00"],
        id="sunday -> monday",
    ),
    pytest.param(
        schedule(["sun"], ["07:00"]),
        "2026-11-23T08:00:00+01:00",  # Monday
        ["2026-11-29T07:00:00+01:00", "2026-12-06T07:00:00+01:00"],
        id="only sunday, asked on a monday",
    ),
    pytest.param(
        schedule(["sun"], ["07:00"]),
        "2026-11-29T07:00:00+01:00",  # Sunday, exactly at the slot
        ["2026-12-06T07:00:00+01:00"],
        id="strictly after: a slot at the asked instant is not next",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["18:30", "06:00", "12:00", "06:00"]),
        "2026-11-24T07:00:00+01:00",  # Tuesday
        [
            "2026-11-24T12:00:00+01:00",
            "2026-11-24T18:30:00+01:00",
            "2026-11-25T06:00:00+01:00",
            "2026-11-25T12:00:00+01:00",
        ],
        id="several times a day, given unsorted and twice",
    ),
    pytest.param(
        schedule(["fri", "mon"], ["23:59"]),
        "2026-11-27T23:59:00+01:00",  # Friday, at the slot
        ["2026-11-30T23:59:00+01:00", "2026-12-04T23:59:00+01:00"],
        id="friday late evening -> monday",
    ),
    # Spring forward, Sunday 2026-03-29: the clock goes 01:59:59 +01:00 -> 03:00:00 +02:00.
    pytest.param(
        schedule(["sun"], ["02:30"]),
        "2026-03-28T12:00:00+01:00",
        ["2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00"],
        id="spring: 02:30 does not exist -> fires once at 03:00",
    ),
    pytest.param(
        schedule(["sun"], ["01:30", "02:00", "02:30", "03:00", "03:30"]),
        "2026-03-29T00:00:00+01:00",
        [
            "2026-03-29T01:30:00+01:00",
            "2026-03-29T03:00:00+02:00",  # 02:00, 02:30 and 03:00 are one instant, fired once
            "2026-03-29T03:30:00+02:00",
            "2026-04-05T01:30:00+02:00",
        ],
        id="spring: times in the gap and at its end fire once together",
    ),
    pytest.param(
        schedule(EVERY_DAY, ["06:00"]),
        "2026-03-28T07:00:00+01:00",
        ["2026-03-29T06:00:00+02:00", "2026-03-30T06:00:00+02:00"],
        id="spring: 06:00 stays 06:00 on the Oslo clock (the offset changes)",
    ),
    # Fall back, Sunday 2026-10-25: the clock goes 02:59:59 +02:00 -> 02:00:00 +01:00.
    pytest.param(
        schedule(["sun"], ["02:30"]),
        "2026-10-24T12:00:00+02:00",
        ["2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00"],
        id="autumn: 02:30 happens twice -> fires once, at the first",
    ),
    pytest.param(
        schedule(["sun"], ["02:30"]),
        "2026-10-25T02:10:00+01:00",  # in the repeated hour, second time round
        ["2026-11-01T02:30:00+01:00"],
        id="autumn: asked during the repeated hour -> not again that day",
    ),
    pytest.param(
        schedule(["sun"], ["01:30", "02:00", "02:59", "03:00"]),
        "2026-10-25T00:00:00+02:00",
        [
            "2026-10-25T01:30:00+02:00",
            "2026-10-25T02:00:00+02:00",
            "2026-10-25T02:59:00+02:00",
            "2026-10-25T03:00:00+01:00",
        ],
        id="autumn: the edges of the repeated hour",
    ),
    pytest.param(
        schedule(EVERY_DAY, ["06:00"]),
        "2026-10-24T07:00:00+02:00",
        ["2026-10-25T06:00:00+01:00", "2026-10-26T06:00:00+01:00"],
        id="autumn: 06:00 stays 06:00 on the Oslo clock",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["06:00"]),
        "2026-11-24T05:00:00Z",  # 06:00 Oslo, given in UTC
        ["2026-11-25T06:00:00+01:00"],
        id="an instant in another zone means the same instant",
    ),
]


@pytest.mark.parametrize(("chosen", "after", "expected"), NEXT_FIRE_TIMES)
def test_next_fire_times(chosen: Schedule, after: str, expected: list[str]) -> None:
    times = next_fire_times(chosen, at(after), len(expected))
    assert iso(times) == expected
    assert all(moment.tzinfo is OSLO for moment in times)


@pytest.mark.parametrize(
    ("weekdays", "times"), [([], ["06:00"]), (WEEKDAYS, []), ([], [])], ids=str
)
def test_a_schedule_without_weekdays_or_times_never_fires(
    weekdays: list[Any], times: list[str]
) -> None:
    assert next_fire_times(schedule(weekdays, times), at("2026-11-24T12:00:00+01:00"), 3) == []


def test_next_fire_times_ignore_enabled_but_due_slots_do_not() -> None:
    off = Schedule(enabled=False, weekdays=WEEKDAYS, times=["06:00"])
    assert iso(next_fire_times(off, at("2026-11-24T12:00:00+01:00"), 1)) == [
        "2026-11-25T06:00:00+01:00"
    ]
    assert (
        due_slots(
            off,
            since=at("2026-11-24T05:00:00+01:00"),
            now=at("2026-11-24T07:00:00+01:00"),
            switched_on_at=None,
        )
        == []
    )


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_fire_times(schedule(WEEKDAYS, ["06:00"]), datetime.datetime(2026, 11, 24), 1)


# ------------------------------------------------------------------ resolve and slot identity

RESOLVE = [
    ("2026-11-24T06:00", "2026-11-24T06:00:00+01:00"),
    ("2026-06-24T06:00", "2026-06-24T06:00:00+02:00"),
    ("2026-03-29T01:59", "2026-03-29T01:59:00+01:00"),
    ("2026-03-29T02:00", "2026-03-29T03:00:00+02:00"),
    ("2026-03-29T02:59", "2026-03-29T03:00:00+02:00"),
    ("2026-03-29T03:00", "2026-03-29T03:00:00+02:00"),
    ("2026-10-25T02:00", "2026-10-25T02:00:00+02:00"),
    ("2026-10-25T02:59", "2026-10-25T02:59:00+02:00"),
    ("2026-10-25T03:00", "2026-10-25T03:00:00+01:00"),
]


@pytest.mark.parametrize(("wall", "expected"), RESOLVE)
def test_resolve_wall_clock_times(wall: str, expected: str) -> None:
    instant = resolve(datetime.datetime.fromisoformat(wall))
    assert instant.tzinfo is datetime.UTC
    assert instant == at(expected)
    assert instant.astimezone(OSLO).isoformat() == expected


def test_a_slot_is_named_by_its_wall_clock_time() -> None:
    slots = regular_slots(schedule(["sun"], ["02:30"]), at("2026-03-28T12:00:00+01:00"))
    moved = next(slots)
    assert moved.key == "2026-03-29T02:30", "the name the schedule gives, not where it landed"
    assert moved.oslo.isoformat() == "2026-03-29T03:00:00+02:00"
    assert next(slots).key == "2026-04-05T02:30"


# ------------------------------------------------------------------ switched on

SWITCHED_ON = [
    pytest.param(
        schedule(WEEKDAYS, ["06:00", "14:00"]),
        "2026-11-24T10:00:00+01:00",  # Tuesday morning
        [
            ("2026-11-25T06:05", True),  # Wednesday's 06:00 does not fire: before the first run
            ("2026-11-25T14:00", False),
            ("2026-11-26T06:00", False),
        ],
        id="switched on during the day -> 06:05 the next day",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["06:00"]),
        "2026-11-24T00:30:00+01:00",  # Tuesday, just after midnight
        [("2026-11-25T06:05", True), ("2026-11-26T06:00", False)],
        id="just after midnight -> still the next day, not today's 06:05",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["06:00"]),
        "2026-11-27T15:00:00+01:00",  # Friday
        [("2026-11-28T06:05", True), ("2026-11-30T06:00", False)],
        id="switched on on a friday -> saturday 06:05, then monday",
    ),
    pytest.param(
        schedule(WEEKDAYS, ["06:05", "08:00"]),
        "2026-11-24T10:00:00+01:00",
        [("2026-11-25T06:05", True), ("2026-11-25T08:00", False)],
        id="a regular slot at 06:05 is the first run, not a second one",
    ),
    pytest.param(
        schedule(["sun"], ["02:30"]),
        "2026-03-28T23:59:00+01:00",  # Saturday before spring forward
        [("2026-03-29T06:05", True), ("2026-04-05T02:30", False)],
        id="switched on before spring forward: its own 02:30 slot is before the first run",
    ),
]


@pytest.mark.parametrize(("chosen", "switched_on", "expected"), SWITCHED_ON)
def test_a_schedule_switched_on_first_runs_shortly_after_six_the_next_day(
    chosen: Schedule, switched_on: str, expected: list[tuple[str, bool]]
) -> None:
    slots = upcoming(chosen, at(switched_on), switched_on_at=at(switched_on))
    found = [(slot.key, slot.first_run) for slot, _ in zip(slots, expected, strict=False)]
    assert found == expected


def test_the_first_run_is_the_constant_on_the_oslo_clock_in_summer_and_winter() -> None:
    assert datetime.time(6, 5) == FIRST_RUN_TIME
    summer = first_run(at("2026-06-10T09:00:00+02:00"))
    winter = first_run(at("2026-12-10T09:00:00+01:00"))
    assert summer.oslo.isoformat() == "2026-06-11T06:05:00+02:00"
    assert winter.oslo.isoformat() == "2026-12-11T06:05:00+01:00"
    assert summer.first_run
    assert winter.first_run


def test_switched_on_at_long_ago_changes_nothing() -> None:
    chosen = schedule(WEEKDAYS, ["06:00"])
    after = at("2026-11-24T10:00:00+01:00")
    long_ago = at("2026-01-01T12:00:00+01:00")
    with_record = itertools.islice(upcoming(chosen, after, switched_on_at=long_ago), 3)
    assert [slot.key for slot in with_record] == [
        "2026-11-25T06:00",
        "2026-11-26T06:00",
        "2026-11-27T06:00",
    ]


# ------------------------------------------------------------------ due, missed and skipped

MISSED = [
    pytest.param(
        "2026-11-24T05:00:00+01:00",
        "2026-11-24T11:59:00+01:00",
        [("2026-11-24T06:00", 5 * 3600 + 59 * 60, True)],
        id="5h59m late: fires",
    ),
    pytest.param(
        "2026-11-24T05:00:00+01:00",
        "2026-11-24T12:00:00+01:00",
        [("2026-11-24T06:00", 6 * 3600, False)],
        id="exactly 6h late: skipped",
    ),
    pytest.param(
        "2026-11-24T05:00:00+01:00",
        "2026-11-24T12:00:01+01:00",
        [("2026-11-24T06:00", 6 * 3600 + 1, False)],
        id="more than 6h late: skipped",
    ),
    pytest.param(
        "2026-11-23T12:00:00+01:00",
        "2026-11-24T09:00:00+01:00",
        [
            ("2026-11-23T18:00", 15 * 3600, False),
            ("2026-11-24T02:30", 6 * 3600 + 30 * 60, False),
            ("2026-11-24T06:00", 3 * 3600, True),
        ],
        id="down overnight: yesterday evening skipped, this morning fires",
    ),
    pytest.param(
        "2026-11-24T06:00:00+01:00",
        "2026-11-24T06:00:05+01:00",
        [],
        id="a slot at 'since' was handled by the pass before",
    ),
    pytest.param(
        "2026-11-24T05:59:58+01:00",
        "2026-11-24T06:00:00+01:00",
        [("2026-11-24T06:00", 0, True)],
        id="a slot at 'now' is due",
    ),
    pytest.param(
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:30+02:00",
        [("2026-03-29T02:30", 30, True)],
        id="spring: the skipped 02:30 is due at 03:00",
    ),
    pytest.param(
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:45:00+01:00",
        [("2026-10-25T02:30", 3600 + 15 * 60, True)],
        id="autumn: 02:30 is due once, at its first occurrence, over the repeated hour",
    ),
    pytest.param(
        "2026-10-25T02:40:00+01:00",
        "2026-10-25T02:50:00+01:00",
        [],
        id="autumn: the second 02:30 is not due",
    ),
]


@pytest.mark.parametrize(("since", "now", "expected"), MISSED)
def test_due_slots_fire_when_less_than_six_hours_late(
    since: str, now: str, expected: list[tuple[str, int, bool]]
) -> None:
    chosen = schedule(EVERY_DAY, ["02:30", "06:00", "18:00"])
    due = due_slots(chosen, since=at(since), now=at(now), switched_on_at=None)
    assert [(d.slot.key, int(d.late.total_seconds()), d.fire) for d in due] == expected


def test_max_late_is_six_hours() -> None:
    assert datetime.timedelta(hours=6) == MAX_LATE


def test_missed_slots_are_looked_for_within_the_lookback_only() -> None:
    chosen = schedule(EVERY_DAY, ["06:00"])
    now = at("2026-11-24T11:00:00+01:00")
    due = due_slots(chosen, since=now - datetime.timedelta(days=40), now=now, switched_on_at=None)
    assert len(due) == LOOKBACK.days
    assert due[-1].slot.key == "2026-11-24T06:00"
    assert due[-1].fire
    assert not any(d.fire for d in due[:-1])


def test_a_switched_on_schedule_has_nothing_due_before_its_first_run() -> None:
    chosen = schedule(EVERY_DAY, ["06:00", "12:00"])
    switched_on = at("2026-11-24T10:00:00+01:00")
    due = due_slots(
        chosen,
        since=switched_on,
        now=at("2026-11-25T12:01:00+01:00"),
        switched_on_at=switched_on,
    )
    # Today's 12:00 and tomorrow's 06:00 are before the first run (tomorrow 06:05).
    assert [(d.slot.key, d.slot.first_run, d.fire) for d in due] == [
        ("2026-11-25T06:05", True, True),
        ("2026-11-25T12:00", False, True),
    ]


def test_consecutive_passes_see_every_slot_exactly_once() -> None:
    """Whatever the pass boundaries, over a DST change, each slot is due in exactly one pass."""
    chosen = schedule(EVERY_DAY, ["01:30", "02:00", "02:30", "03:00", "06:00", "23:59"])
    # Three Oslo days of six times; on the spring Sunday 02:00, 02:30 and 03:00 are one instant.
    days = [
        ("2026-03-28T00:00:00+01:00", "2026-03-31T00:00:00+02:00", 16),
        ("2026-10-24T00:00:00+02:00", "2026-10-27T00:00:00+01:00", 18),
    ]
    for first, last, count in days:
        begin, end = at(first), at(last)
        expected = []
        for slot in regular_slots(chosen, begin):
            if slot.at > end:
                break
            expected.append(slot.key)
        assert len(expected) == count
        for step_minutes in (3, 29, 61, 150):
            seen: list[str] = []
            since = begin
            while since < end:
                now = min(since + datetime.timedelta(minutes=step_minutes), end)
                seen += [
                    d.slot.key for d in due_slots(chosen, since=since, now=now, switched_on_at=None)
                ]
                since = now
            assert seen == expected, (first, step_minutes)
            assert len(seen) == len(set(seen))


# ------------------------------------------------------------------ what a slot submits


def test_a_slot_submits_employees_and_absences_around_its_day() -> None:
    chosen = schedule(
        WEEKDAYS, ["23:30"], absences=True, absence_days_back=31, absence_days_ahead=14
    )
    slot = next(regular_slots(chosen, at("2026-11-24T12:00:00+01:00")))
    requests = slot_requests("acme", chosen, slot)
    assert [(r.kind, r.trigger, r.integration) for r in requests] == [
        ("employees", "scheduled", "acme"),
        ("absences", "scheduled", "acme"),
    ]
    assert requests[1].period == Period(
        start=datetime.date(2026, 10, 24), end=datetime.date(2026, 12, 8)
    )
    assert requests[0].period is None


@pytest.mark.parametrize(
    ("employees", "absences", "kinds"),
    [(True, False, ["employees"]), (False, True, ["absences"]), (False, False, [])],
)
def test_what_a_slot_submits_follows_the_schedule(
    employees: bool, absences: bool, kinds: list[str]
) -> None:
    chosen = schedule(WEEKDAYS, ["06:00"], employees=employees, absences=absences)
    slot = next(regular_slots(chosen, at("2026-11-24T12:00:00+01:00")))
    assert [r.kind for r in slot_requests("acme", chosen, slot)] == kinds


def test_the_absence_window_is_the_slots_day_even_when_fired_after_midnight() -> None:
    chosen = schedule(["tue"], ["23:30"], absences=True, absence_days_back=0, absence_days_ahead=0)
    due = due_slots(
        chosen,
        since=at("2026-11-24T23:00:00+01:00"),
        now=at("2026-11-25T01:00:00+01:00"),
        switched_on_at=None,
    )
    [request] = [r for r in slot_requests("acme", chosen, due[0].slot) if r.kind == "absences"]
    assert request.period == Period(
        start=datetime.date(2026, 11, 24), end=datetime.date(2026, 11, 24)
    )

"""The alert conditions as pure functions: runs, a schedule and `now` in, holds / not / unknown
out."""

from __future__ import annotations

import datetime
from typing import Any, Final

import pytest

from payroll_sync.alerts.rules import counted_runs, failing, stale
from payroll_sync.config import parse_settings
from payroll_sync.errors import ConfigError
from payroll_sync.scheduler.slots import next_slot_at
from payroll_sync.schemas.outcomes import Run
from payroll_sync.schemas.settings import Alerts, Schedule

DEFAULTS: Final = Alerts()
# Tuesday 2026-12-01 12:00 Oslo.
NOW: Final = datetime.datetime.fromisoformat("2026-12-01T12:00:00+01:00")
DAILY: Final = Schedule(
    enabled=True, weekdays=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], times=["06:00"]
)


def at(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def run(
    number: int,
    *,
    failed: int = 0,
    ok: int = 0,
    status: str = "done",
    dry_run: bool = False,
    trigger: str = "manual",
    finished: str = "2026-12-01T06:05:00+01:00",
    created: str | None = None,
    error: str = "",
) -> Run:
    values: dict[str, Any] = {
        "id": f"r{number:03d}",
        "integration": "acme",
        "kind": "employees",
        "trigger": trigger,
        "dry_run": dry_run,
        "status": status,
        "created_at": at(created or finished) - (0 if created else 60),
        "total": failed + ok,
        "counts": {"failed": failed, "updated": ok},
        "finished_at": at(finished) if status == "done" else 0.0,
        "error": error,
    }
    return Run(**values)


def hour(n: int) -> str:
    return f"2026-12-01T{n:02d}:00:00+01:00"


# ------------------------------------------------------------------ failing


def test_failing_counts_the_last_three_finished_runs() -> None:
    runs = [
        run(1, failed=0, ok=100, finished=hour(1)),  # the fourth newest: not counted
        run(2, failed=14, ok=3, finished=hour(2)),
        run(3, failed=13, ok=3, finished=hour(3)),
        run(4, failed=14, ok=3, finished=hour(4)),
    ]
    found = failing(runs, DEFAULTS)
    assert found.holds is True
    assert found.detail == "41 of 50 records failed in the last 3 runs"
    assert found.numbers == {"failed": 41, "records": 50, "runs": 3}


def test_exactly_the_threshold_is_not_failing_and_one_more_is() -> None:
    assert failing([run(1, failed=1, ok=4)], DEFAULTS).holds is False
    assert failing([run(1, failed=2, ok=3)], DEFAULTS).holds is True
    assert failing([run(1, failed=2, ok=3)], Alerts(failed_percent=40)).holds is False


def test_held_cancelled_running_and_dry_runs_are_not_counted() -> None:
    runs = [
        run(1, failed=0, ok=10, finished=hour(1)),
        run(2, failed=10, status="awaiting_approval", finished=hour(2)),
        run(3, failed=10, status="cancelled", finished=hour(3)),
        run(4, failed=10, status="running", finished=hour(4)),
        run(5, failed=10, dry_run=True, finished=hour(5)),
    ]
    assert [item.id for item in counted_runs(runs, 3)] == ["r001"]
    found = failing(runs, DEFAULTS)
    assert (found.holds, found.detail) == (False, "0 of 10 records failed in the last run")


def test_too_few_records_or_no_run_says_nothing() -> None:
    assert failing([], DEFAULTS).holds is None
    assert failing([run(1, failed=2, ok=1)], Alerts(min_records=4)).holds is None
    assert failing([run(1, failed=2, ok=2)], Alerts(min_records=4)).holds is True
    # A run that could not be expanded holds no records.
    assert failing([run(1, error="source unreachable")], DEFAULTS).holds is None


@pytest.mark.parametrize("last_runs", [1, 2, 5])
def test_last_runs_is_how_many_count(last_runs: int) -> None:
    runs = [run(n, failed=1 if n <= 2 else 0, ok=9, finished=hour(n)) for n in range(1, 6)]
    found = failing(runs, Alerts(last_runs=last_runs, failed_percent=0))
    assert found.numbers is not None
    assert found.numbers["runs"] == last_runs
    # The failures are in the two oldest runs.
    assert found.holds is (last_runs == 5)


# ------------------------------------------------------------------ stale


def _stale(runs: list[Run], *, now: datetime.datetime = NOW, **options: Any) -> Any:
    options.setdefault("schedule", DAILY)
    options.setdefault("reference", datetime.datetime.fromisoformat("2026-11-28T06:10:00+01:00"))
    options.setdefault("switched_on_at", None)
    options.setdefault("settings", DEFAULTS)
    schedule = options.pop("schedule")
    return stale(runs, schedule, now=now, next_slot=next_slot_at, **options)


def test_a_slot_due_over_a_day_ago_with_no_finished_scheduled_run_is_stale() -> None:
    found = _stale([])
    assert found.holds is True
    assert found.detail == (
        "no scheduled run finished since 2026-11-29 06:00 Europe/Oslo, when one was due"
    )


def test_a_scheduled_run_finished_after_the_slots_is_not_stale() -> None:
    finished = run(1, ok=5, trigger="scheduled", finished="2026-12-01T06:04:00+01:00")
    assert _stale([finished]).holds is False


def test_manual_dry_or_failed_to_start_runs_do_not_count_as_a_scheduled_finish() -> None:
    runs = [
        run(1, ok=5, trigger="manual", finished=hour(6)),
        run(2, ok=5, trigger="scheduled", dry_run=True, finished=hour(7)),
        run(3, trigger="scheduled", error="Simployer One unreachable", finished=hour(8)),
    ]
    assert _stale(runs).holds is True


def test_within_the_hours_after_the_last_finish_is_not_stale() -> None:
    # Finished Monday 06:05; Tuesday's 06:00 slot is six hours old: not yet.
    finished = run(1, ok=5, trigger="scheduled", finished="2026-11-30T06:05:00+01:00")
    assert _stale([finished]).holds is False
    # Wednesday 06:01: Tuesday's slot is a day old, nothing finished since.
    later = datetime.datetime.fromisoformat("2026-12-02T06:01:00+01:00")
    assert _stale([finished], now=later).holds is True


def test_a_disabled_schedule_is_never_stale() -> None:
    assert _stale([], schedule=Schedule(enabled=False)).holds is False


def test_a_new_schedule_has_a_day_from_its_first_run() -> None:
    # Switched on Monday 10:00: the first run is Tuesday 06:05, stale from Wednesday 06:05.
    on = datetime.datetime.fromisoformat("2026-11-30T10:00:00+01:00")
    wednesday = datetime.datetime.fromisoformat("2026-12-02T06:04:00+01:00")
    assert _stale([], reference=on, switched_on_at=on, now=wednesday).holds is False
    found = _stale(
        [], reference=on, switched_on_at=on, now=wednesday + datetime.timedelta(minutes=2)
    )
    assert found.holds is True
    assert "2026-12-01 06:05 Europe/Oslo" in found.detail


def test_a_run_held_for_approval_longer_than_the_hours_is_stale_in_its_own_words() -> None:
    held = run(1, status="awaiting_approval", created="2026-11-30T09:00:00+01:00")
    found = _stale([held], schedule=Schedule(enabled=False))
    assert found.holds is True
    assert found.detail == "a run has waited for approval since 2026-11-30 09:00 Europe/Oslo"
    recent = run(2, status="awaiting_approval", created="2026-12-01T09:00:00+01:00")
    assert _stale([recent], schedule=Schedule(enabled=False)).holds is False


# ------------------------------------------------------------------ settings


def test_the_alerts_table_is_read_and_its_mistakes_are_named() -> None:
    settings = parse_settings(
        '[alerts]\nfailed_percent = 50\nlast_runs = 5\ndashboard_url = "https://dash.example"\n'
    )
    assert (settings.alerts.failed_percent, settings.alerts.last_runs) == (50, 5)
    assert settings.alerts.webhook_url_env == "PAYROLL_SYNC_ALERT_WEBHOOK_URL"
    for text, where in [
        ("[alerts]\nwebhook_url = 'https://hooks.slack.com/x'\n", "alerts.webhook_url"),
        ("[alerts]\nfailed_percent = 120\n", "alerts.failed_percent"),
        ("[alerts]\nlast_runs = 0\n", "alerts.last_runs"),
        ("[alerts]\nwebhook_url_env = 'not a name'\n", "alerts.webhook_url_env"),
        ("[alerts]\ndashboard_url = 'dash'\n", "alerts.dashboard_url"),
    ]:
        with pytest.raises(ConfigError, match=where.replace(".", r"\.")):
            parse_settings(text)

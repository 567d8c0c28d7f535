"""`verdict`: what becomes of a record whose attempt raised, by a table (pure)."""

from __future__ import annotations

from typing import Final

import msgspec
import pytest

from payroll_sync.errors import ConfigError, Deferred, Permanent, RateLimited, Retryable
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, Task
from payroll_sync.schemas.settings import Worker
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.verdict import (
    RATE_LIMITED_DEFAULT_WAIT,
    Defer,
    Record,
    Retry,
    Verdict,
    verdict,
)

POLICY: Final = Worker(first_retry_seconds=2.0, max_retry_delay_seconds=64.0, retry_for_hours=1.0)
T0: Final = 1_700_000_000.0
EMPLOYEE: Final = EmployeeTask(
    run_id="r1", integration="acme", employee_number="1001", employee_id="e-1"
)
ABSENCE: Final = AbsenceTask(
    run_id="r1", integration="acme", employee_number="1001", employee_id="e-1", leave_id="L7"
)
LATE: Final = EmployeeTask(
    run_id="r1",
    integration="acme",
    employee_number="1001",
    employee_id="e-1",
    attempt=6,
    first_attempt_at=T0 - 3590.0,
)


def _verdict(error: Exception, task: Task = EMPLOYEE, *, jitter: float = 0.0) -> Verdict:
    return verdict(error, task, started=T0, now=T0 + 1.0, policy=POLICY, jitter=jitter)


@pytest.mark.parametrize(
    ("error", "task", "expected"),
    [
        pytest.param(
            Deferred(3.0),
            EMPLOYEE,
            Defer(EMPLOYEE.deferral(started=T0), 3.0),
            id="rate-limit-deferral",
        ),
        pytest.param(
            RateLimited("24SevenOffice rate limit", delay=5.0, api="payroll"),
            EMPLOYEE,
            Defer(EMPLOYEE.deferral(started=T0), 5.0, "24SevenOffice rate limit", penalise=True),
            id="payroll-429-pushes-the-shared-limiter",
        ),
        pytest.param(
            RateLimited("Simployer One rate limit", api="simployer"),
            ABSENCE,
            Defer(
                ABSENCE.deferral(started=T0),
                RATE_LIMITED_DEFAULT_WAIT,
                "Simployer One rate limit",
            ),
            id="hr-429-without-retry-after",
        ),
        pytest.param(
            Retryable("24SevenOffice answered HTTP 503"),
            EMPLOYEE,
            Retry(EMPLOYEE.next_attempt(started=T0), 2.0, "24SevenOffice answered HTTP 503"),
            id="5xx-first-retry",
        ),
        pytest.param(
            Retryable("timed out", delay=30.0),
            ABSENCE,
            Retry(ABSENCE.next_attempt(started=T0), 30.0, "timed out"),
            id="retry-after-longer-than-backoff",
        ),
        pytest.param(
            Retryable("timed out"),
            LATE,
            Record(
                SyncResult(outcome="failed", reason="gave up after 6 attempts in 1 h: timed out")
            ),
            id="retry-window-used-up",
        ),
        pytest.param(
            KeyError("x"),
            EMPLOYEE,
            Record(
                SyncResult(outcome="failed", reason="internal error (KeyError); retry it later"),
                crash="KeyError",
            ),
            id="a-bug",
        ),
        pytest.param(
            Permanent("refused"),
            EMPLOYEE,
            Record(
                SyncResult(outcome="failed", reason="internal error (Permanent); retry it later"),
                crash="Permanent",
            ),
            id="permanent-escaping-a-runner-is-a-bug",
        ),
        pytest.param(
            ConfigError("token"),
            ABSENCE,
            Record(
                SyncResult(outcome="failed", reason="internal error (ConfigError); retry it later"),
                crash="ConfigError",
            ),
            id="config-error-escaping-a-runner-is-a-bug",
        ),
    ],
)
def test_verdicts(error: Exception, task: Task, expected: Verdict) -> None:
    assert _verdict(error, task) == expected


def test_jitter_spreads_a_retry() -> None:
    decided = _verdict(Retryable("503"), jitter=1.0)
    assert isinstance(decided, Retry)
    assert decided.delay == 2.5


def test_no_verdict_repeats_the_error_text_of_a_bug() -> None:
    decided = _verdict(ValueError("ssn 01010112345 is wrong"))
    assert isinstance(decided, Record)
    assert "01010112345" not in decided.result.reason


def test_a_record_taken_up_hours_after_the_producer_read_it_still_gets_its_retries() -> None:
    # A late record of a long run (or of a run approved after a hold): the window starts when a
    # worker first took it up, not at the producer's read.
    enrolled_long_ago = EmployeeTask(
        run_id="r1",
        integration="acme",
        employee_number="1001",
        employee_id="e-1",
        first_attempt_at=T0 - 10 * 3600.0,
    )
    decided = _verdict(Retryable("24SevenOffice answered HTTP 503"), enrolled_long_ago)
    assert isinstance(decided, Retry)
    assert decided.task.window_from == T0
    assert decided.task.first_attempt_at == T0 - 10 * 3600.0  # the persons index's bound
    assert decided.task.attempt == 2


def test_waits_for_the_rate_limit_end_once_the_retry_window_is_used_up() -> None:
    waited_long = EmployeeTask(
        run_id="r1",
        integration="acme",
        employee_number="1001",
        employee_id="e-1",
        deferrals=126,
        first_attempt_at=T0 - 3599.5,
        window_from=T0 - 3599.5,
    )
    for error in (RateLimited("24SevenOffice answered 429", api="payroll"), Deferred(2.0)):
        decided = _verdict(error, waited_long)
        assert isinstance(decided, Record), error
        assert decided.result.outcome == "failed"
        assert decided.result.reason.startswith("still rate limited after 126 waits in 1 h: ")
    too_many = _verdict(RateLimited("24SevenOffice answered 429", api="payroll"), waited_long)
    assert isinstance(too_many, Record)
    assert "rate_limit_per_second" in too_many.result.reason
    # Inside the window a wait is still a wait, however many came before.
    early = msgspec.structs.replace(waited_long, window_from=T0 - 60.0)
    assert isinstance(_verdict(Deferred(2.0), early), Defer)

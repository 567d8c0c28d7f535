"""`verdict`: what becomes of a record whose attempt raised, by a table (pure)."""

from __future__ import annotations

from typing import Final

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

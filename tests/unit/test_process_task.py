"""`process_task`: every delivered message ends recorded or enqueued again, exactly once.

A real `WorkerContext` on fakeredis; the record itself (`run_employee_task`) is replaced by a
stub that answers or raises, so no HTTP is spoken. What each error comes to: test_verdict.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Final

import fakeredis
import msgspec
import pytest
from structlog.testing import capture_logs

from payroll_sync.errors import Deferred, Permanent, RateLimited, Retryable
from payroll_sync.runs.store import Begun
from payroll_sync.schemas.messages import EmployeeTask, Task, encode_task
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.schemas.settings import Worker
from payroll_sync.worker import process_task
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.verdict import RATE_LIMITED_DEFAULT_WAIT, retry_delay
from tests.support.keys import unique_prefix
from tests.support.settings import offline_settings

INTEGRATION: Final = "acme"
NUMBER: Final = "1001"
T0: Final = 1_750_000_000.0
SECRET: Final = "ssn-value-123"
SETTINGS: Final = offline_settings(
    INTEGRATION,
    worker=Worker(first_retry_seconds=2.0, max_retry_delay_seconds=60.0, retry_for_hours=1.0),
)


class SendAgain:
    def __init__(self) -> None:
        self.sent: list[tuple[EmployeeTask, float]] = []

    async def __call__(self, task: Task, delay: float) -> None:
        assert isinstance(task, EmployeeTask)
        self.sent.append((task, delay))


class Clock:
    """Each call moves time on by `step` seconds."""

    def __init__(self, start: float, step: float = 0.25) -> None:
        self.now = start
        self.step = step

    def __call__(self) -> float:
        value = self.now
        self.now += self.step
        return value


class Penalties:
    def __init__(self) -> None:
        self.calls: list[tuple[str, float]] = []

    async def __call__(self, key: str, seconds: float) -> None:
        self.calls.append((key, seconds))


@pytest.fixture
async def ctx() -> AsyncIterator[WorkerContext]:
    context = WorkerContext(
        settings=SETTINGS,
        redis=fakeredis.FakeAsyncRedis(),
        prefix=unique_prefix(),
        env={"ACME_SIMPLOYER_TOKEN": "simployer-token", "ACME_PAYROLL_TOKEN": "payroll-token"},
    )
    yield context
    await context.close()


@pytest.fixture
def send_again() -> SendAgain:
    return SendAgain()


@pytest.fixture
def penalties(ctx: WorkerContext, monkeypatch: pytest.MonkeyPatch) -> Penalties:
    recorder = Penalties()
    monkeypatch.setattr(ctx.limiter, "penalise", recorder)
    return recorder


async def _start_run(ctx: WorkerContext, **fields: Any) -> EmployeeTask:
    run_id = await ctx.store.create_run(
        integration=INTEGRATION, kind="employees", trigger="manual", dry_run=False, now=T0
    )
    task = EmployeeTask(
        run_id=run_id,
        integration=INTEGRATION,
        employee_number=NUMBER,
        employee_id="emp-id-1001",
        first_attempt_at=T0,
    )
    task = msgspec.structs.replace(task, **fields)
    enrolled = await ctx.store.enrol(run_id, [(task, None)])
    assert enrolled is not None
    assert enrolled.enqueue == [NUMBER]
    return task


def _stub(monkeypatch: pytest.MonkeyPatch, outcome: SyncResult | BaseException) -> list[Any]:
    """Replace the employee runner with one answering `outcome` (or raising it); the tasks seen."""
    seen: list[EmployeeTask] = []

    async def fake_run(task: EmployeeTask, ctx: WorkerContext, begun: Begun) -> SyncResult:
        seen.append(task)
        await asyncio.sleep(0.01)  # as a request would: lets two deliveries overlap
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    monkeypatch.setattr(process_task, "run_employee_task", fake_run)
    return seen


async def _process(
    task: EmployeeTask | str,
    ctx: WorkerContext,
    send_again: SendAgain,
    *,
    now: float = T0 + 10.0,
    jitter: float = 0.0,
) -> RecordOutcome | None:
    body = task if isinstance(task, str) else encode_task(task)
    return await process_task.process_task(
        body,
        kind="employees",
        ctx=ctx,
        send_again=send_again,
        clock=Clock(now),
        jitter=lambda: jitter,
    )


def _events(logs: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(entry["event"]) for entry in logs]


# ------------------------------------------------------------------ recorded outcomes


async def test_a_finished_record_is_stored_and_logged_once(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    seen = _stub(monkeypatch, SyncResult(outcome="updated", changed=["lastname"]))

    with capture_logs() as logs:
        outcome = await _process(task, ctx, send_again)

    assert seen == [task]
    assert outcome == RecordOutcome(
        employee_number=NUMBER,
        employee_id="emp-id-1001",
        outcome="updated",
        changed=["lastname"],
        attempt=1,
        duration_ms=250.0,  # the clock moves 0.25 s per reading
        finished_at=T0 + 10.25,
    )
    assert await ctx.store.outcomes(task.run_id) == [outcome]
    run = await ctx.store.get_run(task.run_id)
    assert run is not None
    assert (run.status, run.counts["updated"]) == ("done", 1)
    assert send_again.sent == []
    (event,) = logs
    assert event["event"] == "record.synced"
    assert (event["outcome"], event["duplicate"], event["employee_number"]) == (
        "updated",
        False,
        NUMBER,
    )


async def test_a_second_delivery_of_a_finished_record_is_dropped_unrun(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    await ctx.store.enrol(task.run_id, [(msgspec.structs.replace(task, employee_number="2"), None)])
    _stub(monkeypatch, SyncResult(outcome="created"))
    await _process(task, ctx, send_again)
    calls = _stub(monkeypatch, SyncResult(outcome="failed", reason="late"))

    with capture_logs() as logs:
        assert await _process(task, ctx, send_again) is None

    assert calls == [], "neither system is read again"
    assert [o.outcome for o in await ctx.store.outcomes(task.run_id)] == ["created"]
    run = await ctx.store.get_run(task.run_id)
    assert run is not None
    assert (run.counts["created"], run.counts["failed"]) == (1, 0)
    assert [entry["event"] for entry in logs] == ["record.already_finished"]


async def test_two_deliveries_at_once_record_one_outcome(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    _stub(monkeypatch, SyncResult(outcome="created"))

    with capture_logs() as logs:
        await asyncio.gather(_process(task, ctx, send_again), _process(task, ctx, send_again))

    assert [o.outcome for o in await ctx.store.outcomes(task.run_id)] == ["created"]
    synced = [entry["duplicate"] for entry in logs if entry["event"] == "record.synced"]
    assert sorted(synced) == [False, True]


async def test_taking_up_a_record_says_when_it_should_next_be_heard_of(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    _stub(monkeypatch, Deferred(30.0))

    await _process(task, ctx, send_again, now=T0 + 10.0)

    # Due again after the deferral's delay and some slack, not yet overdue before that.
    assert await ctx.store.overdue(task.run_id, before=T0 + 10.0 + 30.0) == []
    assert await ctx.store.overdue(task.run_id, before=T0 + 10.0 + 30.0 + 61.0) == [NUMBER]


# ------------------------------------------------------------------ put back on the queue


async def test_deferred_goes_back_with_the_same_attempt_and_no_outcome(
    ctx: WorkerContext,
    send_again: SendAgain,
    penalties: Penalties,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task = await _start_run(ctx, attempt=2, deferrals=1)
    _stub(monkeypatch, Deferred(3.5))

    with capture_logs() as logs:
        assert await _process(task, ctx, send_again) is None

    ((again, delay),) = send_again.sent
    assert delay == 3.5
    # A task queued before `window_from` existed: its window began at its first attempt.
    assert again == msgspec.structs.replace(
        task, deferrals=2, refetch=True, window_from=task.first_attempt_at
    )
    assert penalties.calls == []
    assert await ctx.store.outcomes(task.run_id) == []
    assert await ctx.store.pending(task.run_id) == [NUMBER]
    assert _events(logs) == ["record.deferred"]


@pytest.mark.parametrize(
    ("api", "penalised"),
    [
        pytest.param("payroll", [(INTEGRATION, 7.0)], id="24sevenoffice-shares-the-wait"),
        pytest.param("simployer", [], id="simployer-pushes-nothing-back"),
    ],
)
async def test_rate_limited_is_a_deferral(
    ctx: WorkerContext,
    send_again: SendAgain,
    penalties: Penalties,
    monkeypatch: pytest.MonkeyPatch,
    api: str,
    penalised: list[tuple[str, float]],
) -> None:
    task = await _start_run(ctx)
    _stub(monkeypatch, RateLimited("rate limit hit", delay=7.0, api=api))

    with capture_logs() as logs:
        assert await _process(task, ctx, send_again) is None

    assert penalties.calls == penalised
    ((again, delay),) = send_again.sent
    assert delay == 7.0
    assert (again.attempt, again.deferrals, again.refetch) == (1, 1, True)
    assert await ctx.store.outcomes(task.run_id) == []
    assert _events(logs) == ["record.deferred"]


@pytest.mark.parametrize(
    ("attempt", "server_delay", "jitter", "expected_delay"),
    [
        pytest.param(1, None, 0.0, 2.0, id="first-retry"),
        pytest.param(3, None, 0.0, 8.0, id="backoff"),
        pytest.param(3, None, 1.0, 10.0, id="jitter"),
        pytest.param(9, None, 0.0, 60.0, id="capped"),
        pytest.param(1, 30.0, 0.0, 30.0, id="retry-after"),
    ],
)
async def test_retryable_goes_back_as_the_next_attempt(
    ctx: WorkerContext,
    send_again: SendAgain,
    penalties: Penalties,
    monkeypatch: pytest.MonkeyPatch,
    attempt: int,
    server_delay: float | None,
    jitter: float,
    expected_delay: float,
) -> None:
    task = await _start_run(ctx, attempt=attempt)
    _stub(monkeypatch, Retryable("24SevenOffice answered HTTP 503", delay=server_delay))

    with capture_logs() as logs:
        assert await _process(task, ctx, send_again, jitter=jitter) is None

    ((again, delay),) = send_again.sent
    assert delay == expected_delay
    assert delay == retry_delay(
        attempt=attempt,
        first_attempt_at=T0,
        now=T0 + 10.25,
        server_delay=server_delay,
        policy=SETTINGS.worker,
        jitter=jitter,
    )
    # The retry window of a first attempt starts when the worker took it up (T0 + 10), not at
    # the producer's read (T0): `TaskBase.window_start`.
    window = T0 + 10.0 if attempt == 1 else task.first_attempt_at
    assert again == msgspec.structs.replace(
        task, attempt=attempt + 1, refetch=True, window_from=window
    )
    assert penalties.calls == []
    assert await ctx.store.outcomes(task.run_id) == []
    assert _events(logs) == ["record.retrying"]


async def test_rate_limited_without_a_delay_is_a_short_deferral_not_an_attempt(
    ctx: WorkerContext,
    send_again: SendAgain,
    penalties: Penalties,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task = await _start_run(ctx)
    _stub(monkeypatch, RateLimited("rate limit hit", delay=None))
    assert await _process(task, ctx, send_again) is None
    ((again, delay),) = send_again.sent
    assert (again.attempt, again.deferrals, delay) == (1, 1, RATE_LIMITED_DEFAULT_WAIT)
    assert len(penalties.calls) == 1


async def test_retryable_after_the_retry_time_is_recorded_failed(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx, attempt=12)
    _stub(monkeypatch, Retryable("24SevenOffice answered HTTP 503 to reading the employee"))

    outcome = await _process(task, ctx, send_again, now=T0 + 3600.0)

    assert send_again.sent == []
    assert outcome is not None
    assert outcome.outcome == "failed"
    assert outcome.attempt == 12
    assert outcome.reason == (
        "gave up after 12 attempts in 1 h: 24SevenOffice answered HTTP 503 to reading the employee"
    )
    assert await ctx.store.outcomes(task.run_id) == [outcome]
    run = await ctx.store.get_run(task.run_id)
    assert run is not None
    assert (run.status, run.counts["failed"]) == ("done", 1)


async def test_a_task_without_first_attempt_time_starts_its_window_now(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx, first_attempt_at=0.0)
    _stub(monkeypatch, Retryable("timed out"))
    assert await _process(task, ctx, send_again, now=T0 + 5000.0) is None
    ((_, delay),) = send_again.sent
    assert delay == 2.0


async def test_the_retry_copy_remembers_when_the_first_attempt_was(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx, first_attempt_at=0.0)
    _stub(monkeypatch, Retryable("timed out"))
    await _process(task, ctx, send_again, now=T0 + 5000.0)
    ((again, _),) = send_again.sent
    assert again.first_attempt_at == T0 + 5000.0


# ------------------------------------------------------------------ failures


async def test_a_permanent_result_is_recorded_as_returned(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    result = SyncResult(outcome="failed", reason="ssn is not valid", field="ssn")
    _stub(monkeypatch, result)
    outcome = await _process(task, ctx, send_again)
    assert outcome is not None
    assert (outcome.outcome, outcome.reason, outcome.field) == ("failed", "ssn is not valid", "ssn")


async def test_an_unexpected_exception_is_recorded_failed_without_its_text(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await _start_run(ctx)
    _stub(monkeypatch, KeyError(SECRET))

    with capture_logs() as logs:
        outcome = await _process(task, ctx, send_again)

    assert outcome is not None
    assert outcome.outcome == "failed"
    assert outcome.reason == "internal error (KeyError); retry it later"
    assert send_again.sent == []
    assert await ctx.store.outcomes(task.run_id) == [outcome]
    assert _events(logs) == ["record.crashed", "record.synced"]
    assert logs[0]["error_type"] == "KeyError"
    assert SECRET not in repr(logs)
    assert SECRET not in repr(await ctx.store.outcomes(task.run_id))


async def test_a_permanent_error_escaping_the_record_is_an_internal_error(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sync_employee turns Permanent into a result; one that escapes it anyway is a bug.
    task = await _start_run(ctx)
    _stub(monkeypatch, Permanent(f"bad {SECRET}"))
    with capture_logs() as logs:
        outcome = await _process(task, ctx, send_again)
    assert outcome is not None
    assert outcome.reason == "internal error (Permanent); retry it later"
    assert SECRET not in repr(logs)


async def test_an_unknown_integration_fails_the_record(
    ctx: WorkerContext, send_again: SendAgain
) -> None:
    # The real `_run`: the context refuses to build clients, before any HTTP.
    task = await _start_run(ctx, integration="gone")
    outcome = await _process(task, ctx, send_again)
    assert outcome is not None
    assert outcome.outcome == "failed"
    assert "unknown integration 'gone'" in outcome.reason
    assert send_again.sent == []


# ------------------------------------------------------------------ malformed messages


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"run_id": 1}', id="wrong-type"),
        pytest.param("[]", id="not-an-object"),
        pytest.param('{"integration": "acme"}', id="missing-fields"),
        pytest.param(
            '{"run_id": "r", "integration": "acme", "employee_number": "1", '
            '"employee_id": "e", "surprise": 1}',
            id="unknown-field",
        ),
        pytest.param(
            '{"run_id": "r", "integration": "no spaces!", "employee_number": "1", '
            '"employee_id": "e"}',
            id="bad-integration-id",
        ),
    ],
)
async def test_a_malformed_body_is_dropped_loudly(
    ctx: WorkerContext, send_again: SendAgain, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    seen = _stub(monkeypatch, SyncResult(outcome="created"))
    with capture_logs() as logs:
        assert await _process(body, ctx, send_again) is None
    assert seen == []
    assert send_again.sent == []
    (event,) = logs
    assert (event["event"], event["log_level"]) == ("task.malformed", "error")
    assert event["error"]


@pytest.mark.parametrize("body", ["not json", "", '{"run_id": "r"'])
async def test_a_body_that_is_not_json_is_dropped_loudly(
    ctx: WorkerContext, send_again: SendAgain, body: str
) -> None:
    with capture_logs() as logs:
        assert await _process(body, ctx, send_again) is None
    assert _events(logs) == ["task.malformed"]

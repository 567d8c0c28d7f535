"""The queue route's logic (`handle_sync_request`): decode, submit, and what is dropped or
retried. A real WorkerContext on fakeredis; the submit is a stand-in that records or raises."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Final

import dramatiq
import fakeredis
import pytest
from structlog.testing import capture_logs

from payroll_sync.errors import ConfigError, Deferred, RequestRefused, Retryable
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import PRODUCER_MAX_RATE_WAIT, Producer
from payroll_sync.queue.broker import REQUEST_QUEUE
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Period, SyncRequest, encode_request
from payroll_sync.schemas.settings import Settings
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.requests import (
    ACTOR_OPTIONS,
    MAX_REQUEST_RETRIES,
    handle_sync_request,
    retry_when,
)
from tests.support.settings import offline_settings

SETTINGS: Final = offline_settings()


class FakeSubmit:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[SyncRequest, Settings]] = []

    async def __call__(self, request: SyncRequest, settings: Settings) -> Expansion:
        self.calls.append((request, settings))
        if self.error is not None:
            raise self.error
        return Expansion(run_id="20250101T000000-0000abcd", joined=True, in_scope=1, enqueued=0)


@pytest.fixture
async def ctx() -> AsyncIterator[WorkerContext]:
    context = WorkerContext(settings=SETTINGS, redis=fakeredis.FakeAsyncRedis(), prefix="rq-unit")
    yield context
    await context.close()


REQUEST: Final = SyncRequest(integration="acme", trigger="upstream", employees=["12"])


async def test_a_request_is_submitted_with_the_workers_settings_and_store(
    ctx: WorkerContext,
) -> None:
    submit = FakeSubmit()
    with capture_logs() as events:
        expansion = await handle_sync_request(encode_request(REQUEST), ctx=ctx, submit=submit)
    assert expansion is not None
    assert expansion.joined
    assert submit.calls == [(REQUEST, SETTINGS)]
    (accepted,) = [e for e in events if e["event"] == "request.accepted"]
    assert accepted["run_id"] == "20250101T000000-0000abcd"
    assert (accepted["integration"], accepted["employees"], accepted["joined"]) == ("acme", 1, True)


async def test_the_producer_may_wait_longer_for_the_rate_limit_than_a_worker(
    ctx: WorkerContext,
) -> None:
    assert SETTINGS.worker.max_rate_wait_seconds < PRODUCER_MAX_RATE_WAIT
    producer = Producer(ctx.redis, ctx.store.prefix)
    assert producer.limiter.max_wait == PRODUCER_MAX_RATE_WAIT
    assert producer.limiter.key("acme") == ctx.limiter.key("acme"), "one limit for both"


async def test_an_absence_request_round_trips_through_its_message(ctx: WorkerContext) -> None:
    request = SyncRequest(
        integration="acme",
        kind="absences",
        trigger="upstream",
        period=Period(start=datetime.date(2025, 3, 1), end=datetime.date(2025, 3, 31)),
        codes=["01", "04"],
    )
    submit = FakeSubmit()
    await handle_sync_request(encode_request(request), ctx=ctx, submit=submit)
    assert submit.calls[0][0] == request
    assert '"from":"2025-03-01"' in encode_request(request)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("not json", "JSON is malformed"),
        ("", "truncated"),
        ('{"integration": "acme", "kind": "salaries"}', "Invalid enum value"),
        ('{"integration": "acme", "colour": "red"}', "unknown field `colour`"),
        ('{"integration": "acme", "kind": "absences"}', "period: an absence sync needs a period"),
        ('{"kind": "employees"}', "missing required field `integration`"),
        ("[1, 2]", "Expected `object`"),
        (42, "expected a JSON string, got int"),
        (None, "expected a JSON string, got NoneType"),
    ],
)
async def test_a_malformed_message_is_logged_and_dropped(
    ctx: WorkerContext, body: object, error: str
) -> None:
    submit = FakeSubmit()
    with capture_logs() as events:
        assert await handle_sync_request(body, ctx=ctx, submit=submit) is None
    assert submit.calls == []
    (malformed,) = [e for e in events if e["event"] == "request.malformed"]
    assert error in malformed["error"]
    assert malformed["log_level"] == "error"


@pytest.mark.parametrize(
    ("error", "event"),
    [
        (RequestRefused("employees: not found in Simployer One: 99"), "request.refused"),
        (
            ConfigError("environment variable not set or empty: ACME_PAYROLL_TOKEN"),
            "request.failed",
        ),
    ],
)
async def test_a_request_that_cannot_succeed_is_logged_and_dropped(
    ctx: WorkerContext, error: Exception, event: str
) -> None:
    with capture_logs() as events:
        result = await handle_sync_request(
            encode_request(REQUEST), ctx=ctx, submit=FakeSubmit(error)
        )
    assert result is None
    (logged,) = [e for e in events if e["event"] == event]
    assert logged["reason"] == str(error)
    assert logged["integration"] == "acme"


@pytest.mark.parametrize(
    ("error", "delay_ms"),
    [
        (Retryable("Simployer One answered HTTP 503 to list employees", delay=4.0), 4000),
        (Retryable("Simployer One: list employees timed out"), None),
        (Deferred(90.0), 90000),
    ],
)
async def test_a_briefly_unavailable_source_is_retried(
    ctx: WorkerContext, error: Exception, delay_ms: int | None
) -> None:
    with capture_logs() as events, pytest.raises(dramatiq.Retry) as retry:
        await handle_sync_request(encode_request(REQUEST), ctx=ctx, submit=FakeSubmit(error))
    assert retry.value.delay == delay_ms
    assert [e["event"] for e in events] == ["request.retrying"]
    assert retry_when(0, retry.value)


def test_retries_are_bounded_and_only_for_what_asked_for_them() -> None:
    again = dramatiq.Retry("Simployer One answered HTTP 503")
    assert retry_when(MAX_REQUEST_RETRIES - 1, again)
    with capture_logs() as events:
        assert not retry_when(MAX_REQUEST_RETRIES, again)
    assert [e["event"] for e in events] == ["request.gave_up"]
    # A bug (or a wrong number of arguments) is not retried: it goes to the dead letters.
    assert not retry_when(0, RuntimeError("bug"))
    assert not retry_when(0, TypeError("submit_sync_request() takes 1 positional argument"))


def test_the_actor_listens_on_the_requests_queue() -> None:
    assert ACTOR_OPTIONS["queue_name"] == REQUEST_QUEUE == "requests"
    assert ACTOR_OPTIONS["retry_when"] is retry_when


async def test_the_real_submit_refuses_an_unknown_integration_without_retrying(
    ctx: WorkerContext,
) -> None:
    # The default `submit` is the real one: settings that do not know the integration refuse
    # it before any connection is made.
    other = SyncRequest(integration="globex", trigger="upstream")
    with capture_logs() as events:
        assert await handle_sync_request(encode_request(other), ctx=ctx) is None
    (failed,) = [e for e in events if e["event"] == "request.failed"]
    assert "unknown integration 'globex'" in failed["reason"]
    assert await RunStore(ctx.redis, prefix="rq-unit").list_runs() == []

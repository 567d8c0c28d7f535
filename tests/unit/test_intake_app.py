"""The intake app over HTTP (aiohttp's test server), its run store on fakeredis and a producer
whose submit is a stand-in, so each answer can be driven: the status codes, the bodies, the
events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import fakeredis
import pytest
from aiohttp.test_utils import TestClient, TestServer
from structlog.testing import capture_logs

from payroll_sync.errors import ConfigError, Permanent, RequestRefused, Retryable
from payroll_sync.intake import make_app
from payroll_sync.intake.body import MAX_BODY_BYTES
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import OUTCOMES
from payroll_sync.schemas.settings import Settings
from tests.support.auth import bearer
from tests.support.settings import offline_settings

TOKEN: Final = "intake-token-for-tests-0123456789"
OTHER_TOKEN: Final = "intake-token-of-the-event-stream"
PATH: Final = "/api/v1/sync-requests"
SETTINGS: Final = offline_settings()


class FakeProducer(Producer):
    """Its submit creates a real run in the store, or raises what it was told to."""

    def __init__(self, redis: fakeredis.FakeAsyncRedis) -> None:
        super().__init__(redis, "intake-unit")
        self.requests: list[SyncRequest] = []
        self.error: Exception | None = None

    async def submit(self, request: SyncRequest, settings: Settings) -> Expansion:
        assert settings is SETTINGS
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        run_id = await self.store.create_run(
            integration=request.integration,
            kind=request.kind,
            trigger=request.trigger,
            dry_run=request.dry_run,
            now=1_750_000_000.0,
        )
        return Expansion(run_id=run_id, joined=False, in_scope=2, enqueued=2)


@pytest.fixture
async def redis() -> AsyncIterator[fakeredis.FakeAsyncRedis]:
    client = fakeredis.FakeAsyncRedis()
    yield client
    await client.aclose()


@pytest.fixture
def producer(redis: fakeredis.FakeAsyncRedis) -> FakeProducer:
    return FakeProducer(redis)


@pytest.fixture
def store(producer: FakeProducer) -> RunStore:
    return producer.store


@pytest.fixture
async def client(producer: FakeProducer) -> AsyncIterator[TestClient[Any, Any]]:
    app = make_app(
        settings=SETTINGS,
        producer=producer,
        tokens={TOKEN: "simployer-one", OTHER_TOKEN: "hr-events"},
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def _post(
    client: TestClient[Any, Any], body: object, *, token: str | None = TOKEN
) -> tuple[int, dict[str, Any], Mapping[str, str]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = bearer(token) if token is not None else {}
    async with client.post(PATH, data=data, headers=headers) as answer:
        return answer.status, await answer.json(), answer.headers


async def test_an_accepted_request_answers_202_with_the_run(
    client: TestClient[Any, Any], producer: FakeProducer, store: RunStore
) -> None:
    with capture_logs() as events:
        status, body, headers = await _post(
            client, {"integration": "acme", "kind": "employees", "employees": ["12", "40"]}
        )
    assert status == 202
    run_id = body["run_id"]
    assert body == {
        "run_id": run_id,
        "status": "queued",
        "joined": False,
        "in_scope": 2,
        "enqueued": 2,
    }
    assert headers["Location"] == f"/api/v1/runs/{run_id}"
    (request,) = producer.requests
    assert request.trigger == "upstream"
    assert request.employees == ["12", "40"]
    run = await store.get_run(run_id)
    assert run is not None
    assert run.trigger == "upstream"
    (accepted,) = [e for e in events if e["event"] == "intake.accepted"]
    assert accepted["caller"] == "simployer-one"
    assert (accepted["integration"], accepted["kind"], accepted["run_id"]) == (
        "acme",
        "employees",
        run_id,
    )
    assert accepted["employees"] == 2
    assert TOKEN not in repr(events)


async def test_each_caller_is_named_by_its_own_token(
    client: TestClient[Any, Any],
) -> None:
    with capture_logs() as events:
        status, _, _ = await _post(
            client, {"integration": "acme", "kind": "employees"}, token=OTHER_TOKEN
        )
    assert status == 202
    assert [e["caller"] for e in events if e["event"] == "intake.accepted"] == ["hr-events"]


async def test_the_run_can_be_followed(client: TestClient[Any, Any]) -> None:
    _, body, headers = await _post(client, {"integration": "acme", "kind": "employees"})
    async with client.get(headers["Location"], headers=bearer(TOKEN)) as answer:
        assert answer.status == 200
        run = await answer.json()
    assert run["run_id"] == body["run_id"]
    assert run["status"] == "queued"
    assert run["trigger"] == "upstream"
    assert set(run["counts"]) == set(OUTCOMES)


@pytest.mark.parametrize("run_id", ["20250101T000000-deadbeef", "x:pending", "a.b", "a" * 65])
async def test_an_unknown_run_is_404(
    client: TestClient[Any, Any], producer: FakeProducer, run_id: str
) -> None:
    # A run id reaching into another key of the store is no run either (not a Redis error).
    await producer.store.redis.sadd(producer.store.keys.pending("x"), "12")
    async with client.get(f"/api/v1/runs/{run_id}", headers=bearer(TOKEN)) as answer:
        assert answer.status == 404
        assert "unknown run" in (await answer.json())["error"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer not-the-token"}, "unknown or malformed bearer token"),
        ({"Authorization": f"Basic {TOKEN}"}, "unknown or malformed bearer token"),
    ],
)
async def test_without_a_known_token_every_route_is_401(
    client: TestClient[Any, Any], producer: FakeProducer, headers: dict[str, str], reason: str
) -> None:
    body = json.dumps({"integration": "acme", "kind": "employees"})
    with capture_logs() as events:
        async with client.post(PATH, data=body, headers=headers) as answer:
            assert answer.status == 401
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
            assert await answer.json() == {"error": reason}
        async with client.get("/api/v1/runs/20250101T000000-deadbeef", headers=headers) as answer:
            assert answer.status == 401
    assert producer.requests == []
    refused = [e for e in events if e["event"] == "intake.refused"]
    assert [(e["caller"], e["status"]) for e in refused] == [("anonymous", 401)] * 2
    assert TOKEN not in repr(events)


async def test_a_bad_body_is_400_and_nothing_is_submitted(
    client: TestClient[Any, Any], producer: FakeProducer, store: RunStore
) -> None:
    with capture_logs() as events:
        status, body, _ = await _post(client, {"integration": "acme", "kind": "salaries"})
    assert status == 400
    assert body == {"error": 'kind: expected "employees" or "absences"'}
    assert producer.requests == []
    assert await store.list_runs() == []
    (refused,) = [e for e in events if e["event"] == "intake.refused"]
    assert (refused["caller"], refused["status"]) == ("simployer-one", 400)
    assert refused["route"] == PATH


async def test_a_body_over_the_cap_is_413_unread(
    client: TestClient[Any, Any], producer: FakeProducer
) -> None:
    numbers = [str(n) for n in range(MAX_BODY_BYTES // 4)]
    status, body, _ = await _post(
        client, {"integration": "acme", "kind": "employees", "employees": numbers}
    )
    assert status == 413
    assert body == {"error": "body: larger than 64 KiB"}
    assert producer.requests == []


async def test_a_chunked_body_over_the_cap_is_413(
    client: TestClient[Any, Any], producer: FakeProducer
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(80):
            yield b" " * 1024

    async with client.post(PATH, data=chunks(), headers=bearer(TOKEN)) as answer:
        assert answer.status == 413
    assert producer.requests == []


async def test_an_unknown_integration_is_404(
    client: TestClient[Any, Any], producer: FakeProducer
) -> None:
    status, body, _ = await _post(client, {"integration": "globex", "kind": "employees"})
    assert status == 404
    assert body == {"error": "unknown integration 'globex'"}
    assert producer.requests == []


@pytest.mark.parametrize(
    ("error", "status", "message"),
    [
        (
            RequestRefused("employees: not found in Simployer One: 99"),
            422,
            "employees: not found in Simployer One: 99",
        ),
        (
            ConfigError("Simployer One rejected the access token (HTTP 401) on list employees"),
            502,
            "Simployer One rejected the access token (HTTP 401) on list employees",
        ),
        (
            Permanent("Simployer One answered in an unexpected shape at $"),
            502,
            "Simployer One answered in an unexpected shape at $",
        ),
        (
            Retryable("Simployer One answered HTTP 503 to list employees", delay=2.5),
            503,
            "Simployer One answered HTTP 503 to list employees",
        ),
    ],
)
async def test_what_the_producer_or_the_source_refuses_is_passed_on(
    client: TestClient[Any, Any],
    producer: FakeProducer,
    error: Exception,
    status: int,
    message: str,
) -> None:
    producer.error = error
    got, body, headers = await _post(client, {"integration": "acme", "kind": "employees"})
    assert (got, body) == (status, {"error": message})
    if status == 503:
        assert headers["Retry-After"] == "3"


async def test_a_crash_is_a_bare_500(client: TestClient[Any, Any], producer: FakeProducer) -> None:
    producer.error = RuntimeError("boom with 12345678901 inside")
    with capture_logs() as events:
        status, body, _ = await _post(client, {"integration": "acme", "kind": "employees"})
    assert (status, body) == (500, {"error": "internal error"})
    assert "12345678901" not in repr(events)


async def test_other_routes_and_methods_answer_json(client: TestClient[Any, Any]) -> None:
    async with client.get(PATH, headers=bearer(TOKEN)) as answer:
        assert answer.status == 405
        assert "POST" in answer.headers["Allow"]
        assert "error" in await answer.json()
    async with client.get("/api/v1/nothing", headers=bearer(TOKEN)) as answer:
        assert answer.status == 404
        assert "error" in await answer.json()

"""`/healthz`, `/readyz` and `payroll-sync status` against real parts: the intake and the
dashboard as processes, a redis-server of the test's own that is stopped and started again, a
PostgreSQL database of the test's own that stops taking connections, and the status command as
a subprocess. Nothing any of them says holds the database URL's password."""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer

from payroll_sync.cli.exit_codes import EXIT_OK, EXIT_TRY_LATER, EXIT_USAGE
from payroll_sync.dashboard.app import create_app
from payroll_sync.intake import make_app
from payroll_sync.producer.producer import Producer
from tests.support import processes
from tests.support.dashboard import OPERATOR_TOKEN
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.own_redis import OwnRedis, free_port
from tests.support.postgres import SERVER_URL, fresh_database
from tests.support.settings import offline_settings, toml_table
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

CALLER_TOKEN: Final = "health-test-caller-token-77c1"
#: In every database URL here; the local server trusts loopback, so it is accepted and unused.
PASSWORD: Final = "pw-hunter2-d41c"
WITHIN: Final = 30.0


def _with_password(url: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{parts.hostname}:{parts.port}"))


def _dead_database_url() -> str:
    return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/registry"


def _deployment(tmp_path: Path, **secrets: str) -> Deployment:
    config = tmp_path / "integrations.toml"
    config.write_text(toml_table("intake.callers", {"upstream": "INTAKE_TOKEN_UPSTREAM"}))
    return Deployment(
        config,
        {
            "INTAKE_TOKEN_UPSTREAM": CALLER_TOKEN,
            "PAYROLL_SYNC_OPERATOR_TOKEN": OPERATOR_TOKEN,
            **secrets,
        },
    )


async def _intake(deployment: Deployment) -> str:
    process = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE)
    line = await processes.first_line(process)
    assert line.startswith("intake listening on http://"), line
    return line.split()[3]


async def _dashboard(deployment: Deployment) -> str:
    process = deployment.start("dashboard", "--port", "0", stdout=subprocess.PIPE)
    line = await processes.first_line(process)
    assert line.startswith("Dashboard on http://"), line
    return line.split()[2].rstrip("/")


async def _get(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any], str]:
    """Status, JSON body and Cache-Control of a GET sent with no token and no cookie."""
    async with http.get(url, allow_redirects=False) as answer:
        return answer.status, await answer.json(), answer.headers.get("Cache-Control", "")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_the_intake_and_dashboard_are_ready_until_their_redis_goes_away(
    tmp_path: Path, own_redis: OwnRedis, http: aiohttp.ClientSession
) -> None:
    deployment = _deployment(tmp_path)
    deployment.env["REDIS_URL"] = own_redis.url
    try:
        bases = {"intake": await _intake(deployment), "dashboard": await _dashboard(deployment)}
        for base in bases.values():
            assert await _get(http, f"{base}/healthz") == (200, {"status": "alive"}, "no-store")
            status, body, cache = await _get(http, f"{base}/readyz")
            assert (status, body["status"], cache) == (200, "ready", "no-store")
            # No DATABASE_URL: PostgreSQL is not used, so not checked.
            assert list(body["checks"]) == ["redis"]
            assert body["checks"]["redis"]["ok"] is True

        checked = deployment.cli("status", *(f"--service={base}" for base in bases.values()))
        assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr
        assert [line.split()[:2] for line in checked.stdout.splitlines()] == [
            ["redis", "OK"],
            [bases["intake"], "OK"],
            [bases["dashboard"], "OK"],
        ]

        own_redis.stop()
        for base in bases.values():
            status, body, cache = await _get(http, f"{base}/readyz")
            assert (status, body["status"], cache) == (503, "not ready", "no-store")
            assert body["checks"]["redis"]["ok"] is False
            assert body["checks"]["redis"]["reason"].startswith("Redis: ")
            # Alive all the same: a restart would not bring Redis back.
            assert (await _get(http, f"{base}/healthz"))[0] == 200

        down = deployment.cli("status", "--json", f"--service={bases['intake']}")
        assert down.returncode == EXIT_TRY_LATER, down.stdout + down.stderr
        answer = json.loads(down.stdout)
        assert answer["ok"] is False
        assert [(check["name"], check["ok"]) for check in answer["checks"]] == [
            ("redis", False),
            (bases["intake"], False),
        ]
        assert answer["checks"][1]["reason"].startswith("not ready (HTTP 503): Redis: ")

        own_redis.start()

        async def ready_again() -> bool:
            return all([(await _get(http, f"{b}/readyz"))[0] == 200 for b in bases.values()])

        await wait_for(ready_again, "both ready once Redis is back", within=WITHIN, every=0.2)
    finally:
        deployment.stop_all()


async def _allow_connections(database_url: str, allowed: bool) -> None:
    """The database takes new connections, or refuses them (as one that went away does)."""
    name = urlsplit(database_url).path.lstrip("/")
    server = await asyncpg.connect(SERVER_URL)
    try:
        # The name is fresh_database's own [a-z0-9_]: safe in DDL, which takes no parameters.
        await server.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
    finally:
        await server.close()


async def test_a_process_with_a_registry_is_ready_while_its_database_answers(
    tmp_path: Path, secret_keys: str, redis: aioredis.Redis, http: aiohttp.ClientSession
) -> None:
    async with fresh_database() as plain_url:
        database_url = _with_password(plain_url)
        deployment = _deployment(
            tmp_path, DATABASE_URL=database_url, PAYROLL_SYNC_SECRET_KEY=secret_keys
        )
        try:
            bases = [await _intake(deployment), await _dashboard(deployment)]
            for base in bases:
                status, body, _ = await _get(http, f"{base}/readyz")
                assert status == 200, body
                assert sorted(body["checks"]) == ["postgres", "redis"]
                assert body["checks"]["postgres"]["ok"] is True

            checked = deployment.cli("status")
            assert checked.returncode == EXIT_OK, checked.stdout + checked.stderr
            assert [line.split()[:2] for line in checked.stdout.splitlines()] == [
                ["redis", "OK"],
                ["postgres", "OK"],
            ]

            await _allow_connections(plain_url, False)
            for base in bases:
                async with http.get(f"{base}/readyz") as answer:
                    text = await answer.text()
                    assert answer.status == 503, text
                body = json.loads(text)
                assert body["checks"]["redis"]["ok"] is True
                assert body["checks"]["postgres"]["ok"] is False
                assert body["checks"]["postgres"]["reason"].startswith("PostgreSQL: ")
                assert PASSWORD not in text
                assert "127.0.0.1" not in text

            refused = deployment.cli("status")
            assert refused.returncode == EXIT_TRY_LATER, refused.stdout + refused.stderr
            assert refused.stdout.splitlines()[1].split()[:2] == ["postgres", "FAILED"]
            assert PASSWORD not in refused.stdout + refused.stderr
        finally:
            await _allow_connections(plain_url, True)
            deployment.stop_all()
            await deployment.remove_keys(redis)


@pytest.fixture
async def dead_redis() -> AsyncIterator[aioredis.Redis]:
    """A client of a Redis port nobody listens on."""
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    yield client
    await client.aclose()


async def _served(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


async def test_the_apps_answer_503_naming_a_dead_redis_or_a_dead_postgres(
    dead_redis: aioredis.Redis, redis: aioredis.Redis, http: aiohttp.ClientSession
) -> None:
    """Built in-process: neither command starts without Redis and its registry."""
    dead_database = _dead_database_url()
    apps = {
        # Redis dead, PostgreSQL not used.
        "redis": make_app(
            producer=Producer(dead_redis, unique_prefix()),
            tokens={CALLER_TOKEN: "upstream"},
            settings=offline_settings(),
        ),
        # Redis alive, PostgreSQL dead.
        "postgres": create_app(
            producer=Producer(redis, unique_prefix()),
            operator_token=OPERATOR_TOKEN,
            database_url=dead_database,
        ),
    }
    for failing, app in apps.items():
        async for base in _served(app):
            async with http.get(f"{base}/readyz", allow_redirects=False) as answer:
                text = await answer.text()
                assert answer.status == 503, text
                assert answer.headers["Cache-Control"] == "no-store"
            body = json.loads(text)
            assert body["status"] == "not ready"
            failed = [name for name, check in body["checks"].items() if not check["ok"]]
            assert failed == [failing]
            assert PASSWORD not in text
            assert str(urlsplit(dead_database).port) not in text
            async with http.get(f"{base}/healthz", allow_redirects=False) as answer:
                assert answer.status == 200


def test_status_fails_for_dead_services_without_showing_a_password(tmp_path: Path) -> None:
    deployment = _deployment(tmp_path, DATABASE_URL=_dead_database_url())
    deployment.env["REDIS_URL"] = f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0"
    nobody = f"http://ops:{PASSWORD}@127.0.0.1:{free_port()}"

    said = deployment.cli("status", "--service", nobody)
    assert said.returncode == EXIT_TRY_LATER, said.stdout + said.stderr
    lines = said.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["redis", "FAILED"],
        ["postgres", "FAILED"],
        [nobody.replace(f"ops:{PASSWORD}@", ""), "FAILED"],
    ]
    assert lines[0].endswith("Redis: ConnectionError"), lines[0]
    assert "PostgreSQL: " in lines[1]
    assert "not answering (" in lines[2]
    assert PASSWORD not in said.stdout + said.stderr

    as_json = deployment.cli("status", "--json")
    assert as_json.returncode == EXIT_TRY_LATER
    answer = json.loads(as_json.stdout)
    assert answer["ok"] is False
    assert {check["name"]: check["ok"] for check in answer["checks"]} == {
        "redis": False,
        "postgres": False,
    }
    assert PASSWORD not in as_json.stdout + as_json.stderr


def test_status_passes_with_redis_alone_and_refuses_a_bad_redis_url(tmp_path: Path) -> None:
    deployment = _deployment(tmp_path)
    deployment.env["REDIS_URL"] = REDIS_URL
    deployment.env.pop("DATABASE_URL", None)
    passed = deployment.cli("status", "--json")
    assert passed.returncode == EXIT_OK, passed.stdout + passed.stderr
    answer = json.loads(passed.stdout)
    assert answer["ok"] is True
    assert [check["name"] for check in answer["checks"]] == ["redis"]

    deployment.env["REDIS_URL"] = f"nonsense://:{PASSWORD}@127.0.0.1/0"
    refused = deployment.cli("status")
    assert refused.returncode == EXIT_USAGE
    assert "REDIS_URL is not a Redis URL" in refused.stderr
    assert PASSWORD not in refused.stdout + refused.stderr
    deployment.env["REDIS_URL"] = REDIS_URL
    bad_service = deployment.cli("status", "--json", "--service", "127.0.0.1:8090")
    assert bad_service.returncode == EXIT_TRY_LATER
    services = json.loads(bad_service.stdout)["checks"][1:]
    assert services == [
        {
            "name": "127.0.0.1:8090",
            "ok": False,
            "ms": services[0]["ms"],
            "reason": services[0]["reason"],
        }
    ]
    assert services[0]["reason"].startswith("not an http(s) URL")

"""The settings wizard's API on the real intake app over HTTP: a real PostgreSQL registry of the
test's own, the live catalog following it as the intake process does, real Redis under a prefix
of the test's own, and both simulators for the connection check and the scope preview."""

from __future__ import annotations

import asyncio
import datetime
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestServer
from structlog.testing import capture_logs

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Credentials, Environment
from payroll_sync.intake import make_app
from payroll_sync.producer.producer import Producer
from payroll_sync.registry.store import Registry
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Integration, Scope, Settings
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.wizard.check import check_connection
from payroll_sync.wizard.preview import scope_choices
from tests.support import processes
from tests.support.auth import bearer
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.logs import event_names
from tests.support.recorders import Recorder
from tests.support.settings import OFFLINE_PAYROLL_URL, OFFLINE_SIMPLOYER_URL, simulator_tokens
from tests.support.simulator_admin import simployer_state

pytestmark = pytest.mark.integration

PATH: Final = "/api/v1/integrations"
# Callers of the intake: one may manage any integration, the other only "limited".
ADMIN_TOKEN: Final = f"intake-admin-{secrets.token_hex(8)}"
LIMITED_TOKEN: Final = f"intake-limited-{secrets.token_hex(8)}"
ADMIN: Final = bearer(ADMIN_TOKEN)
LIMITED: Final = bearer(LIMITED_TOKEN)
CALLERS_TOML: Final = """
[intake.callers]
admin = "INTAKE_TOKEN_ADMIN"
partner = "INTAKE_TOKEN_PARTNER"

[intake.allow]
partner = ["limited"]
"""


@dataclass
class Intake:
    """The served intake and what its test looks at."""

    base: str
    http: aiohttp.ClientSession
    catalog: LiveCatalog
    producer: Producer
    # What the producer would have queued.
    recorder: Recorder[Any]
    # Every answer's text, to look for tokens in afterwards.
    answers: list[str] = field(default_factory=list)

    async def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        headers: Mapping[str, str] = ADMIN,
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        async with self.http.request(
            method, self.base + path, data=data, headers=dict(headers), params=params
        ) as answer:
            text = await answer.text()
            self.answers.append(text)
            return answer.status, (json.loads(text) if text else None)


@asynccontextmanager
async def serve(
    http: aiohttp.ClientSession,
    *,
    catalog: LiveCatalog,
    registry: Registry | None,
    redis: aioredis.Redis,
) -> AsyncIterator[Intake]:
    recorder: Recorder[Any] = Recorder()
    producer = Producer(redis, unique_prefix("wizard"), enqueue=recorder, tokens=catalog)
    app = make_app(
        catalog=catalog,
        producer=producer,
        tokens={ADMIN_TOKEN: "admin", LIMITED_TOKEN: "partner"},
        registry=registry,
    )
    try:
        async with TestServer(app, host="127.0.0.1", port=0) as server:
            base = str(server.make_url("")).rstrip("/")
            yield Intake(
                base=base, http=http, catalog=catalog, producer=producer, recorder=recorder
            )
    finally:
        await producer.store.delete_everything()


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.toml"
    path.write_text(CALLERS_TOML)
    return path


@pytest.fixture
async def intake(
    http: aiohttp.ClientSession,
    redis: aioredis.Redis,
    registry: Registry,
    database_url: str,
    secret_keys: str,
    config_file: Path,
) -> AsyncIterator[Intake]:
    """The intake as `payroll-sync intake` runs it with DATABASE_URL: the catalog follows the
    registry (its own connection), and the API writes through `registry`."""
    env = Environment(
        config_path=str(config_file),
        redis_url=REDIS_URL,
        prefix="unused",
        database_url=database_url,
    )
    catalog = await LiveCatalog.open(env, environ={"PAYROLL_SYNC_SECRET_KEY": secret_keys})
    try:
        async with serve(http, catalog=catalog, registry=registry, redis=redis) as served:
            yield served
    finally:
        await catalog.close()


def body_for(sims: RunningSimulators, **fields: object) -> dict[str, object]:
    """A PUT body against the simulators, with their tokens."""
    return {
        "simployer_url": sims.simployer_url,
        "payroll_url": sims.payroll_url,
        "simployer_token": sims.simployer_token,
        "payroll_token": sims.payroll_token,
        **fields,
    }


def offline_body(**fields: object) -> dict[str, object]:
    return {
        "simployer_url": OFFLINE_SIMPLOYER_URL,
        "payroll_url": OFFLINE_PAYROLL_URL,
        "simployer_token": f"simployer-{secrets.token_hex(12)}",
        "payroll_token": f"payroll-{secrets.token_hex(12)}",
        **fields,
    }


def assert_no_token(intake: Intake, *tokens: str) -> None:
    for text in intake.answers:
        for token in tokens:
            assert token not in text


# ------------------------------------------------------------------ create, read, replace, delete


async def test_create_read_replace_list_delete(intake: Intake, registry: Registry) -> None:
    body = offline_body(
        scope={"exclude": ["7"]},
        schedule={"enabled": True, "weekdays": ["mon", "thu"], "times": ["06:30"]},
    )
    tokens = (str(body["simployer_token"]), str(body["payroll_token"]))
    with capture_logs() as logs:
        status, created = await intake.call("PUT", f"{PATH}/acme", body)
    assert status == 201, created
    assert created["id"] == "acme"
    assert created["tokens"] == {"simployer": "set", "payroll": "set"}
    assert created["settings"]["scope"]["exclude"] == ["7"]
    assert "simployer_token" not in created["settings"]
    saved = [event for event in logs if event["event"] == "intake.integration_saved"]
    assert saved == [
        {
            "event": "intake.integration_saved",
            "integration": "acme",
            "caller": "admin",
            "created": True,
            "version": created["version"],
            "log_level": "info",
        }
    ]

    status, shown = await intake.call("GET", f"{PATH}/acme")
    assert status == 200, shown
    assert shown["settings"] == created["settings"]
    assert shown["last_run"] is None
    assert shown["last_check"] is None
    # Not yet seen on by a scheduler: the first run is the next morning at 06:05, Oslo time.
    first = datetime.datetime.fromisoformat(shown["next_slot"])
    assert first.utcoffset() in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))
    assert (first.hour, first.minute) == (6, 5)
    assert len(shown["next_slots"]) == 5
    assert all((datetime.datetime.fromisoformat(s).minute == 30) for s in shown["next_slots"][1:])

    # A replace without tokens keeps them.
    replaced_body = {k: v for k, v in body.items() if not k.endswith("_token")}
    status, replaced = await intake.call(
        "PUT", f"{PATH}/acme", {**replaced_body, "rate_limit_per_second": 4}
    )
    assert status == 200, replaced
    assert replaced["version"] > created["version"]
    assert replaced["tokens"] == {"simployer": "set", "payroll": "set"}
    assert replaced["settings"]["rate_limit_per_second"] == 4
    stored = await registry.get("acme")
    assert stored is not None
    assert stored.settings.rate_limit_per_second == 4

    # A run of it, then the list shows it.
    run_id = await intake.producer.store.create_run(
        integration="acme", kind="employees", trigger="manual", dry_run=False, now=1.0e9
    )
    status, listed = await intake.call("GET", PATH)
    assert status == 200, listed
    assert listed["count"] == 1
    (row,) = listed["integrations"]
    assert row["id"] == "acme"
    assert row["schedule_enabled"] is True
    assert row["next_slot"] == shown["next_slot"]
    assert row["last_run"]["run_id"] == run_id
    assert row["last_run"]["status"] == "queued"

    status, nothing = await intake.call("DELETE", f"{PATH}/acme")
    assert (status, nothing) == (204, None)
    assert (await intake.call("GET", f"{PATH}/acme"))[0] == 404
    assert (await intake.call("DELETE", f"{PATH}/acme"))[0] == 404
    assert (await intake.call("GET", PATH))[1]["count"] == 0
    # Its run history stays until retention ends.
    assert await intake.producer.store.get_run(run_id) is not None
    assert_no_token(intake, *tokens)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            offline_body(scope={"offices": ["o1", 2]}),
            "scope.offices[1]: expected a string, got a whole number",
            id="field",
        ),
        pytest.param(
            {k: v for k, v in offline_body().items() if k != "payroll_token"},
            "payroll_token: required for a new integration",
            id="create-without-a-token",
        ),
        pytest.param(
            offline_body(schedule={"times": ["25:00"]}),
            "schedule.times[0]: expected a time of day as HH:MM (00:00-23:59)",
            id="time",
        ),
    ],
)
async def test_a_bad_body_is_refused_naming_the_field_and_nothing_is_stored(
    intake: Intake, registry: Registry, body: dict[str, object], message: str
) -> None:
    status, answer = await intake.call("PUT", f"{PATH}/acme", body)
    assert (status, answer) == (400, {"error": message})
    assert await registry.list() == []
    assert_no_token(intake, *(str(v) for k, v in body.items() if k.endswith("_token")))


async def test_ids_callers_and_allow(intake: Intake) -> None:
    status, answer = await intake.call("PUT", f"{PATH}/a:b", offline_body())
    assert status == 400
    assert answer["error"].startswith("id: expected an integration id")
    assert (await intake.call("GET", PATH, headers={}))[0] == 401
    assert (await intake.call("GET", PATH, headers=bearer("not-a-caller")))[0] == 401

    # The limited caller manages its one integration, and sees only that one.
    assert (await intake.call("PUT", f"{PATH}/limited", offline_body(), headers=LIMITED))[0] == 201
    assert (await intake.call("PUT", f"{PATH}/other", offline_body()))[0] == 201
    status, answer = await intake.call("PUT", f"{PATH}/other", offline_body(), headers=LIMITED)
    assert (status, answer) == (
        403,
        {"error": "caller 'partner' may not manage integration 'other' (allowed: limited)"},
    )
    assert (await intake.call("GET", f"{PATH}/other", headers=LIMITED))[0] == 403
    assert (await intake.call("DELETE", f"{PATH}/other", headers=LIMITED))[0] == 403
    listed = (await intake.call("GET", PATH, headers=LIMITED))[1]
    assert [row["id"] for row in listed["integrations"]] == ["limited"]
    everyone = (await intake.call("GET", PATH))[1]
    assert [row["id"] for row in everyone["integrations"]] == ["limited", "other"]


async def test_a_registry_that_does_not_answer_is_a_503(intake: Intake, registry: Registry) -> None:
    assert (await intake.call("PUT", f"{PATH}/acme", offline_body()))[0] == 201
    await registry.close()  # as if the database went away
    with capture_logs() as logs:
        for method, path in (("GET", f"{PATH}/acme"), ("GET", PATH), ("DELETE", f"{PATH}/acme")):
            status, answer = await intake.call(method, path)
            assert (status, answer) == (
                503,
                {
                    "error": "the integration registry (DATABASE_URL) is not answering; try again "
                    "shortly"
                },
            )
    assert [e["event"] for e in logs].count("intake.registry_unavailable") == 3


# ------------------------------------------------------------------ the connection check


async def test_check_says_which_side_failed_and_why(
    intake: Intake, sims: RunningSimulators
) -> None:
    with capture_logs() as logs:
        wrong = await _check_each_side(intake, sims)
    assert_no_token(intake, sims.simployer_token, sims.payroll_token, *wrong)
    # Nothing the intake logged holds a token either.
    for token in (sims.simployer_token, sims.payroll_token, *wrong):
        assert token not in repr(logs)
    checked = [event for event in logs if event["event"] == "intake.integration_checked"]
    assert len(checked) == 5
    assert set(checked[0]) == {
        "event",
        "integration",
        "caller",
        "simployer_ok",
        "payroll_ok",
        "log_level",
    }


async def _check_each_side(intake: Intake, sims: RunningSimulators) -> tuple[str, str]:
    """Good tokens, then each side wrong in turn; the wrong tokens."""
    good = body_for(sims)
    assert (await intake.call("PUT", f"{PATH}/acme", good))[0] == 201
    status, check = await intake.call("POST", f"{PATH}/acme/check")
    assert status == 200, check
    assert check["ok"] is True
    assert check["simployer"] == {"ok": True, "reason": ""}
    assert check["payroll"] == {"ok": True, "reason": ""}

    wrong_simployer = f"wrong-{secrets.token_hex(8)}"
    await intake.call("PUT", f"{PATH}/acme", {**good, "simployer_token": wrong_simployer})
    check = (await intake.call("POST", f"{PATH}/acme/check"))[1]
    assert check["ok"] is False
    assert check["simployer"] == {
        "ok": False,
        "reason": "Simployer One refused the token (HTTP 401); check simployer_token",
    }
    assert check["payroll"]["ok"] is True
    # The check is kept: the GET shows it.
    shown = (await intake.call("GET", f"{PATH}/acme"))[1]
    assert shown["last_check"]["simployer"] == check["simployer"]

    wrong_payroll = f"wrong-{secrets.token_hex(8)}"
    await intake.call(
        "PUT",
        f"{PATH}/acme",
        {**good, "simployer_token": sims.simployer_token, "payroll_token": wrong_payroll},
    )
    check = (await intake.call("POST", f"{PATH}/acme/check"))[1]
    assert check["simployer"]["ok"] is True
    assert check["payroll"] == {
        "ok": False,
        "reason": "24SevenOffice refused the token (HTTP 401); check payroll_token",
    }

    # Nothing listens on port 9: a wrong URL "did not answer", naming the host.
    await intake.call("PUT", f"{PATH}/acme", {**good, "payroll_url": OFFLINE_PAYROLL_URL})
    check = (await intake.call("POST", f"{PATH}/acme/check"))[1]
    assert check["simployer"]["ok"] is True
    assert check["payroll"] == {
        "ok": False,
        "reason": "24SevenOffice did not answer at 127.0.0.1:9 (no connection); check payroll_url",
    }

    # A wrong path on the right server is "not found".
    await intake.call("PUT", f"{PATH}/acme", {**good, "simployer_url": sims.simployer_url + "x"})
    check = (await intake.call("POST", f"{PATH}/acme/check"))[1]
    assert check["simployer"]["reason"].startswith("Simployer One was not found at 127.0.0.1:")
    assert check["simployer"]["reason"].endswith("(HTTP 404); check simployer_url")
    return wrong_simployer, wrong_payroll


async def test_a_side_that_never_answers_did_not_answer_within_the_deadline(
    http: aiohttp.ClientSession, sims: RunningSimulators
) -> None:
    hold = asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        await hold.wait()
        return web.Response()

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", never)
    async with TestServer(app, host="127.0.0.1", port=0) as silent:
        integration = Integration(
            simployer_url=str(silent.make_url("/v1")), payroll_url=sims.payroll_url
        )
        tokens = Credentials(simployer_token="s", payroll_token=sims.payroll_token)
        check = await check_connection(
            integration, tokens, session=http, now=0.0, timeout_seconds=0.2
        )
        port = silent.port
        hold.set()
    assert check.simployer.ok is False
    assert check.simployer.reason == (
        f"Simployer One did not answer within 0.2 s at 127.0.0.1:{port}"
    )
    assert check.payroll.ok is True


# ------------------------------------------------------------------ the scope preview


async def test_the_preview_takes_in_whom_a_sync_would_enrol(
    intake: Intake, sims: RunningSimulators
) -> None:
    assert (await intake.call("PUT", f"{PATH}/acme", body_for(sims)))[0] == 201
    status, preview = await intake.call("GET", f"{PATH}/acme/scope-preview")
    assert status == 200, preview
    everyone = preview["employee_numbers"]
    assert preview["in_scope"] == len(everyone) > 0
    assert set(preview["left_out"]) <= {"not employed now"}

    # A dry run of a real sync enrols exactly those.
    await intake.catalog.refresh()
    expansion = await intake.producer.submit(
        SyncRequest(integration="acme", dry_run=True), intake.catalog.settings
    )
    assert expansion.in_scope == preview["in_scope"]
    assert intake.recorder.keys == sorted(everyone)

    # A scope given as query parameters: each replaces that field of the stored scope.
    excluded, group = everyone[0], everyone[:3]
    status, narrowed = await intake.call(
        "GET",
        f"{PATH}/acme/scope-preview",
        params={"employees": ",".join(group), "exclude": f"{excluded},99999", "offices": ""},
    )
    assert status == 200, narrowed
    assert narrowed["scope"]["employees"] == group
    assert narrowed["scope"]["exclude"] == [excluded, "99999"]
    assert narrowed["employee_numbers"] == group[1:]
    assert narrowed["left_out"]["excluded"] == [excluded]
    assert narrowed["unknown_employees"] == ["99999"]
    # Everyone read is in scope or left out for one reason, once.
    read = [*preview["employee_numbers"], *(n for ns in preview["left_out"].values() for n in ns)]
    sorted_again = [
        *narrowed["employee_numbers"],
        *(n for ns in narrowed["left_out"].values() for n in ns),
    ]
    assert sorted(sorted_again) == sorted(read)

    status, refused = await intake.call(
        "GET", f"{PATH}/acme/scope-preview", params={"departmens": "d1"}
    )
    assert (status, refused) == (
        400,
        {
            "error": "departmens: unknown query parameter (allowed: departments, offices, "
            "employees, exclude)"
        },
    )
    assert_no_token(intake, sims.simployer_token, sims.payroll_token)


# ------------------------------------------------------------------ without a registry


async def test_without_a_registry_reads_work_and_writes_are_refused(
    http: aiohttp.ClientSession, redis: aioredis.Redis, sims: RunningSimulators
) -> None:
    company = await simployer_state(sims)
    excluded = next(e.employee_number for e in company.employee if e.active)
    settings = Settings(
        integrations={
            "demo": Integration(
                simployer_url=sims.simployer_url,
                payroll_url=sims.payroll_url,
                simployer_token_env="DEMO_SIMPLOYER_TOKEN",
                payroll_token_env="DEMO_PAYROLL_TOKEN",
                scope=Scope(exclude=[excluded]),
            )
        }
    )
    catalog = LiveCatalog.fixed(settings, simulator_tokens(sims))
    async with serve(http, catalog=catalog, registry=None, redis=redis) as intake:
        for method in ("PUT", "DELETE"):
            status, answer = await intake.call(method, f"{PATH}/demo", offline_body())
            assert (status, answer) == (
                409,
                {
                    "error": "integrations come from the settings file here; set DATABASE_URL "
                    "to manage them through the API"
                },
            )
        status, shown = await intake.call("GET", f"{PATH}/demo")
        assert status == 200, shown
        assert shown["source"] == "settings file"
        assert shown["tokens"] == {"simployer": "set", "payroll": "set"}
        assert shown["settings"]["simployer_token_env"] == "DEMO_SIMPLOYER_TOKEN"
        assert shown["next_slot"] is None  # its schedule is off
        listed = (await intake.call("GET", PATH))[1]
        assert [row["id"] for row in listed["integrations"]] == ["demo"]
        check = (await intake.call("POST", f"{PATH}/demo/check"))[1]
        assert check["ok"] is True
        preview = (await intake.call("GET", f"{PATH}/demo/scope-preview"))[1]
        assert preview["left_out"]["excluded"] == [excluded]
        assert (await intake.call("GET", f"{PATH}/nope"))[0] == 404
        assert_no_token(intake, sims.simployer_token, sims.payroll_token)


# ------------------------------------------------------------------ `payroll-sync intake`


async def test_the_intake_process_with_a_registry_onboards_a_company(
    sims: RunningSimulators,
    tmp_path: Path,
    redis: aioredis.Redis,
    http: aiohttp.ClientSession,
    database_url: str,
    secret_keys: str,
) -> None:
    """`payroll-sync intake` with DATABASE_URL: a company added through the API is checked and
    takes sync requests at once, without a restart; its log holds no token."""
    config = tmp_path / "integrations.toml"
    config.write_text(CALLERS_TOML, encoding="utf-8")
    deployment = Deployment(
        config,
        {
            "DATABASE_URL": database_url,
            "PAYROLL_SYNC_SECRET_KEY": secret_keys,
            "INTAKE_TOKEN_ADMIN": ADMIN_TOKEN,
            "INTAKE_TOKEN_PARTNER": LIMITED_TOKEN,
        },
    )
    log_path = tmp_path / "intake.log"
    try:
        with log_path.open("wb") as log:
            process = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE, stderr=log)
            line = await processes.first_line(process)
            assert line.startswith("intake listening on http://"), line
            intake = Intake(
                base=line.split()[3],
                http=http,
                catalog=LiveCatalog.fixed(Settings()),
                producer=Producer(redis, deployment.prefix),
                recorder=Recorder(),
            )
            status, created = await intake.call("PUT", f"{PATH}/acme", body_for(sims))
            assert status == 201, created
            status, check = await intake.call("POST", f"{PATH}/acme/check")
            assert (status, check["ok"]) == (200, True), check
            async with http.post(
                f"{intake.base}/api/v1/sync-requests",
                json={"integration": "acme", "kind": "employees", "dry_run": True},
                headers=ADMIN,
            ) as answer:
                assert answer.status == 202, await answer.text()
            shown = (await intake.call("GET", f"{PATH}/acme"))[1]
            assert shown["last_check"]["ok"] is True
            assert shown["last_run"]["dry_run"] is True
        assert processes.stop(process) == 0
        logged = log_path.read_text()
        assert "intake.integration_saved" in event_names(logged)
        for token in (sims.simployer_token, sims.payroll_token, ADMIN_TOKEN, secret_keys):
            assert token not in logged
            assert_no_token(intake, token)
    finally:
        deployment.stop_all()
        await deployment.remove_keys(redis)


async def test_the_pick_lists_are_simployer_ones_own_departments_and_offices(
    http: aiohttp.ClientSession, sims: RunningSimulators
) -> None:
    company = await simployer_state(sims)
    integration = Integration(simployer_url=sims.simployer_url, payroll_url=sims.payroll_url)
    tokens = Credentials(simployer_token=sims.simployer_token, payroll_token="unused")
    departments, offices = await scope_choices(integration, tokens, session=http)
    assert sorted(choice.id for choice in departments) == sorted(d.id for d in company.department)
    assert sorted(choice.id for choice in offices) == sorted(o.id for o in company.office)
    names = {o.id: o.name for o in company.office}
    assert all(choice.name == names[choice.id] for choice in offices)
    # A department is named under its parents: its own name comes last.
    own = {d.id: d.name for d in company.department}
    assert all(choice.name.split(" / ")[-1] == own[choice.id] for choice in departments)

"""No token in clear text anywhere it could rest (issue 15's "done when"): a company onboarded
through the intake's API, its tokens checked (a wrong one first), its scope previewed, its
employees and absences synced by a real worker, its keys rotated and the company removed, with a
worker, the intake, a scheduler and the dashboard running on the registry. Then the database
(`pg_dump`), every Redis key of the deployment and every line any process or command wrote are
searched for the tokens and the keys.

The tokens are random (only this test's can match) and accepted by the simulators, so every
path a token takes (exchange, check, reads, writes) is walked.
"""

from __future__ import annotations

import asyncio
import datetime
import secrets
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import aiohttp
import asyncpg
import pytest
import redis.asyncio as aioredis

from payroll_sync.queue.broker import broker_namespace
from payroll_sync.registry.crypto import new_key
from payroll_sync.runs.store import RunStore
from tests.integration.conftest import StartSimulators
from tests.support import processes
from tests.support.auth import bearer
from tests.support.dashboard import csrf_of
from tests.support.deployment import Deployment
from tests.support.leaks import minted
from tests.support.postgres import fresh_database
from tests.support.settings import toml_table

pytestmark = pytest.mark.integration

CALLER_TOKEN: Final = f"intake-{secrets.token_hex(12)}"
OPERATOR_TOKEN: Final = f"operator-{secrets.token_hex(12)}"
COMPANY: Final = "tokens-at-rest"
WITHIN: Final = 120.0  # waiting for what must happen, never a claim about speed


async def _pg_dump(url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--no-owner", url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


async def _redis_text(redis: aioredis.Redis, patterns: Iterable[str]) -> str:
    """Every key and value under `patterns`, read by type (DUMP may compress a value)."""
    parts: list[Any] = []
    for pattern in patterns:
        async for key in redis.scan_iter(match=pattern, count=1000):
            parts.append(key)
            kind = _text(await redis.type(key))
            if kind == "string":
                parts.append(await redis.get(key))
            elif kind == "hash":
                parts += [*(await redis.hgetall(key)).items()]
            elif kind == "list":
                parts += await redis.lrange(key, 0, -1)
            elif kind == "set":
                parts += await redis.smembers(key)
            elif kind == "zset":
                parts += await redis.zrange(key, 0, -1)
            elif kind == "stream":
                parts += (await redis.xrange(key)) or []
    return "\n".join(_text(part) for part in parts)


def _text(value: object) -> str:
    """Bytes as text (a token is ASCII); anything else (a pair, an entry) as its repr."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)


async def _start_http(deployment: Deployment, command: str, log: Path) -> str:
    """`payroll-sync intake|dashboard --port 0`, its base URL (from its first line)."""
    with log.open("wb") as err:
        process = deployment.start(command, "--port", "0", stdout=subprocess.PIPE, stderr=err)
    line = await processes.first_line(process)
    # "intake listening on http://…" / "Dashboard on http://…/ (log in …)"
    url = next((word for word in line.split() if word.startswith("http://")), None)
    assert url is not None, line
    return url.rstrip("/")


async def _dashboard_pages(base: str, paths: Iterable[str]) -> list[str]:
    """The pages' HTML, read after logging in through the form (its cookie on 127.0.0.1)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get(f"{base}/login") as page:
            form = {"csrf": csrf_of(await page.text()), "token": OPERATOR_TOKEN, "next": "/runs"}
        async with browser.post(f"{base}/login", data=form, allow_redirects=False) as answer:
            assert answer.status == 303, await answer.text()
        pages: list[str] = []
        for path in paths:
            async with browser.get(f"{base}{path}", allow_redirects=False) as page:
                assert page.status == 200, path
                pages.append(await page.text())
        return pages


async def test_no_token_rests_in_the_database_redis_or_any_log(
    start_simulators: StartSimulators,
    tmp_path: Path,
    redis: aioredis.Redis,
    http: aiohttp.ClientSession,
) -> None:
    simployer_token, payroll_token = minted("simp"), minted("pay")
    wrong_token = minted("wrong")
    old_key, new = new_key(), new_key()
    sims = start_simulators(
        employees=25, simployer_token=simployer_token, payroll_token=payroll_token
    )
    config = tmp_path / "integrations.toml"
    config.write_text(toml_table("intake.callers", {"upstream": "INTAKE_TOKEN_UPSTREAM"}))
    logs: list[Path] = []
    outputs: list[str] = []

    async with fresh_database() as database_url:
        deployment = Deployment(
            config,
            {
                "DATABASE_URL": database_url,
                "PAYROLL_SYNC_SECRET_KEY": old_key,
                "INTAKE_TOKEN_UPSTREAM": CALLER_TOKEN,
                "PAYROLL_SYNC_OPERATOR_TOKEN": OPERATOR_TOKEN,
            },
        )
        try:
            for name in ("worker", "scheduler"):
                logs.append(tmp_path / f"{name}.log")
                args = (
                    ("worker", "--processes", "1", "--threads", "4")
                    if name == "worker"
                    else ("scheduler", "--port", "0")
                )
                deployment.start_logged(*args, log=logs[-1])
            logs += [tmp_path / "intake.log", tmp_path / "dashboard.log"]
            intake = await _start_http(deployment, "intake", logs[-2])
            dashboard = await _start_http(deployment, "dashboard", logs[-1])
            api = f"{intake}/api/v1/integrations/{COMPANY}"
            caller = bearer(CALLER_TOKEN)

            # Onboarded with a wrong payroll token: the check says so, naming the side.
            settings = {
                "simployer_url": sims.simployer_url,
                "payroll_url": sims.payroll_url,
                "rate_limit_per_second": 100.0,
                "schedule": {"enabled": True, "times": ["06:00"]},
            }
            created = {**settings, "simployer_token": simployer_token, "payroll_token": wrong_token}
            async with http.put(api, json=created, headers=caller) as answer:
                assert answer.status == 201, await answer.text()
                outputs.append(await answer.text())
            async with http.post(f"{api}/check", headers=caller) as answer:
                checked = await answer.json()
                outputs.append(await answer.text())
            assert checked["simployer"]["ok"] is True
            assert checked["payroll"]["ok"] is False

            # Fixed (the payroll token alone), checked, previewed, synced.
            async with http.put(
                api, json={**settings, "payroll_token": payroll_token}, headers=caller
            ) as answer:
                assert answer.status == 200, await answer.text()
            async with http.post(f"{api}/check", headers=caller) as answer:
                checked = await answer.json()
                outputs.append(await answer.text())
            assert checked["simployer"]["ok"] is True, checked
            assert checked["payroll"]["ok"] is True, checked
            for path in ("", "/scope-preview"):
                async with http.get(f"{api}{path}", headers=caller) as answer:
                    assert answer.status == 200, await answer.text()
                    outputs.append(await answer.text())

            store = RunStore(redis, prefix=deployment.prefix)
            year = datetime.date.today().year
            requests: list[dict[str, object]] = [
                {"integration": COMPANY, "kind": "employees"},
                {
                    "integration": COMPANY,
                    "kind": "absences",
                    "period": {"from": f"{year}-01-01", "to": f"{year}-12-31"},
                },
            ]
            for request in requests:
                async with http.post(
                    f"{intake}/api/v1/sync-requests", json=request, headers=caller
                ) as answer:
                    assert answer.status == 202, await answer.text()
                    run_id = (await answer.json())["run_id"]
                done = await store.wait_done(run_id, poll_seconds=0.2, max_seconds=WITHIN)
                synced = {item.outcome for item in await store.outcomes(done.id)}
                assert synced & {"created", "updated", "unchanged"}, synced

            # The dashboard's list and the company's pages, as an operator sees them.
            outputs += await _dashboard_pages(
                dashboard, ["/integrations", f"/integrations/{COMPANY}"]
            )

            # Keys rotated: the tokens now under the new key alone.
            deployment.env["PAYROLL_SYNC_SECRET_KEY"] = f"{new},{old_key}"
            rotated = deployment.cli("rotate-key")
            assert rotated.returncode == 0, rotated.stderr
            deployment.env["PAYROLL_SYNC_SECRET_KEY"] = new
            listed = deployment.cli("integrations", "list", "--json")
            assert listed.returncode == 0, listed.stderr
            assert COMPANY in listed.stdout
            outputs += [rotated.stdout, rotated.stderr, listed.stdout, listed.stderr]

            dump = await _pg_dump(database_url)
            stored = await _redis_text(
                redis, [f"{deployment.prefix}:*", f"{broker_namespace(deployment.prefix)}:*"]
            )

            # Removed: its row keeps neither settings nor tokens.
            async with http.delete(api, headers=caller) as answer:
                assert answer.status == 204, await answer.text()
            database = await asyncpg.connect(database_url)
            try:
                row = await database.fetchrow(
                    "SELECT settings, simployer_token, payroll_token FROM integrations "
                    "WHERE id = $1",
                    COMPANY,
                )
            finally:
                await database.close()
            assert row is not None
            assert (row["settings"], row["simployer_token"], row["payroll_token"]) == (
                None,
                None,
                None,
            )
        finally:
            deployment.stop_all()
            await deployment.remove_keys(redis)

    # The dump does hold the encrypted tokens (else this proves nothing), never the clear ones.
    assert "simployer_token" in dump
    assert COMPANY in dump
    texts = {
        "pg_dump": dump,
        "redis": stored,
        **{path.name: path.read_text(errors="replace") for path in logs},
        "answers and command output": "\n".join(outputs),
    }
    assert all(texts.values()), [name for name, text in texts.items() if not text]
    secret_values = {
        "simployer token": simployer_token,
        "payroll token": payroll_token,
        "wrong payroll token": wrong_token,
        "old key": old_key,
        "new key": new,
    }
    found = [
        f"{what} in {where}"
        for where, text in texts.items()
        for what, value in secret_values.items()
        if value in text
    ]
    assert not found, found

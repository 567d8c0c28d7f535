"""The drift report end to end: the simulators over HTTP, a real Dramatiq worker (the stack's,
in this process), the real Redis, the intake's JSON API and the dashboard's page.

We sync once (the worker remembers digests of what it wrote), then someone edits two fields of
one employee in 24SevenOffice and HR changes another employee in Simployer One; a dry run, asked
for through the API, finds exactly the first employee's two fields as drift and the second's
change as a change without drift. The JSON and the page agree, show no account number or salary
unmasked, and Redis holds digests, not values.
"""

from __future__ import annotations

import re
from typing import Any, Final

import aiohttp
import msgspec
import pytest
from aiohttp.test_utils import TestServer

from payroll_sync.catalog import LiveCatalog
from payroll_sync.intake import make_app
from payroll_sync.runs.encoding import text
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.auth import bearer
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of, served_dashboard
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_state,
    put_payroll_state,
    simployer_state,
)
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration

TOKEN: Final = "drift-caller-token-5d1e"
# What someone types into 24SevenOffice: an account number and a salary of their own.
EDITED_ACCOUNT: Final = "15039912345"
EDITED_SALARY: Final = "712345.00"


async def _log_in(http: aiohttp.ClientSession, base: str) -> None:
    async with http.get(f"{base}/login?next=/integrations") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "/integrations"}
    async with http.post(f"{base}/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303


async def test_drift_is_what_someone_changed_in_payroll_not_what_hr_changed(
    sims: RunningSimulators,
) -> None:
    async with sync_stack(sims) as stack:
        _, first = await stack.sync(SyncRequest(integration=INTEGRATION))
        created = sorted(
            (item.employee_number for item in first if item.outcome == "created"), key=int
        )
        assert len(created) >= 2
        edited, changed = created[0], created[1]

        # Redis holds digests of what we wrote, never the values.
        state = await payroll_state(sims)
        held = {row.emp_id: row for row in state.employee}
        plain = {
            value
            for number in created
            for value in (held[number].account, held[number].personnr, held[number].salary)
            if len(value) >= 4
        }
        assert plain
        written_keys = [key async for key in stack.redis.scan_iter(f"{stack.prefix}:written:*")]
        hashes = [key for key in written_keys if not key.endswith(b":salt")]
        assert {key.rsplit(b":", 1)[1].decode() for key in hashes} == set(created)
        for key in hashes:
            stored = await stack.redis.hgetall(key)
            assert stored
            blob = " ".join(text(item) for pair in stored.items() for item in pair)
            assert not [value for value in plain if value in blob]

        # Someone edits two fields of one employee in 24SevenOffice...
        before = held[edited]
        state.employee = [
            msgspec.structs.replace(row, account=EDITED_ACCOUNT, salary=EDITED_SALARY)
            if row.emp_id == edited
            else row
            for row in state.employee
        ]
        await put_payroll_state(sims, state)
        # ...and HR renames another in Simployer One: a change the next sync makes, not drift.
        company = await simployer_state(sims)
        (hr_row,) = [row for row in company.employee if row.employee_number == changed]
        await patch_simployer(sims, "employee", hr_row.id, {"lastName": "Endret-I-HR"})

        catalog = LiveCatalog.fixed(stack.settings, stack.env)
        intake = make_app(producer=stack.producer, tokens={TOKEN: "ops"}, catalog=catalog)
        async with (
            TestServer(intake, host="127.0.0.1", port=0) as server,
            served_dashboard(stack.producer, catalog=catalog) as dashboard,
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
        ):
            api = str(server.make_url(f"/api/v1/integrations/{INTEGRATION}/drift"))
            async with http.get(api, headers=bearer(TOKEN)) as answer:
                assert answer.status == 200
                assert (await answer.json())["message"].startswith("the latest employee run")
            async with http.get(api) as answer:
                assert answer.status == 401
            for other, status in (("nosuch", 404), ("Bad%20id", 400)):
                url = str(server.make_url(f"/api/v1/integrations/{other}/drift"))
                async with http.post(url, headers=bearer(TOKEN)) as answer:
                    assert answer.status == status

            async with http.post(api, headers=bearer(TOKEN)) as answer:
                assert answer.status == 202
                run_id = (await answer.json())["run_id"]
            run = await stack.wait(run_id)
            assert run.dry_run

            async with http.get(api, headers=bearer(TOKEN)) as answer:
                assert answer.status == 200
                raw = await answer.text()
            report: dict[str, Any] = msgspec.json.decode(raw)
            assert report["run_id"] == run_id
            assert report["message"] == ""
            drifted = {
                item["field"]: [e["employee_number"] for e in item["employees"]]
                for item in report["fields"]
            }
            assert drifted == {"account": [edited], "salary": [edited]}
            assert report["drifted_employees"] == 1
            assert report["changes_without_drift"] == 1
            assert report["unknown_fields"] == 0
            outcomes = {item.employee_number: item for item in await stack.store.outcomes(run_id)}
            assert outcomes[changed].changed == ["lastname"]
            assert outcomes[changed].drift == []

            await _log_in(http, dashboard)
            async with http.get(f"{dashboard}/integrations/{INTEGRATION}/drift") as page:
                assert page.status == 200
                html = await page.text()
            rows = re.findall(r'<tr data-employee="([^"]+)" data-field="([^"]+)">', html)
            assert sorted(rows) == sorted(
                (employee, field) for field, employees in drifted.items() for employee in employees
            )
            assert f">{run_id}<" in html

            secrets = {EDITED_ACCOUNT, EDITED_SALARY, "712345", before.account, before.salary}
            secrets |= {before.personnr} - {""}
            for shown in (raw, html):
                assert not [secret for secret in secrets if secret and secret in shown]

            # The page's button starts a dry run (with the page's CSRF token) and comes back.
            form = {"csrf": csrf_of(html)}
            async with http.post(
                f"{dashboard}/integrations/{INTEGRATION}/drift", data=form, allow_redirects=False
            ) as answer:
                assert answer.status == 303
                assert answer.headers["Location"] == f"/integrations/{INTEGRATION}/drift"
            latest = await stack.store.last_run(INTEGRATION, "employees")
            assert latest is not None
            assert latest.id != run_id
            assert latest.dry_run
            await stack.wait(latest.id)

"""The dashboard's side of the mass-change brake over real HTTP, on the real Redis (a prefix per
test): held runs set up in the run store as the producer leaves them (tests/support/held_runs),
their pages, the forms' checks before anything is decided, and the JSON API.

The last two tests let the producer decide (Producer.approve / cancel, their tasks sent to a
recorder); end to end, with simulators and a worker, in Chromium:
tests/browser/test_brake_e2e_browser.py.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from aiohttp.test_utils import TestClient, TestServer

from payroll_sync.catalog import LiveCatalog
from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Task
from payroll_sync.schemas.settings import Integration, Settings
from tests.support.auth import bearer
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of
from tests.support.held_runs import EMPLOYEES, INTEGRATION, held_run
from tests.support.recorders import Recorder
from tests.support.runs import Seed, seed_run

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
AUTH = bearer(OPERATOR_TOKEN)
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)")
REFRESH = re.compile(r'<meta http-equiv="refresh"')


async def _log_in(client: Client) -> str:
    async with client.get("/login") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "/runs"}
    async with client.post("/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    async with client.get("/runs") as page:
        return csrf_of(await page.text())


async def _page(client: Client, path: str) -> tuple[int, str]:
    async with client.get(path) as answer:
        return answer.status, await answer.text()


def _without_times(html: str) -> str:
    """The page without run ids (they start with a date and time of 14 digits)."""
    return re.sub(r"\d{8}T\d{6}-[0-9a-f]{8}", "RUN", html)


async def test_a_held_run_shows_its_summary_by_field_masked_with_approve_and_cancel(
    client: Client, store: RunStore
) -> None:
    run_id = await held_run(store)
    csrf = await _log_in(client)
    status, html = await _page(client, f"/runs/{run_id}")
    assert status == 200
    assert "Held for approval: nothing has been written." in html
    assert 'aria-label="Mass-change brake"' in html
    for name in ("Bank account", "Salary", "Fødselsnummer", "Employments ending"):
        assert f'aria-label="{name}"' in html, name
    assert f"{EMPLOYEES} of {EMPLOYEES} employees in 24SevenOffice (100.0 %)" in html
    assert "more than 20 %" in html
    assert "and 10 more not listed here (the summary keeps 30 examples)." in html
    # Identifiers the summary holds in clear are masked; none shows whole.
    assert not ELEVEN_DIGITS.search(_without_times(html))
    assert "•••••••0850" in html
    assert "•••••••9071" in html
    # The forms: Approve on the page (with the count), Cancel behind a confirmation.
    assert f'action="/runs/{run_id}/approve"' in html
    assert f'<input type="hidden" name="csrf" value="{csrf}">' in html
    assert f"Approve: write {EMPLOYEES} records" in html
    assert f'href="/runs/{run_id}/cancel"' in html
    # A held run waits for a person: the page does not reload under their typing.
    assert not REFRESH.search(html)
    assert "waiting for approval" in html


async def test_a_decided_run_shows_its_summary_collapsed_with_who_and_when(
    client: Client, store: RunStore
) -> None:
    run_id = await held_run(store, decision="cancelled", by="dashboard:Kari", status="cancelled")
    await _log_in(client)
    status, html = await _page(client, f"/runs/{run_id}")
    assert status == 200
    assert "Held for approval" not in html
    assert "/approve" not in html
    assert f"/runs/{run_id}/cancel" not in html
    assert re.search(r"<summary>Cancelled, nothing written by dashboard:Kari at \d{4}-", html)
    assert "cancelled</span> <small>nothing written</small>" in html
    assert "the run was cancelled before any write" in html
    # Not claimed by a made-up link: the notice follows the summary.
    _, claimed = await _page(client, f"/runs/{run_id}?decided=approved")
    assert 'role="status"' not in claimed
    _, said = await _page(client, f"/runs/{run_id}?decided=cancelled")
    assert "Cancelled by dashboard:Kari: nothing was written to 24SevenOffice." in said


async def test_the_runs_page_counts_every_held_run_and_reloads_only_for_moving_ones(
    client: Client, store: RunStore
) -> None:
    await _log_in(client)
    _, none_held = await _page(client, "/runs")
    assert "await approval" not in none_held
    assert "awaits approval" not in none_held
    first = await held_run(store)
    second = await held_run(store, integration="globex")
    await held_run(store, decision="cancelled", by="api:ops", status="cancelled")
    await seed_run(store, [Seed("1", "created")])
    _, html = await _page(client, "/runs")
    assert "2 runs await approval" in html
    assert html.count(f'href="/runs/{first}"') == 2  # the banner and the table
    assert html.count(f'href="/runs/{second}"') == 2
    assert html.count("waiting for approval") == 2
    assert "cancelled</span>" in html
    assert not REFRESH.search(html)
    await store.redis.hset(store.keys.run(second), "status", "cancelled")
    _, one = await _page(client, "/runs")
    assert "1 run awaits approval" in one


async def test_the_integration_page_shows_its_held_run(store: RunStore) -> None:
    catalog = LiveCatalog.fixed(
        Settings(
            integrations={
                INTEGRATION: Integration(
                    simployer_url="http://127.0.0.1:9/v1", payroll_url="http://127.0.0.1:9/api"
                )
            }
        )
    )
    producer = Producer(store.redis, store.prefix)
    app = create_app(
        producer=producer, operator_token=OPERATOR_TOKEN, login_delay=0, catalog=catalog
    )
    async with TestClient(TestServer(app)) as client:
        await held_run(store)
        await _log_in(client)
        status, html = await _page(client, f"/integrations/{INTEGRATION}")
        assert status == 200
        assert '<mark class="status waiting">waiting for approval</mark>' in html
        # The list of integrations says it in words too, never the status's name.
        status, listing = await _page(client, "/integrations")
        assert status == 200
        assert "employees, waiting for approval</a>" in listing
        assert "awaiting_approval" not in listing


async def test_the_forms_refuse_before_anything_is_decided(client: Client, store: RunStore) -> None:
    run_id = await held_run(store)
    csrf = await _log_in(client)
    approve, cancel = f"/runs/{run_id}/approve", f"/runs/{run_id}/cancel"
    # No CSRF token: 403, as every form of the dashboard.
    for path in (approve, cancel):
        async with client.post(path, data={"by": "Kari", "confirmed": "yes"}) as answer:
            assert answer.status == 403, path
    # No name: the page again with the reason, 400.
    async with client.post(approve, data={"csrf": csrf, "by": " "}) as answer:
        assert answer.status == 400
        assert "Your name: required" in await answer.text()
    # Cancel not from the confirmation page: sent to it.
    async with client.post(
        cancel, data={"csrf": csrf, "by": "Kari"}, allow_redirects=False
    ) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == cancel
    status, confirm = await _page(client, cancel)
    assert status == 200
    assert "none of its 40 records is written" in confirm
    assert 'name="confirmed" value="yes"' in confirm
    assert "Bank account: 40 of 40 employees in 24SevenOffice (100.0 %)" in confirm
    async with client.post(cancel, data={"csrf": csrf, "by": "<b>", "confirmed": "yes"}) as answer:
        assert answer.status == 400
        assert "Your name: letters, digits" in await answer.text()
    # Reloaded or typed, an action's address leads to the run.
    async with client.get(approve, allow_redirects=False) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == f"/runs/{run_id}"
    summary = await store.brake_summary(run_id)
    assert summary is not None
    assert summary.decision == "held"
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "awaiting_approval"
    # A run that is not held has no confirmation page: its own page says what became of it.
    done = await held_run(store, decision="approved", by="api:x", status="done")
    async with client.get(f"/runs/{done}/cancel", allow_redirects=False) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == f"/runs/{done}"
    plain = await seed_run(store, [Seed("1", "created")])
    async with client.get(f"/runs/{plain}/cancel", allow_redirects=False) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == f"/runs/{plain}"
    for path in ("/runs/no-such-run/cancel", "/runs/no-such-run"):
        status, _ = await _page(client, path)
        assert status == 404, path
    async with client.post(
        "/runs/no-such-run/approve", data={"csrf": csrf, "by": "Kari"}
    ) as answer:
        assert answer.status == 404


async def test_the_api_shows_the_summary_masked_and_checks_approve_and_cancel(
    client: Client, store: RunStore
) -> None:
    run_id = await held_run(store)
    plain = await seed_run(store, [Seed("1", "created")])
    async with client.get(f"/api/v1/runs/{run_id}", headers=AUTH) as answer:
        assert answer.status == 200
        text = await answer.text()
        body = msgspec.json.decode(text)
    assert body["status"] == "awaiting_approval"
    brake = body["brake"]
    assert brake["decision"] == "held"
    assert brake["awaiting_approval"] is True
    assert brake["tripped"] == ["account"]
    account = next(field for field in brake["fields"] if field["field"] == "account")
    assert (account["field"], account["count"], account["total"], account["percent"]) == (
        "account",
        EMPLOYEES,
        EMPLOYEES,
        100.0,
    )
    assert not ELEVEN_DIGITS.search(_without_times(text))
    assert "41000" not in text  # a salary: left out of the API
    async with client.get(f"/api/v1/runs/{plain}", headers=AUTH) as answer:
        assert (await answer.json())["brake"] is None

    for action in ("approve", "cancel"):
        path = f"/api/v1/runs/{run_id}/{action}"
        async with client.post(path) as answer:
            assert answer.status == 401, path
        async with client.post(path, headers=AUTH, data=b"[1]") as answer:
            assert answer.status == 400
            assert "body: expected a JSON object" in (await answer.json())["message"]
        async with client.post(path, headers=AUTH, json={"by": "", "x": 1}) as answer:
            assert answer.status == 400
        async with client.post(path, headers=AUTH, json={"by": "<b>"}) as answer:
            assert answer.status == 400
            assert (await answer.json())["message"].startswith("by: letters")
        async with client.post(
            f"/api/v1/runs/no-such-run/{action}", headers=AUTH, json={"by": "Kari"}
        ) as answer:
            assert answer.status == 404
    summary = await store.brake_summary(run_id)
    assert summary is not None
    assert summary.decision == "held"


# ------------------------------------------------------------------ decided by the producer


async def test_approve_from_the_page_sends_the_records_and_a_second_answer_is_refused(
    client: Client, store: RunStore, recorder: Recorder[Task]
) -> None:
    run_id = await held_run(store)
    csrf = await _log_in(client)
    async with client.post(
        f"/runs/{run_id}/approve", data={"csrf": csrf, "by": "  Kari  Nordmann "}
    ) as answer:
        assert answer.status == 200  # followed the 303
        assert answer.url.path == f"/runs/{run_id}"
        assert answer.url.query["decided"] == "approved"
        html = await answer.text()
    assert "Approved by dashboard:Kari Nordmann: the run&#39;s records go to the workers" in html
    assert sorted(task.key for task in recorder.tasks) == sorted(
        str(10_000 + index) for index in range(EMPLOYEES)
    )
    summary = await store.brake_summary(run_id)
    assert summary is not None
    assert (summary.decision, summary.decided_by) == ("approved", "dashboard:Kari Nordmann")
    run = await store.get_run(run_id)
    assert run is not None
    assert run.status == "queued"

    # Someone else's page still showed the buttons: refused with the producer's words.
    async with client.post(
        f"/runs/{run_id}/cancel", data={"csrf": csrf, "by": "Ola", "confirmed": "yes"}
    ) as answer:
        assert answer.status == 409
        page = await answer.text()
    assert f"run {run_id} is queued, not awaiting approval" in page
    assert 'role="alert"' in page
    async with client.post(f"/api/v1/runs/{run_id}/approve", headers=AUTH) as answer:
        assert answer.status == 409
        assert (await answer.json())["message"] == f"run {run_id} is queued, not awaiting approval"
    assert len(recorder.tasks) == EMPLOYEES  # nothing sent twice


async def test_the_api_cancels_a_held_run_and_says_who(
    client: Client, store: RunStore, recorder: Recorder[Task]
) -> None:
    run_id = await held_run(store)
    async with client.post(
        f"/api/v1/runs/{run_id}/cancel", headers=AUTH, json={"by": "ops-bot"}
    ) as answer:
        assert answer.status == 200
        body = await answer.json()
    assert body["run_id"] == run_id
    assert body["decision"] == "cancelled"
    assert body["decided_by"] == "api:ops-bot"
    assert body["awaiting_approval"] is False
    cancelled = await store.get_run(run_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert recorder.tasks == []
    other = await held_run(store, integration="globex")
    async with client.post(f"/api/v1/runs/{other}/approve", headers=AUTH) as answer:
        assert answer.status == 200
        body = await answer.json()
    assert (body["decision"], body["decided_by"]) == ("approved", "api:operator token")
    async with client.get(f"/api/v1/runs/{other}", headers=AUTH) as answer:
        run = await answer.json()
    assert run["status"] == "queued"
    assert run["brake"]["decision"] == "approved"
    assert len(recorder.tasks) == EMPLOYEES

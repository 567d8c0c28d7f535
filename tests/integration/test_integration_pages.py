"""The dashboard's integration pages over real HTTP: the registry in a PostgreSQL database of the
test's own, the live catalog following it, real Redis, both simulators.

What a person does: add an integration through the form (CSRF, tokens write-only, bad input
refused naming the field and nothing stored), check its connection (which side failed and why),
sync it now (a run in the run store, its tasks queued), ask for an absence export's dry run, edit
the whole `[integrations.ID]` table (absence codes, overrides, the scheduled absence window),
remove it (the id typed to confirm; its row left without settings or tokens); and, without a
registry, the settings file's integrations read-only.
"""

from __future__ import annotations

import datetime
import html as html_text
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from payroll_sync.registry.store import Registry
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import Task
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of
from tests.support.keys import REDIS_URL
from tests.support.postgres import database_url, registry, secret_keys
from tests.support.recorders import Recorder
from tests.support.settings import integration_toml, simulator_tokens

__all__ = ["database_url", "registry", "secret_keys"]

pytestmark = pytest.mark.integration

Client = TestClient[Any, Any]
WRONG_TOKEN = "not-the-simployer-token-4711"


async def _client(
    store: RunStore, recorder: Recorder[Task], catalog: LiveCatalog, registry: Registry | None
) -> TestClient[Any, Any]:
    producer = Producer(store.redis, store.prefix, enqueue=recorder, tokens=catalog)
    app = create_app(
        producer=producer,
        operator_token=OPERATOR_TOKEN,
        login_delay=0,
        catalog=catalog,
        registry=registry,
    )
    return TestClient(TestServer(app))


@pytest.fixture
async def catalog(
    tmp_path: Path, database_url: str, secret_keys: str
) -> AsyncIterator[LiveCatalog]:
    """The dashboard's live catalog on the registry (a connection of its own, as in a
    deployment); the settings file holds no integration."""
    config = tmp_path / "integrations.toml"
    config.write_text("")
    env = Environment(
        config_path=str(config), redis_url=REDIS_URL, prefix="unused", database_url=database_url
    )
    live = await LiveCatalog.open(env, environ={"PAYROLL_SYNC_SECRET_KEY": secret_keys})
    yield live
    await live.close()


@pytest.fixture
async def pages(
    store: RunStore, recorder: Recorder[Task], catalog: LiveCatalog, registry: Registry
) -> AsyncIterator[Client]:
    async with await _client(store, recorder, catalog, registry) as client:
        yield client


async def _log_in(client: Client) -> str:
    async with client.get("/login?next=/integrations") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "/integrations"}
    async with client.post("/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    async with client.get("/integrations") as page:
        assert page.status == 200
        return csrf_of(await page.text())


def _form(sims: RunningSimulators, csrf: str, **fields: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "id": "acme",
        "simployer_url": sims.simployer_url,
        "simployer_token": WRONG_TOKEN,
        "payroll_url": sims.payroll_url,
        "payroll_token": sims.payroll_token,
        "rate_limit_per_second": "50",
        "schedule.weekdays": "mon",
        "schedule.times": "06:00",
        "schedule.employees": "1",
        **fields,
    }


def _alert(html: str) -> str:
    found = re.search(r'role="alert"[^>]*><strong>([^<]*)</strong>', html)
    return html_text.unescape(found.group(1)) if found else ""


async def test_every_integration_page_sends_a_stranger_to_login(pages: Client) -> None:
    for path in (
        "/integrations",
        "/integrations/new",
        "/integrations/acme/edit",
        "/integrations/acme",
        "/integrations/acme/export",
        "/integrations/acme/remove",
    ):
        async with pages.get(path, allow_redirects=False) as answer:
            assert answer.status == 302, path
            assert answer.headers["Location"].startswith("/login?next="), path
    for path in (
        "/integrations/new",
        "/integrations/acme/check",
        "/integrations/acme/sync",
        "/integrations/acme/remove",
    ):
        async with pages.post(path, data={}, allow_redirects=False) as answer:
            assert answer.status == 303, path
            assert answer.headers["Location"] == "/login", path


async def test_a_bad_form_names_the_field_and_stores_nothing(
    pages: Client, sims: RunningSimulators, registry: Registry
) -> None:
    csrf = await _log_in(pages)
    cases = {
        "rate_limit_per_second": ("fast", "rate_limit_per_second: expected a number"),
        "schedule.times": ("06:00, 25:61", "schedule.times[1]: expected a time of day"),
        "simployer_url": ("not a url", "simployer_url:"),
        "id": ("has space", "id: expected 1 to 64 letters"),
    }
    for field, (value, words) in cases.items():
        form = _form(sims, csrf, **{field: value})
        async with pages.post("/integrations/new", data=form) as answer:
            html = await answer.text()
            assert answer.status == 400, field
        assert words in _alert(html), (field, _alert(html))
        # Shown again beside its error, the tokens not among what it shows.
        assert WRONG_TOKEN not in html
        assert sims.payroll_token not in html
    form = _form(sims, csrf)
    del form["payroll_token"]
    async with pages.post("/integrations/new", data=form) as answer:
        assert answer.status == 400
        assert "payroll_token: a new integration needs both tokens" in _alert(await answer.text())
    assert await registry.list() == []
    # A form without its CSRF token is refused before anything is read.
    async with pages.post("/integrations/new", data=_form(sims, "forged")) as answer:
        assert answer.status == 403
    assert await registry.list() == []


async def test_add_check_fix_and_sync_an_integration(
    pages: Client,
    sims: RunningSimulators,
    registry: Registry,
    store: RunStore,
    recorder: Recorder[Task],
) -> None:
    csrf = await _log_in(pages)
    async with pages.post(
        "/integrations/new", data=_form(sims, csrf), allow_redirects=False
    ) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/integrations/acme?saved=1"
    stored = await registry.get("acme")
    assert stored is not None
    assert stored.has_simployer_token
    assert stored.settings.rate_limit_per_second == 50.0
    assert stored.settings.schedule.weekdays == ["mon"]

    async with pages.get("/integrations") as page:
        html = await page.text()
    assert 'data-integration="acme"' in html
    assert "never run" in html
    assert "not checked" in html

    # Check connection: Simployer One refuses the token, 24SevenOffice takes its own.
    async with pages.post("/integrations/acme/check", data={"csrf": csrf}) as answer:
        html = await answer.text()
        assert answer.status == 200
    simployer = re.search(r'data-side="simployer">(.*?)</td>', html)
    payroll = re.search(r'data-side="payroll">(.*?)</td>', html)
    assert simployer is not None
    assert payroll is not None
    assert "failed" in simployer.group(1)
    assert "refused the token (HTTP 401); check simployer_token" in simployer.group(1)
    assert payroll.group(1) == "ok"
    last = await registry.last_check("acme")
    assert last is not None
    assert (last.simployer.ok, last.payroll.ok) == (False, True)
    async with pages.get("/integrations") as page:
        assert "<strong>failed</strong>" in await page.text()

    # The edit form: never a token in it; a blank token keeps the stored one.
    async with pages.get("/integrations/acme/edit") as page:
        html = await page.text()
    assert WRONG_TOKEN not in html
    assert sims.payroll_token not in html
    assert "stored; leave blank to keep it" in html
    edit = _form(sims, csrf, simployer_token=sims.simployer_token, payroll_token="")
    del edit["id"]
    async with pages.post("/integrations/acme/edit", data=edit, allow_redirects=False) as answer:
        assert answer.status == 303
    async with pages.post("/integrations/acme/check", data={"csrf": csrf}) as answer:
        html = await answer.text()
    assert "Connection check: both tokens work" in html

    # Sync employees now: a manual employee run, its records queued, then its page.
    async with pages.post(
        "/integrations/acme/sync", data={"csrf": csrf}, allow_redirects=False
    ) as answer:
        assert answer.status == 303
        run_id = answer.headers["Location"].removeprefix("/runs/")
    found = await store.get_run(run_id)
    assert found is not None
    assert (found.integration, found.kind, found.trigger) == ("acme", "employees", "manual")
    assert found.total == len(recorder.tasks) > 0
    async with pages.get("/integrations") as page:
        assert f"/runs/{run_id}" in await page.text()
    # The action's own address, reloaded or bookmarked, leads back to the page.
    async with pages.get("/integrations/acme/sync", allow_redirects=False) as answer:
        assert (answer.status, answer.headers["Location"]) == (302, "/integrations/acme")


async def test_export_preview_starts_a_dry_run_and_bad_periods_are_named(
    pages: Client, sims: RunningSimulators, store: RunStore, recorder: Recorder[Task]
) -> None:
    csrf = await _log_in(pages)
    form = _form(sims, csrf, simployer_token=sims.simployer_token)
    async with pages.post("/integrations/new", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    async with pages.get("/integrations/acme/export") as page:
        html = await page.text()
    today = datetime.date.today()
    assert f'value="{today.replace(day=1).isoformat()}"' in html

    bad = {"csrf": csrf, "from": "2026-12-31", "to": "2026-01-01", "action": "preview"}
    async with pages.post("/integrations/acme/export", data=bad) as answer:
        assert answer.status == 400
        assert "period: 'from' 2026-12-31 is after 'to' 2026-01-01" in _alert(await answer.text())
    bad = {"csrf": csrf, "from": "2026-01-01", "to": "2026-12-31", "codes": "99"}
    async with pages.post("/integrations/acme/export", data=bad) as answer:
        assert answer.status == 400
        assert _alert(await answer.text()).startswith("codes: unknown absence code '99'")
    assert await store.list_runs(5) == []

    good = {"csrf": csrf, "from": "2026-01-01", "to": "2026-12-31", "action": "preview"}
    async with pages.post("/integrations/acme/export", data=good, allow_redirects=False) as answer:
        assert answer.status == 303
        location = answer.headers["Location"]
    assert location.startswith("/integrations/acme/export?run=")
    [run] = await store.list_runs(5)
    assert (run.kind, run.dry_run, str(run.period)) == ("absences", True, "2026-01-01..2026-12-31")
    assert all(task.dry_run for task in recorder.tasks)
    async with pages.get(location) as page:
        html = await page.text()
    assert "Dry run 2026-01-01..2026-12-31" in html
    assert 'value="2026-12-31"' in html


async def test_the_whole_integration_table_round_trips_through_the_form(
    pages: Client, sims: RunningSimulators, registry: Registry
) -> None:
    csrf = await _log_in(pages)
    fields = {
        "schedule.absences": "1",
        "schedule.absence_days_back": "3",
        "schedule.absence_days_ahead": "60",
        "absences.overrides": "Long leave = 13\r\nSabbatical = 12",
    }
    form: dict[str, Any] = {**_form(sims, csrf), **fields, "absences.codes": ["04", "13"]}
    async with pages.post("/integrations/new", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
    stored = await registry.get("acme")
    assert stored is not None
    assert stored.settings.absences.codes == ["04", "13"]
    assert stored.settings.absences.overrides == {"Long leave": "13", "Sabbatical": "12"}
    schedule = stored.settings.schedule
    assert (schedule.absences, schedule.absence_days_back, schedule.absence_days_ahead) == (
        True,
        3,
        60,
    )

    # Shown again as stored.
    async with pages.get("/integrations/acme/edit") as page:
        html = await page.text()
    ticked = re.findall(r'name="absences\.codes" value="(\d\d)" checked', html)
    assert ticked == ["04", "13"]
    assert ">Long leave = 13\nSabbatical = 12</textarea>" in html
    assert 'name="schedule.absence_days_back" inputmode="numeric" value="3"' in html
    assert 'name="schedule.absence_days_ahead" inputmode="numeric" value="60"' in html
    async with pages.get("/integrations/acme") as page:
        assert "Long leave = 13; Sabbatical = 12" in await page.text()

    # Wrong values are refused naming the field, the form shown again, nothing stored.
    edit = {**form}
    del edit["id"]
    cases = {
        "absences.overrides": ("Long leave = 1", 'absences.overrides."Long leave": expected a two'),
        "absences.codes": ("99", "absences.codes: unknown absence code '99'"),
        "schedule.absence_days_ahead": ("400", "schedule.absence_days_ahead: expected a whole"),
    }
    for field, (value, words) in cases.items():
        async with pages.post("/integrations/acme/edit", data={**edit, field: value}) as answer:
            assert answer.status == 400, field
            html = await answer.text()
        assert _alert(html).startswith(f"Not saved: {words}"), (field, _alert(html))
        assert html_text.escape(value, quote=False) in html, field
    bad_line = {**edit, "absences.overrides": "Long leave 13"}
    async with pages.post("/integrations/acme/edit", data=bad_line) as answer:
        assert answer.status == 400
        assert "absences.overrides: line 1: expected" in _alert(await answer.text())
    again = await registry.get("acme")
    assert again is not None
    assert (again.version, again.settings) == (stored.version, stored.settings)

    # Cleared: every code, the default table.
    cleared = {**edit, "absences.codes": [], "absences.overrides": ""}
    async with pages.post("/integrations/acme/edit", data=cleared, allow_redirects=False) as answer:
        assert answer.status == 303
    cleared_now = await registry.get("acme")
    assert cleared_now is not None
    assert (cleared_now.settings.absences.codes, cleared_now.settings.absences.overrides) == (
        [],
        {},
    )


async def test_remove_an_integration_after_typing_its_id(
    pages: Client, sims: RunningSimulators, registry: Registry, database_url: str
) -> None:
    csrf = await _log_in(pages)
    async with pages.post("/integrations/new", data=_form(sims, csrf)) as answer:
        assert answer.status == 200
    async with pages.get("/integrations/acme") as page:
        assert 'href="/integrations/acme/remove"' in await page.text()
    async with pages.get("/integrations/acme/remove") as page:
        html = await page.text()
    assert page.status == 200
    for said in ("schedule stops", '"integration removed"', "tokens are deleted", "30 days"):
        assert said in html, said

    # A wrong or missing id, or no CSRF token: nothing removed.
    for typed, words in (
        ("acme2", "that is not this integration's id"),
        ("", "type its id to remove it"),
    ):
        form = {"csrf": csrf, "confirm": typed}
        async with pages.post("/integrations/acme/remove", data=form) as answer:
            assert answer.status == 400, typed
            assert _alert(await answer.text()) == f"confirm: {words}. Nothing removed."
    async with pages.post(
        "/integrations/acme/remove", data={"csrf": "forged", "confirm": "acme"}
    ) as answer:
        assert answer.status == 403
    assert await registry.get("acme") is not None

    form = {"csrf": csrf, "confirm": " acme "}
    async with pages.post("/integrations/acme/remove", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/integrations?removed=acme"
    assert await registry.get("acme") is None
    connection = await asyncpg.connect(database_url)
    try:
        row = await connection.fetchrow(
            "SELECT settings, simployer_token, payroll_token, removed_at FROM integrations"
            " WHERE id = 'acme'"
        )
    finally:
        await connection.close()
    assert row is not None
    assert (row["settings"], row["simployer_token"], row["payroll_token"]) == (None, None, None)
    assert row["removed_at"] is not None
    async with pages.get("/integrations?removed=acme") as page:
        html = await page.text()
    assert "Integration acme removed" in html
    assert 'data-integration="acme"' not in html
    async with pages.get("/integrations/acme/remove") as page:
        assert page.status == 404
    async with pages.post("/integrations/acme/remove", data=form) as answer:
        assert answer.status == 404


async def test_without_a_registry_the_file_is_shown_read_only(
    tmp_path: Path, store: RunStore, recorder: Recorder[Task], sims: RunningSimulators
) -> None:
    config = tmp_path / "integrations.toml"
    config.write_text(
        integration_toml(
            "filed",
            simployer_url=sims.simployer_url,
            payroll_url=sims.payroll_url,
            token_envs=("DEMO_SIMPLOYER_TOKEN", "DEMO_PAYROLL_TOKEN"),
        )
    )
    catalog = LiveCatalog.from_file(str(config), environ=simulator_tokens(sims))
    async with await _client(store, recorder, catalog, None) as client:
        csrf = await _log_in(client)
        async with client.get("/integrations") as page:
            html = await page.text()
        assert 'data-integration="filed"' in html
        assert "editing them here needs the integration registry" in html
        assert "Add integration" not in html
        async with client.get("/integrations/filed") as page:
            html = await page.text()
        assert "DEMO_SIMPLOYER_TOKEN" in html
        assert "Edit settings" not in html
        assert "Remove integration" not in html
        for path in (
            "/integrations/new",
            "/integrations/filed/edit",
            "/integrations/filed/remove",
        ):
            async with client.get(path) as page:
                assert page.status == 409
                assert "needs the integration registry" in await page.text()
        async with client.post("/integrations/new", data=_form(sims, csrf)) as answer:
            assert answer.status == 409
        remove = {"csrf": csrf, "confirm": "filed"}
        async with client.post("/integrations/filed/remove", data=remove) as answer:
            assert answer.status == 409
        assert "filed" in catalog.settings.integrations
        # The actions change no settings: they work from the file.
        async with client.post("/integrations/filed/check", data={"csrf": csrf}) as answer:
            assert "Connection check: both tokens work" in await answer.text()
        async with client.get("/integrations/nobody") as page:
            assert page.status == 404
    await catalog.close()

"""The dashboard's pages over real HTTP without a browser: access, sessions, CSRF, masking.

Real Redis (a key prefix per test); runs are seeded the way a worker records them. The browser
tests (tests/browser/) drive the same pages in Chromium against a real worker.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient

from payroll_sync.dashboard.session import COOKIE_NAME
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import EmployeeTask, Task
from payroll_sync.schemas.outcomes import FieldChange, RecordOutcome
from tests.support import processes
from tests.support.auth import bearer
from tests.support.dashboard import OPERATOR_TOKEN, csrf_of
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.recorders import Recorder
from tests.support.runs import Seed, seed_run

pytestmark = pytest.mark.integration

SSN = "20059800850"
ACCOUNT = "60114639071"
SALARY = "67800.00"
ADDRESS = "Dronningens gate 92"
DIFF = [
    FieldChange(field="personnr", old="", new=SSN),
    FieldChange(field="internationalID", old="", new=f'{{"countryCode":"NO","ID":"{SSN}"}}'),
    FieldChange(field="account", old="", new=ACCOUNT),
    FieldChange(field="salary", old="", new=SALARY),
    FieldChange(field="postaddress", old="", new=ADDRESS),
    FieldChange(field="lastname", old="", new="Berg"),
]
PAGES = ["/", "/runs", "/runs/x", "/failures", "/failures?reason=ssn", "/failures/retry-all"]
ACTIONS = [
    "/logout",
    "/failures/retry",
    "/failures/retry-all",
    "/failures/acme%3Aemployees%3A1/retry",
    "/failures/acme%3Aemployees%3A1/discard",
]

Client = TestClient[Any, Any]


async def _log_in(client: Client, next_path: str = "/runs") -> str:
    """Log in through the form; the CSRF token of the logged-in session."""
    async with client.get(f"/login?next={next_path}") as page:
        csrf = csrf_of(await page.text())
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": next_path}
    async with client.post("/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == next_path
    async with client.get("/runs") as page:
        assert page.status == 200
        return csrf_of(await page.text())


async def test_every_page_sends_a_stranger_to_login(client: Client) -> None:
    for path in PAGES:
        async with client.get(path, allow_redirects=False) as answer:
            assert answer.status == 302, path
            assert answer.headers["Location"].startswith("/login?next=")
    async with client.get("/failures?reason=ssn") as answer:  # follows to the login page
        assert answer.url.path == "/login"
        assert "Operator token" in await answer.text()
    for path in ACTIONS:
        async with client.post(path, data={"csrf": "x"}, allow_redirects=False) as answer:
            assert (answer.status, answer.headers["Location"]) == (303, "/login"), path
    async with client.get("/static/pico.classless.min.css") as answer:
        assert answer.status == 200
        assert "Pico CSS" in (await answer.text())[:200], "vendored with its licence header"


async def test_login_sets_a_strict_http_only_cookie_and_never_echoes_the_token(
    client: Client,
) -> None:
    async with client.get("/login") as page:
        csrf = csrf_of(await page.text())
    wrong = "wrong-token-7f1e9a"
    async with client.post("/login", data={"csrf": csrf, "token": wrong}) as answer:
        assert answer.status == 401
        text = await answer.text()
        assert "not the operator token" in text
        assert wrong not in text
        assert OPERATOR_TOKEN not in text
    # Without the login form's CSRF token, even the right token is refused.
    async with client.post("/login", data={"token": OPERATOR_TOKEN}) as answer:
        assert answer.status == 403
    form = {"csrf": csrf, "token": OPERATOR_TOKEN, "next": "https://evil.example/"}
    async with client.post("/login", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/runs", "never sent off-site"
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert OPERATOR_TOKEN not in cookie
        assert OPERATOR_TOKEN not in answer.headers["Location"]
    async with client.get("/runs") as page:
        assert page.status == 200
        text = await page.text()
        assert OPERATOR_TOKEN not in text
        assert page.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]


async def test_forms_without_their_csrf_token_are_refused(
    client: Client, store: RunStore, recorder: Recorder[Task]
) -> None:
    await seed_run(store, [Seed("1"), Seed("2")])
    csrf = await _log_in(client)
    for data in ({}, {"csrf": ""}, {"csrf": csrf[:-2] + "xx"}, {"csrf": "ø" * 5}):
        for path in ACTIONS:
            async with client.post(path, data={**data, "id": "acme:employees:1"}) as answer:
                assert answer.status == 403, (path, data)
                assert "Form refused" in await answer.text()
    assert recorder.calls == []
    assert len(await store.failures.listing()) == 2, "nothing discarded"
    # With it, the same form works.
    form = {"csrf": csrf}
    path = "/failures/acme%3Aemployees%3A1/discard"
    async with client.post(path, data=form, allow_redirects=False) as answer:
        assert answer.status == 303
        assert answer.headers["Location"] == "/failures?discarded=1"
    assert [failure.id for failure in await store.failures.listing()] == ["acme:employees:2"]


async def test_logout_ends_the_session_even_for_a_kept_cookie(client: Client) -> None:
    csrf = await _log_in(client)
    value = client.session.cookie_jar.filter_cookies(client.make_url("/"))[COOKIE_NAME].value
    kept = {"Cookie": f"{COOKIE_NAME}={value}"}

    async def with_kept_cookie() -> int:
        # A separate client that only has the copied cookie.
        async with (
            ClientSession() as other,
            other.get(client.make_url("/runs"), headers=kept, allow_redirects=False) as answer,
        ):
            return answer.status

    assert await with_kept_cookie() == 200
    async with client.post("/logout", data={"csrf": csrf}, allow_redirects=False) as answer:
        assert (answer.status, answer.headers["Location"]) == (303, "/login")
    async with client.get("/runs", allow_redirects=False) as answer:
        assert answer.status == 302
    assert await with_kept_cookie() == 302, "a copy of the cookie is worthless after logout"


class _Texts(HTMLParser):
    """Each text node with the names of the elements it is inside."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.texts: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("input", "meta", "link", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.texts.append((data, tuple(self.open)))


def _inside(html: str, needle: str) -> list[tuple[str, ...]]:
    parser = _Texts()
    parser.feed(html)
    return [where for text, where in parser.texts if needle in text]


async def test_failures_page_masks_identifiers_and_hides_salary_until_expanded(
    client: Client, store: RunStore
) -> None:
    await seed_run(store, [Seed("17", diff=DIFF)])
    await _log_in(client)
    async with client.get("/failures") as page:
        html = await page.text()
    assert SSN not in html
    assert ACCOUNT not in html
    assert "•••••••0850" in html
    assert "•••••••9071" in html
    for hidden in (SALARY, ADDRESS):
        places = _inside(html, hidden)
        assert places, hidden
        # Inside a <details> of its own, within the record's collapsed list of changes.
        assert all(where.count("details") == 2 for where in places), places
    assert "Berg" in html
    assert "ssn is not a valid fødselsnummer or D-nummer" in html
    async with client.get(f"/runs/{(await store.failures.listing())[0].run_id}") as page:
        html = await page.text()
    assert SSN not in html
    assert ACCOUNT not in html
    assert all(where.count("details") == 2 for where in _inside(html, SALARY))


async def test_failures_page_filters_and_groups_by_reason(client: Client, store: RunStore) -> None:
    note = "employment.note must be the 7-digit profession code"
    await seed_run(store, [Seed("1"), Seed("2", reason=note), Seed("3"), Seed("4", reason=note)])
    await seed_run(store, [Seed("9", reason=note)], integration="beta")
    await _log_in(client)

    def shown(html: str) -> list[str]:
        return sorted(re.findall(r'data-failure-id="([^"]+)"', html))

    async with client.get("/failures") as page:
        html = await page.text()
    assert len(shown(html)) == 5
    assert re.search(r"ssn is not a valid fødselsnummer or D-nummer</a>: 2", html)
    assert re.search(rf"{re.escape(note)}</a>: 3", html)
    async with client.get("/failures?integration=acme&reason=NOTE") as page:
        assert shown(await page.text()) == ["acme:employees:2", "acme:employees:4"]
    async with client.get("/failures?employee_number=9") as page:
        assert shown(await page.text()) == ["beta:employees:9"]
    async with client.get("/failures?reason=" + "x" * 300) as page:
        assert page.status == 400
        assert "reason: at most" in await page.text()


async def test_retry_all_asks_first_then_retries_exactly_what_matches(
    client: Client, store: RunStore, recorder: Recorder[Task]
) -> None:
    note = "employment.note must be the 7-digit profession code"
    await seed_run(store, [Seed("1"), Seed("2", reason=note), Seed("3", reason=note)])
    await seed_run(store, [Seed("2", reason=note)], integration="beta")
    csrf = await _log_in(client)
    async with client.get("/failures/retry-all?integration=acme&reason=note") as page:
        html = await page.text()
    assert "Retry 2</button>" in html
    assert recorder.calls == [], "the confirmation page retries nothing"
    confirmed = re.findall(r'<input type="hidden" name="id" value="([^"]+)">', html)
    assert sorted(confirmed) == ["acme:employees:2", "acme:employees:3"]
    # A forged extra id outside the filter is ignored; only the filtered set is retried.
    form = [
        ("csrf", csrf),
        ("integration", "acme"),
        ("reason", "note"),
        ("employee_number", ""),
        *[("id", ident) for ident in [*confirmed, "acme:employees:1", "beta:employees:2"]],
    ]
    async with client.post("/failures/retry-all", data=form, allow_redirects=False) as answer:
        assert answer.status == 303
        location = answer.headers["Location"]
    assert recorder.keys == ["2", "3"]
    assert {task.integration for call in recorder.calls for task in call} == {"acme"}
    assert location.startswith("/failures?integration=acme&reason=note&retried=2")
    async with client.get(location) as page:
        assert "2 queued for retry" in await page.text()


async def test_retry_selected_and_retry_one(
    client: Client, store: RunStore, recorder: Recorder[Task]
) -> None:
    await seed_run(store, [Seed("1"), Seed("2"), Seed("3")])
    csrf = await _log_in(client)
    form = [("csrf", csrf), ("id", "acme:employees:1"), ("id", "acme:employees:3")]
    async with client.post("/failures/retry", data=form, allow_redirects=False) as answer:
        assert answer.headers["Location"] == "/failures?retried=2&not_failing=0&task_gone=0"
    assert recorder.keys == ["1", "3"]
    path = "/failures/acme%3Aemployees%3A2/retry"
    async with client.post(path, data={"csrf": csrf, "reason": "ssn"}) as page:
        html = await page.text()
        assert page.url.query.get("reason") == "ssn", "back to the same filter"
    assert recorder.keys == ["1", "2", "3"]
    assert html.count("retry queued") == 3


def _cli(env: dict[str, str]) -> subprocess.Popen[str]:
    return processes.start(
        [*processes.CLI, "dashboard", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PAYROLL_SYNC")}
    config = tmp_path / "integrations.toml"
    config.write_text("", encoding="utf-8")
    env.update(PAYROLL_SYNC_CONFIG=str(config), REDIS_URL=REDIS_URL)
    env["PAYROLL_SYNC_PREFIX"] = unique_prefix()
    return env


async def test_the_command_refuses_to_start_without_an_operator_token(tmp_path: Path) -> None:
    process = _cli(_clean_env(tmp_path))
    _, err = await asyncio.to_thread(process.communicate, timeout=60)
    assert process.returncode == 2
    assert "PAYROLL_SYNC_OPERATOR_TOKEN" in err


async def test_the_command_serves_the_dashboard_until_stopped(tmp_path: Path) -> None:
    env = {**_clean_env(tmp_path), "PAYROLL_SYNC_OPERATOR_TOKEN": OPERATOR_TOKEN}
    process = _cli(env)
    try:
        line = await processes.first_line(process)
        found = re.search(r"http://\S+/", line)
        assert found is not None, line
        async with ClientSession() as http:
            async with http.get(found.group() + "login") as page:
                assert page.status == 200
                assert "Operator token" in await page.text()
            headers = bearer(OPERATOR_TOKEN)
            async with http.get(found.group() + "api/v1/failures", headers=headers) as answer:
                assert answer.status == 200
                assert (await answer.json())["failures"] == []
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(process.communicate, timeout=30)
        assert process.returncode == 0, err
        assert OPERATOR_TOKEN not in line + err, "the token is never logged"
    finally:
        processes.stop(process)


async def test_a_running_run_shows_its_progress_and_reloads_itself(
    client: Client, store: RunStore
) -> None:
    run_id = await store.create_run(
        integration="acme", kind="employees", trigger="scheduled", dry_run=False, now=time.time()
    )
    tasks = [
        EmployeeTask(run_id=run_id, integration="acme", employee_number=n, employee_id=f"id-{n}")
        for n in ("1", "2", "3", "4")
    ]
    await store.enrol(run_id, [(task, None) for task in tasks])
    await store.record(
        run_id,
        "acme",
        "employees",
        RecordOutcome(employee_number="1", outcome="updated", finished_at=time.time()),
    )
    await _log_in(client)
    for path in ("/runs", f"/runs/{run_id}"):
        async with client.get(path) as page:
            html = await page.text()
        assert '<progress value="1" max="4">' in html, path
        assert '<meta http-equiv="refresh" content="5">' in html, path
    for number in ("2", "3", "4"):
        await store.record(
            run_id,
            "acme",
            "employees",
            RecordOutcome(employee_number=number, outcome="unchanged", finished_at=time.time()),
        )
    async with client.get(f"/runs/{run_id}") as page:
        html = await page.text()
    assert "<progress" not in html
    assert "http-equiv" not in html, "a finished run stops reloading"


async def test_a_runs_records_filter_by_outcome_and_absences_show_the_leave(
    client: Client, store: RunStore
) -> None:
    employees = await seed_run(store, [Seed("1"), Seed("2", "created"), Seed("3", "created")])
    absences = await seed_run(
        store,
        [Seed("leave-77", employee_number="5"), Seed("leave-78", "created", employee_number="5")],
        kind="absences",
    )
    await _log_in(client)

    def numbers(html: str) -> list[str]:
        body = html.split("<h2>Records", 1)[1]
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", body)

    async with client.get(f"/runs/{employees}?outcome=created") as page:
        assert numbers(await page.text()) == ["2", "3"]
    async with client.get(f"/runs/{employees}?outcome=failed") as page:
        assert numbers(await page.text()) == ["1"]
    async with client.get(f"/runs/{employees}?outcome=nonsense") as page:
        assert page.status == 400
    async with client.get("/runs/no-such-run") as page:
        assert page.status == 404
    async with client.get(f"/runs/{absences}") as page:
        html = await page.text()
    assert '<th scope="col">Leave id</th>' in html
    assert "<td>leave-77</td>" in html
    assert "<td>leave-78</td>" in html
    async with client.get("/failures") as page:
        assert "leave leave-77" in await page.text()

"""Shared by the dashboard's integration and browser tests: seeded failures, a served app."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from aiohttp import web

from payroll_sync.dashboard.app import create_app
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, SyncKind, Task
from payroll_sync.schemas.outcomes import FieldChange, Outcome, RecordOutcome

OPERATOR_TOKEN = "operator-token-for-tests-0b8f3c"


class Recorder:
    """An enqueue that keeps the tasks it was given instead of sending them to a queue."""

    def __init__(self) -> None:
        self.calls: list[list[Task]] = []

    async def __call__(self, tasks: Sequence[Task]) -> None:
        self.calls.append(list(tasks))

    @property
    def keys(self) -> list[str]:
        return sorted(task.key for call in self.calls for task in call)


class Seed:
    """One record of a seeded run."""

    def __init__(
        self,
        key: str,
        outcome: Outcome = "failed",
        *,
        reason: str = "ssn is not a valid fødselsnummer or D-nummer",
        field: str = "ssn",
        diff: Sequence[FieldChange] = (),
        employee_number: str = "",
        attempt: int = 1,
    ) -> None:
        self.key = key
        self.outcome = outcome
        self.reason = reason if outcome == "failed" else ""
        self.field = field if outcome == "failed" else ""
        self.diff = list(diff)
        self.employee_number = employee_number or key
        self.attempt = attempt


async def seed_run(
    store: RunStore,
    records: Sequence[Seed],
    *,
    integration: str = "acme",
    kind: SyncKind = "employees",
) -> str:
    """A finished run with these outcomes, recorded as a worker would record them."""
    now = time.time()
    run_id = await store.create_run(
        integration=integration, kind=kind, trigger="manual", dry_run=False, now=now
    )
    tasks: list[tuple[Task, None]] = []
    for seed in records:
        task: Task
        if kind == "absences":
            task = AbsenceTask(
                run_id=run_id,
                integration=integration,
                employee_number=seed.employee_number,
                employee_id=f"id-{seed.employee_number}",
                leave_id=seed.key,
            )
        else:
            task = EmployeeTask(
                run_id=run_id,
                integration=integration,
                employee_number=seed.key,
                employee_id=f"id-{seed.key}",
            )
        tasks.append((task, None))
    await store.enrol(run_id, tasks)
    for seed in records:
        await store.record(
            run_id,
            integration,
            kind,
            RecordOutcome(
                employee_number=seed.employee_number,
                leave_id=seed.key if kind == "absences" else "",
                outcome=seed.outcome,
                reason=seed.reason,
                field=seed.field,
                attempt=seed.attempt,
                finished_at=now,
                diff=seed.diff,
            ),
        )
    return run_id


@asynccontextmanager
async def served_dashboard(
    producer: Producer, *, token: str = OPERATOR_TOKEN
) -> AsyncIterator[str]:
    """The dashboard on a free loopback port; yields its base URL (no trailing slash)."""
    app = create_app(producer=producer, operator_token=token, login_delay=0.0)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


_CSRF = re.compile(r'<input type="hidden" name="csrf" value="([^"]+)">')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF field on the page"
    return found.group(1)


def repaired(number: str, is_valid: Callable[[str], bool]) -> str:
    """The generator breaks a fødselsnummer or account number by its last digit: put it right."""
    return next(number[:-1] + digit for digit in "0123456789" if is_valid(number[:-1] + digit))

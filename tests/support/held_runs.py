"""Runs held by the mass-change brake, set up directly in the run store: for the tests of the
dashboard's pages and API, which show what the producer counted (not how it counted it).

A held run is created with `RunStore.create_run`, its employees enrolled as the producer
enrols them, its `BrakeSummary` saved with `save_brake_summary`, and its status set to
`awaiting_approval` in its Redis hash (the producer's job; test setup only).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Final

from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.brake import BrakeSummary, Decision, FieldCount, FieldExample
from payroll_sync.schemas.masking import mask_identifier
from payroll_sync.schemas.messages import EmployeeTask, Task
from payroll_sync.schemas.outcomes import RunStatus

INTEGRATION: Final = "acme"
EMPLOYEES: Final = 40
#: Identifiers in clear, as a faulty producer might leave them in a summary's examples: the
#: dashboard must mask them all the same.
SSNS: Final = ("20059800850", "15076500565", "01010112345")
ACCOUNTS: Final = ("60114639071", "86014494725", "12345678903")


def number(index: int) -> str:
    return str(10_000 + index)


def summary_of(run_id: str, *, decision: Decision = "held", by: str = "") -> BrakeSummary:
    """Every employee's account blanked (tripped), three fødselsnumre changed (not tripped),
    two salaries (hidden), and one employment ending."""
    accounts = [
        # Half the examples masked as the producer masks them, half in clear.
        FieldExample(
            key=number(index),
            old=ACCOUNTS[index % 3] if index % 2 else mask_identifier(ACCOUNTS[index % 3]),
            new="",
        )
        for index in range(EMPLOYEES)
    ]
    return BrakeSummary(
        run_id=run_id,
        integration=INTEGRATION,
        counted_at=time.time(),
        decision=decision,
        decided_by=by,
        decided_at=time.time() if by else 0.0,
        fields=[
            FieldCount(
                field="salary",
                count=2,
                total=EMPLOYEES,
                threshold=20.0,
                tripped=False,
                examples=[
                    FieldExample(key=number(1), old="41000.00", new="4100.00"),
                    FieldExample(key=number(2), old="•••", new="•••"),
                ],
            ),
            FieldCount(
                field="account",
                count=EMPLOYEES,
                total=EMPLOYEES,
                threshold=20.0,
                tripped=True,
                # The summary keeps at most EXAMPLES_PER_FIELD; 30 here, so "10 more".
                examples=accounts[:30],
            ),
            FieldCount(
                field="personnr",
                count=3,
                total=EMPLOYEES,
                threshold=20.0,
                tripped=False,
                examples=[
                    FieldExample(key=number(index), old=SSNS[index], new=SSNS[(index + 1) % 3])
                    for index in range(3)
                ],
            ),
            FieldCount(
                field="employment.enddate",
                count=1,
                total=EMPLOYEES,
                threshold=10.0,
                tripped=False,
                examples=[FieldExample(key=number(5), old="", new="2026-12-31")],
            ),
        ],
    )


async def held_run(
    store: RunStore,
    *,
    summary: bool = True,
    decision: Decision = "held",
    by: str = "",
    status: RunStatus = "awaiting_approval",
    integration: str = INTEGRATION,
    employees: int = EMPLOYEES,
) -> str:
    """A run of `employees` enrolled employees, with a brake summary and `status`."""
    run_id = await store.create_run(
        integration=integration,
        kind="employees",
        trigger="scheduled",
        dry_run=False,
        now=time.time(),
    )
    tasks: Sequence[tuple[Task, None]] = [
        (
            EmployeeTask(
                run_id=run_id,
                integration=integration,
                employee_number=number(index),
                employee_id=f"id-{number(index)}",
            ),
            None,
        )
        for index in range(employees)
    ]
    await store.enrol(run_id, tasks)
    if summary:
        await store.save_brake_summary(summary_of(run_id, decision=decision, by=by))
    await store.redis.hset(store.keys.run(run_id), "status", status)
    return run_id

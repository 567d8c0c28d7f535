"""The golden sync: an employee sync, then an absence sync, of a generated company of 500.

`capture()` runs both syncs against the simulators and returns what a person would check: each
record's outcome, and the 24SevenOffice state afterwards. Ids the simulator picks (employment
ids, serial numbers, child ids) and its clock (`lastChanged`, `requestDate`) are left out, and
every date is written as days from the day the company was generated, so the capture made on one
day compares with a run on another. `numberOfDays` is left out for the same reason: it counts
weekdays and holidays, which move with the calendar (the mapping's own tests pin it).

`tests/integration/golden/sync_500.json` was captured with the code as it was before the client
read the published APIs (commit e22e4a6, with this module and the helpers it needs copied
beside it); `python -m tests.integration.golden_sync` writes it with the code of today. The
capture has two rounds: both syncs of a new company, then deterministic edits in Simployer One
(names, rates, descriptions, cancellations) and both syncs again, so updates and withdrawals are
held to it too.

The generated company depends on the day it is generated (its dates are drawn from ranges that
end on that day), so the company synced is always the one generated on `CAPTURE_DAY`, with every
date moved by as many Oslo calendar days as today is later (`capture_day_tables`).
"""

from __future__ import annotations

import asyncio
import datetime
import re
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from payroll_sync.schemas.messages import Period, SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome
from payroll_sync.simulators.generator import company_rows, generate_company
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, SimulatorThread
from tests.support.simulator_admin import (
    patch_simployer,
    payroll_rows,
    put_simployer_state,
    simployer_rows,
)
from tests.support.stack import INTEGRATION, sync_stack

EMPLOYEES = 500
#: The day the golden capture was made: the company synced is the one generated that day.
CAPTURE_DAY = datetime.date(2026, 11, 30)
SEED = 1
GOLDEN = Path(__file__).parent / "golden" / "sync_500.json"
# Every generated leave lies within these days of the generation day.
PERIOD_DAYS = (-400, 400)
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(.*)$")
_OSLO = ZoneInfo("Europe/Oslo")
# Chosen by the simulator, not by the sync: different on every run.
_VOLATILE = frozenset(
    {
        "employment_id",
        "serialNo",
        "childId",
        "permisjonId",
        "lastChanged",
        "requestDate",
        "numberOfDays",
    }
)


def options(**more: Any) -> SimulatorOptions:
    return SimulatorOptions(
        employees=EMPLOYEES,
        seed=SEED,
        rate_limit_per_second=0,
        simployer_rate_limit_per_second=0,
        **more,
    )


def _moved_text(text: str, days: int) -> str:
    """`text` moved by `days` calendar days when it is a date or an instant, in its own form."""
    match = _DATE.match(text)
    if match is None:
        return text
    try:
        if not match[2]:
            return (datetime.date.fromisoformat(text) + datetime.timedelta(days=days)).isoformat()
        instant = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    step = datetime.timedelta(days=days)
    local = instant.astimezone(_OSLO)
    if instant.time() != datetime.time() and local.time() == datetime.time():
        # Oslo's midnight written in UTC: the midnight of the moved Oslo day (DST may differ).
        moved = datetime.datetime.combine(local.date() + step, datetime.time(), tzinfo=_OSLO)
        instant = moved.astimezone(datetime.UTC)
    else:
        instant = instant + step
    suffix = "Z" if text.endswith("Z") else "+00:00"
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}{suffix}"


def moved(value: object, days: int) -> object:
    """Every date and instant in `value` moved by `days` calendar days."""
    if isinstance(value, str):
        return _moved_text(value, days)
    if isinstance(value, dict):
        return {k: moved(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [moved(v, days) for v in value]
    return value


def capture_day_tables(today: datetime.date) -> dict[str, Any]:
    """The company generated on `CAPTURE_DAY`, as published rows (each leave with its sick child
    and grade, as the capture's data had them), moved to `today`."""
    company = generate_company(EMPLOYEES, SEED, today=CAPTURE_DAY)
    rows = msgspec.to_builtins(company_rows(company, leave_facts=True))
    tables: dict[str, Any] = moved(rows, (today - CAPTURE_DAY).days)  # type: ignore[assignment]
    return tables


def _relative(value: object, day0: datetime.date) -> object:
    if isinstance(value, str) and (match := _DATE.match(value)):
        try:
            day = datetime.date.fromisoformat(match[1])
        except ValueError:
            return value
        return f"day{(day - day0).days:+d}{match[2]}"
    if isinstance(value, dict):
        return {k: _relative(v, day0) for k, v in sorted(value.items()) if k not in _VOLATILE}
    if isinstance(value, list):
        return [_relative(v, day0) for v in value]
    return value


def _outcomes(outcomes: list[RecordOutcome]) -> dict[str, list[object]]:
    return {
        item.key: [item.outcome, item.field, item.reason, sorted(item.changed)]
        for item in sorted(outcomes, key=lambda o: o.key)
    }


def _state(raw: dict[str, Any], day0: datetime.date) -> dict[str, Any]:
    """The payroll company, ordered by what identifies a row to a person, not by its id."""
    children = {row["childId"]: (row["firstname"], row["birthdate"]) for row in raw["child"]}
    absences = []
    for row in raw["absence"]:
        child = children.get(row.get("childId", ""))
        absences.append({**row, "child": list(child) if child else None})
    state = {
        "employee": sorted(raw["employee"], key=lambda r: int(r["empId"])),
        "employment": sorted(raw["employment"], key=lambda r: (int(r["empId"]), r["startdate"])),
        "absence": sorted(absences, key=lambda r: (r["externalId"], int(r["empId"]))),
        "child": sorted(raw["child"], key=lambda r: (int(r["empId"]), r["firstname"])),
    }
    return {name: _relative(rows, day0) for name, rows in state.items()}


async def _change_hr(sims: RunningSimulators, first_employees: dict[str, list[object]]) -> None:
    """Deterministic edits in Simployer One for the second round: last names and employment
    rates of some created employees, descriptions of some exported leaves, a few cancelled."""
    tables: dict[str, Any] = msgspec.json.decode(await simployer_rows(sims))
    employees = {row["employeeNumber"]: row for row in tables["employee"]}
    created = sorted(key for key, item in first_employees.items() if item[0] == "created")
    for n, number in enumerate(created):
        row = employees[number]
        if n % 7 == 0:
            await patch_simployer(
                sims, "employee", row["id"], {"lastName": f"{row['lastName']}-Ny"}
            )
        if n % 11 == 0 and row.get("employmentId"):
            await patch_simployer(sims, "employment", row["employmentId"], {"rate": 60})
    exported = sorted(
        row["id"] for row in tables["leave"] if row["status"] in ("APPROVED", "CONFIRMED")
    )
    for n, leave_id in enumerate(exported):
        if n % 9 == 0:
            await patch_simployer(sims, "leave", leave_id, {"description": "Endret"})
        elif n % 13 == 0:
            await patch_simployer(sims, "leave", leave_id, {"status": "CANCELLED"})


async def run_both(sims: RunningSimulators) -> dict[str, Any]:
    """Both syncs, then edits in Simployer One and both syncs again (updates and withdrawals)."""
    day0 = datetime.date.today()
    period = Period(
        start=day0 + datetime.timedelta(days=PERIOD_DAYS[0]),
        end=day0 + datetime.timedelta(days=PERIOD_DAYS[1]),
    )
    employee_sync = SyncRequest(integration=INTEGRATION)
    absence_sync = SyncRequest(integration=INTEGRATION, kind="absences", period=period)
    rounds: list[list[RecordOutcome]] = []
    async with sync_stack(sims) as stack:
        for request in (employee_sync, absence_sync):
            run, outcomes = await stack.sync(request)
            assert run.status == "done"
            rounds.append(outcomes)
        first = await payroll_rows(sims)
        await _change_hr(sims, _outcomes(rounds[0]))
        for request in (employee_sync, absence_sync):
            run, outcomes = await stack.sync(request)
            assert run.status == "done"
            rounds.append(outcomes)
    return {
        "employees": _outcomes(rounds[0]),
        "absences": _outcomes(rounds[1]),
        "payroll": _state(first, day0),
        "employees_again": _outcomes(rounds[2]),
        "absences_again": _outcomes(rounds[3]),
        "payroll_again": _state(await payroll_rows(sims), day0),
    }


def with_unknown_fields(tables: dict[str, Any], count: int = 20) -> dict[str, Any]:
    """Every row with `count` fields no publisher has listed (yet), of every JSON kind, and
    nested objects (`bankAccount`, `homeAddress`, `tax`) with some of their own."""
    kinds: list[object] = [None, True, 7, 2.5, "text", [1, "two"], {"deep": {"er": [None]}}]
    extra = {f"notYetPublished{n}": kinds[n % len(kinds)] for n in range(count)}
    out: dict[str, Any] = {}
    for name, rows in tables.items():
        out[name] = []
        for row in rows:
            changed = {**row, **extra}
            for nested in ("bankAccount", "homeAddress", "tax"):
                if isinstance(row.get(nested), dict):
                    changed[nested] = {**row[nested], "notYetPublished": {"a": [1]}, "iso": None}
            out[name].append(changed)
    return out


async def _capture(sims: RunningSimulators) -> dict[str, Any]:
    await put_simployer_state(sims, capture_day_tables(datetime.date.today()))
    return await run_both(sims)


def capture(**more: Any) -> dict[str, Any]:
    with SimulatorThread(options(**more)) as sims:
        return asyncio.run(_capture(sims))


def main() -> None:
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_bytes(msgspec.json.format(msgspec.json.encode(capture()), indent=1) + b"\n")
    sys.stdout.write(f"wrote {GOLDEN}\n")


if __name__ == "__main__":
    main()

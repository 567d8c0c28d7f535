"""The simulators' admin routes (`/_admin/...`): their state, request counts and settings.

Each call raises on an answer other than 2xx: a test's set-up that failed must not pass as
the behaviour under test.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import msgspec

from payroll_sync.schemas import payroll
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.serve import RunningSimulators


async def admin_call(method: str, url: str, body: object = None) -> bytes:
    """One call to an admin route; its answer's body."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body) as answer,
    ):
        answer.raise_for_status()
        return await answer.read()


# ------------------------------------------------------------ either simulator, by admin URL


async def requests_of(admin: str, *, log: bool = False) -> dict[str, Any]:
    """The simulator's request counts (and its request log, with `log`)."""
    suffix = "?log=1" if log else ""
    report: dict[str, Any] = msgspec.json.decode(
        await admin_call("GET", f"{admin}/requests{suffix}")
    )
    return report


async def reset_requests(admin: str) -> None:
    await admin_call("DELETE", f"{admin}/requests")


async def patch_settings(admin: str, **settings: object) -> None:
    """Change some of the simulator's settings (faults, limits, modes) while it runs."""
    await admin_call("PATCH", f"{admin}/settings", settings)


# ------------------------------------------------------------------ 24SevenOffice


async def payroll_state(sims: RunningSimulators) -> payroll.Dataset:
    raw = await admin_call("GET", f"{sims.payroll_admin}/state")
    return msgspec.json.decode(raw, type=payroll.Dataset)


async def put_payroll_state(sims: RunningSimulators, state: payroll.Dataset) -> None:
    await admin_call("PUT", f"{sims.payroll_admin}/state", msgspec.to_builtins(state))


async def payroll_rows(sims: RunningSimulators) -> dict[str, Any]:
    """The payroll simulator's company as plain JSON (what it stores, field for field)."""
    rows: dict[str, Any] = msgspec.json.decode(
        await admin_call("GET", f"{sims.payroll_admin}/state")
    )
    return rows


async def payroll_requests(sims: RunningSimulators, *, log: bool = False) -> dict[str, Any]:
    return await requests_of(sims.payroll_admin, log=log)


async def reset_payroll_requests(sims: RunningSimulators) -> None:
    await reset_requests(sims.payroll_admin)


async def set_payroll_faults(sims: RunningSimulators, **settings: object) -> None:
    await patch_settings(sims.payroll_admin, **settings)


# ------------------------------------------------------------------ Simployer One


async def simployer_state(sims: RunningSimulators) -> published.Company:
    """The simulator's company as published rows (fields beyond them are dropped here)."""
    return msgspec.json.decode(await simployer_rows(sims), type=published.Company)


async def simployer_rows(sims: RunningSimulators) -> bytes:
    """The simulator's company exactly as it holds it: `{resource: [rows]}`."""
    return await admin_call("GET", f"{sims.simployer_admin}/state")


async def put_simployer_state(sims: RunningSimulators, state: object) -> None:
    """Replace the company: a `published.Company`, or tables of rows in the API's format."""
    await admin_call("PUT", f"{sims.simployer_admin}/state", msgspec.to_builtins(state))


async def patch_simployer(
    sims: RunningSimulators, resource: str, row_id: str, change: dict[str, object]
) -> None:
    await admin_call("PATCH", f"{sims.simployer_admin}/state/{resource}/{row_id}", change)

"""Shared pieces of the end-to-end sync tests: the stack, simulator state and request counts."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import msgspec

from payroll_sync.schemas import payroll
from payroll_sync.schemas.settings import Worker
from payroll_sync.simulators import simployer_published as published
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import Stack, local_stack, simulator_settings

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
INTEGRATION = "demo"


def unique_prefix() -> str:
    """Keys of one test under a prefix of their own, removed by the stack at the end."""
    return f"payroll-sync-test-{secrets.token_hex(4)}"


@asynccontextmanager
async def sync_stack(
    sims: RunningSimulators,
    *,
    rate_limit_per_second: float = 200.0,
    worker: Worker | None = None,
    worker_threads: int = 8,
) -> AsyncIterator[Stack]:
    settings, env = simulator_settings(
        sims,
        integration=INTEGRATION,
        rate_limit_per_second=rate_limit_per_second,
        worker=worker or Worker(first_retry_seconds=0.2, max_retry_delay_seconds=2.0),
    )
    async with local_stack(
        settings, env, redis_url=REDIS_URL, prefix=unique_prefix(), worker_threads=worker_threads
    ) as stack:
        yield stack


async def _admin(method: str, url: str, body: object = None) -> bytes:
    """One call to a simulator's admin routes; raises on anything but 2xx."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body) as answer,
    ):
        answer.raise_for_status()
        return await answer.read()


async def payroll_state(sims: RunningSimulators) -> payroll.Dataset:
    raw = await _admin("GET", f"{sims.payroll_admin}/state")
    return msgspec.json.decode(raw, type=payroll.Dataset)


async def put_payroll_state(sims: RunningSimulators, state: payroll.Dataset) -> None:
    await _admin("PUT", f"{sims.payroll_admin}/state", msgspec.to_builtins(state))


async def simployer_state(sims: RunningSimulators) -> published.Company:
    """The simulator's company as published rows (fields beyond them are dropped here)."""
    return msgspec.json.decode(await simployer_rows(sims), type=published.Company)


async def simployer_rows(sims: RunningSimulators) -> bytes:
    """The simulator's company exactly as it holds it: `{resource: [rows]}`."""
    return await _admin("GET", f"{sims.simployer_admin}/state")


async def put_simployer_state(sims: RunningSimulators, state: object) -> None:
    """Replace the company: a `published.Company`, or tables of rows in the API's format."""
    await _admin("PUT", f"{sims.simployer_admin}/state", msgspec.to_builtins(state))


async def payroll_rows(sims: RunningSimulators) -> dict[str, Any]:
    """The payroll simulator's company as plain JSON (what it stores, field for field)."""
    rows: dict[str, Any] = msgspec.json.decode(await _admin("GET", f"{sims.payroll_admin}/state"))
    return rows


async def payroll_requests(sims: RunningSimulators, *, log: bool = False) -> dict[str, Any]:
    suffix = "?log=1" if log else ""
    report: dict[str, Any] = msgspec.json.decode(
        await _admin("GET", f"{sims.payroll_admin}/requests{suffix}")
    )
    return report


async def reset_payroll_requests(sims: RunningSimulators) -> None:
    await _admin("DELETE", f"{sims.payroll_admin}/requests")


async def patch_simployer(
    sims: RunningSimulators, resource: str, row_id: str, change: dict[str, object]
) -> None:
    await _admin("PATCH", f"{sims.simployer_admin}/state/{resource}/{row_id}", change)


async def set_payroll_faults(sims: RunningSimulators, **settings: object) -> None:
    await _admin("PATCH", f"{sims.payroll_admin}/settings", settings)

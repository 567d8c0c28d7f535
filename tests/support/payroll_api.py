"""A thin client of the 24SevenOffice simulator for tests that speak its HTTP themselves: the
token exchange once, then JSON calls answering (status, body). The service's own client is
`payroll_sync.connectors.payroll.PayrollClient`; this one sends exactly what a test says."""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp
import msgspec

from tests.support.auth import bearer


class PayrollSimulator(Protocol):
    """Where the simulator answers and its persistent token: `RunningSimulators`, or the
    `payroll-sync simulate` process as a test reads them from its output."""

    payroll_url: str
    payroll_token: str


class Payroll:
    """A thin test client: token exchange once, then JSON calls returning (status, body)."""

    def __init__(self, http: aiohttp.ClientSession, sims: PayrollSimulator) -> None:
        self.http, self.sims = http, sims
        self.headers: dict[str, str] = {}

    async def login(self) -> dict[str, Any]:
        async with self.http.get(
            f"{self.sims.payroll_url}/auth", params={"token": self.sims.payroll_token}
        ) as answer:
            assert answer.status == 200
            body: dict[str, Any] = await answer.json()
        self.headers = bearer(body["accessToken"])
        return body

    async def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        """(status, decoded JSON body); the body is None when the answer has none."""
        async with self.http.request(
            method, self.sims.payroll_url + path, json=body, headers=self.headers
        ) as answer:
            raw = await answer.read()
            return answer.status, msgspec.json.decode(raw) if raw else None

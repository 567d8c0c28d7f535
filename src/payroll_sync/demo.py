"""`payroll-sync demo`: a short tour of the two simulators, over real HTTP.

The sync itself is not built yet; this shows what every test and benchmark stands on: a
generated company in Simployer One, paging and filters, the 24SevenOffice token exchange,
its strict validation, its 409 and its rate limit, and the simulators' request counts.
"""

from __future__ import annotations

import asyncio

import aiohttp
import msgspec

from payroll_sync.cli_output import print_table
from payroll_sync.schemas.simployer import ListBody
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, start_simulators

_list_body = msgspec.json.Decoder(ListBody)


async def _page_all(session: aiohttp.ClientSession, url: str, token: str) -> int:
    seen, offset = 0, 0
    while True:
        async with session.get(
            url, params={"limit": "100", "offset": str(offset)}, headers=_bearer(token)
        ) as answer:
            body = _list_body.decode(await answer.read())
        seen += body.count
        offset += body.count
        if offset >= body.total or not body.count:
            return seen


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _tour(sims: RunningSimulators, session: aiohttp.ClientSession) -> None:
    s_url, s_token = sims.simployer_url, sims.simployer_token
    total = await _page_all(session, f"{s_url}/employee", s_token)
    print(f"Simployer One: paged through {total} employees, 100 at a time")
    async with session.get(
        f"{s_url}/employee",
        params={"filters[active]": "false", "limit": "1", "relations[]": "employment"},
        headers=_bearer(s_token),
    ) as answer:
        inactive = await answer.json()
    print(
        f"  filters[active]=false: {inactive['total']} inactive employees; "
        f"relations[]=employment returned {len(inactive['relations']['employment'])} row(s)"
    )

    p_url = sims.payroll_url
    async with session.get(f"{p_url}/auth", params={"token": sims.payroll_token}) as answer:
        auth = await answer.json()
    print(f"24SevenOffice: GET /auth gave a bearer token valid until {auth['expiresOn']}")
    headers = _bearer(auth["accessToken"])
    attempts = [
        ("create", {"empId": 9001, "firstname": "Demo", "lastname": "Person", "salary": 45000}),
        ("same again", {"empId": 9001, "firstname": "Demo", "lastname": "Person"}),
        ("bad enum", {"empId": 9002, "firstname": "A", "lastname": "B", "salary_type": "weekly"}),
        ("bad empId", {"empId": "12a", "firstname": "A", "lastname": "B"}),
    ]
    rows = []
    for label, body in attempts:
        async with session.post(f"{p_url}/employee/v2", json=body, headers=headers) as answer:
            text = await answer.text()
        rows.append((label, str(answer.status), text[:70]))
    print_table(("POST /employee/v2", "status", "answer"), rows)

    statuses: dict[int, int] = {}
    retry_after = ""
    for _ in range(40):  # faster than the limit allows
        async with session.get(f"{p_url}/absencetypes/v2", headers=headers) as answer:
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            retry_after = answer.headers.get("Retry-After", retry_after)
    print(f"40 quick calls answered {statuses}; a 429 says Retry-After: {retry_after}s")

    async with session.get(sims.payroll_admin + "/requests") as answer:
        counts = await answer.json()
    print(f"24SevenOffice request counts by route: {counts['by_route']}")


async def run_demo(employees: int = 200) -> int:
    print("payroll-sync demo: simulators only (the sync arrives with the next milestone)")
    sims = await start_simulators(SimulatorOptions(employees=employees))
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            await _tour(sims, session)
    finally:
        await sims.close()
    return 0


if __name__ == "__main__":
    asyncio.run(run_demo())

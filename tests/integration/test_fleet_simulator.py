"""The fleet of simulated companies (`simulators/fleet.py`): one process, each company with its
own data, tokens and 24SevenOffice rate limit; its admin routes; its process entry."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import msgspec
import pytest

from payroll_sync.simulators.fleet import (
    CompanyRequests,
    FleetManifest,
    FleetOptions,
    RunningFleet,
    parse_mix,
    start_fleet,
)
from tests.support import processes

pytestmark = pytest.mark.integration
FLEET = [sys.executable, "-m", "payroll_sync.simulators.fleet"]


@pytest.fixture
async def fleet() -> AsyncIterator[RunningFleet]:
    running = await start_fleet(FleetOptions(groups=parse_mix("1x3@1,1x7@2")))
    yield running
    await running.close()


async def _get(http: aiohttp.ClientSession, url: str, **kwargs: object) -> tuple[int, object]:
    async with http.get(url, **kwargs) as answer:  # type: ignore[arg-type]
        return answer.status, await answer.json(content_type=None)


async def _requests(http: aiohttp.ClientSession, admin: str) -> dict[str, CompanyRequests]:
    async with http.get(f"{admin}/fleet/requests") as answer:
        items = msgspec.json.decode(await answer.read(), type=list[CompanyRequests])
    return {item.name: item for item in items}


async def test_each_company_has_its_own_data_tokens_and_rate_limit(fleet: RunningFleet) -> None:
    small, large = (member.company for member in fleet.members)
    assert (small.name, small.employees, small.rate_limit_per_second) == ("c001", 3, 1.0)
    assert (large.name, large.employees, large.rate_limit_per_second) == ("c002", 7, 2.0)
    assert small.payroll_token != large.payroll_token
    assert small.simployer_url != large.simployer_url
    async with aiohttp.ClientSession() as http:
        for company in (small, large):
            status, page = await _get(
                http,
                f"{company.simployer_url}/employee?limit=100",
                headers={"Authorization": f"Bearer {company.simployer_token}"},
            )
            assert status == 200
            assert page["total"] == company.employees  # type: ignore[index]
        # One company's token opens no other company's door.
        status, _ = await _get(
            http,
            f"{large.simployer_url}/employee",
            headers={"Authorization": f"Bearer {small.simployer_token}"},
        )
        assert status == 401
        # Burst twice the rate: 2 token exchanges for the small one, 4 for the large, then 429.
        statuses: dict[str, list[int]] = {}
        for company in (small, large):
            for _ in range(5):
                status, _ = await _get(
                    http, f"{company.payroll_url}/auth", params={"token": company.payroll_token}
                )
                statuses.setdefault(company.name, []).append(status)
        assert statuses == {"c001": [200, 200, 429, 429, 429], "c002": [200] * 4 + [429]}

        counted = await _requests(http, fleet.admin_url)
        assert counted["c001"].payroll == 5
        assert counted["c001"].payroll_by_status == {"200": 2, "429": 3}
        assert counted["c002"].simployer == 2  # its own reader's and the refused one
        assert 0 < counted["c001"].payroll_first_at <= counted["c001"].payroll_last_at

        async with http.delete(f"{fleet.admin_url}/fleet/requests") as answer:
            assert answer.status == 204
        assert {r.payroll for r in (await _requests(http, fleet.admin_url)).values()} == {0}


async def test_one_settings_patch_reaches_every_company(fleet: RunningFleet) -> None:
    async with aiohttp.ClientSession() as http:
        patch = {"error_rate": 1.0, "error_statuses": [503]}
        async with http.patch(f"{fleet.admin_url}/fleet/settings", json=patch) as answer:
            assert answer.status == 204
        for member in fleet.members:
            company = member.company
            status, _ = await _get(
                http,
                f"{company.simployer_url}/employee",
                headers={"Authorization": f"Bearer {company.simployer_token}"},
            )
            assert status == 503
        async with http.patch(f"{fleet.admin_url}/fleet/settings", json={"drop_rate": 2}) as answer:
            assert answer.status == 400
            assert "drop_rate" in (await answer.json())["message"]


def test_a_malformed_mix_is_refused_naming_the_part() -> None:
    with pytest.raises(ValueError, match="'4x@5'"):
        parse_mix("2x50@5,4x@5")
    with pytest.raises(ValueError, match="above 0"):
        parse_mix("0x50@5")
    done = processes.run([*FLEET, "--mix", "2x50"])
    assert done.returncode == 2
    assert "'2x50' is not COUNTxEMPLOYEES@RATE" in done.stderr


async def test_the_fleet_process_writes_its_manifest_and_stops_on_sigterm(tmp_path: Path) -> None:
    manifest_path = tmp_path / "fleet.json"
    process = processes.start(
        [*FLEET, "--mix", "2x5@3", "--manifest", str(manifest_path)], stdout=subprocess.PIPE
    )
    try:
        line = await processes.first_line(process)
        assert line.startswith("fleet of 2 companies; admin http://127.0.0.1:")
        manifest = msgspec.json.decode(manifest_path.read_bytes(), type=FleetManifest)
        assert [c.name for c in manifest.companies] == ["c001", "c002"]
        assert manifest.pid == process.pid
        async with aiohttp.ClientSession() as http:
            status, served = await _get(http, f"{manifest.admin_url}/fleet")
        assert status == 200
        assert msgspec.convert(served, FleetManifest) == manifest
    finally:
        returncode = await asyncio.to_thread(processes.stop, process)
    assert returncode == 0

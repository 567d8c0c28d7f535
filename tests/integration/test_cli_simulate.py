"""`payroll-sync simulate` as a user runs it: a real process, real ports, real files."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support import processes
from tests.support.auth import bearer
from tests.support.payroll_api import Payroll

pytestmark = pytest.mark.integration
COMMAND = [*processes.CLI, "simulate"]


class Simulate:
    def __init__(self, *args: str) -> None:
        self.process = processes.start(
            [*COMMAND, "--simployer-port", "0", "--payroll-port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("Serving"):
                break
        out = "".join(self.lines)
        found = re.search(r"Simployer One\s+(\S+)\s+token (\S+)", out)
        assert found, out + self.process.stderr.read()  # type: ignore[union-attr]
        self.simployer_url, self.simployer_token = found.groups()
        found = re.search(r"24SevenOffice\s+(\S+)\s+token (\S+)", out)
        assert found, out
        self.payroll_url, self.payroll_token = found.groups()

    def stop(self) -> int:
        return processes.stop(self.process)


@pytest.fixture
def simulate() -> Iterator[type[Simulate]]:
    started: list[Simulate] = []

    class Tracked(Simulate):
        def __init__(self, *args: str) -> None:
            super().__init__(*args)
            started.append(self)

    yield Tracked
    for sim in started:
        sim.stop()


async def test_serves_a_generated_company_until_stopped(simulate: type[Simulate]) -> None:
    sim = simulate("--employees", "30", "--seed", "5", "--simployer-token", "hr-secret")
    assert sim.simployer_token == "hr-secret"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{sim.simployer_url}/employee", headers=bearer("hr-secret")) as answer:
            assert answer.status == 200
            assert (await answer.json())["total"] == 30
        async with http.get(f"{sim.payroll_url}/auth", params={"token": sim.payroll_token}) as a:
            assert a.status == 200
    assert sim.stop() == 0


async def test_loads_both_data_files(simulate: type[Simulate], tmp_path: Path) -> None:
    # Rows in the API's own format; fields the publisher does not list load and are served.
    hr = {
        "department": [
            {"id": "d1", "companyId": "c1", "name": "Lønn", "costCenter": {"code": "7"}}
        ],
        "employee": [],
    }
    pay = {
        "employee": [{"empId": "7", "firstname": "Ola", "lastname": "Nordmann"}],
        "child": [{"empId": "7", "childId": "3", "firstname": "Per", "birthdate": "2020-01-01"}],
    }
    (tmp_path / "hr.json").write_text(json.dumps(hr))
    (tmp_path / "pay.json").write_text(json.dumps(pay))
    sim = simulate(
        "--simployer-data", str(tmp_path / "hr.json"), "--payroll-data", str(tmp_path / "pay.json")
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{sim.simployer_url}/department", headers=bearer(sim.simployer_token)
        ) as answer:
            rows = (await answer.json())["data"]
            assert [(d["name"], d["costCenter"]) for d in rows] == [("Lønn", {"code": "7"})]
        api = Payroll(http, sim)
        await api.login()
        _, children = await api.call("GET", "/child/v2/7")
        assert [c["childId"] for c in children] == ["3"]
        _, absence_types = await api.call("GET", "/absencetypes/v2")
        assert len(absence_types) == 19  # defaults when the file has none
    assert sim.stop() == 0


def test_invalid_data_file_is_refused_with_the_field(tmp_path: Path) -> None:
    (tmp_path / "hr.json").write_text(json.dumps({"employee": [{"id": "e1"}]}))
    done = processes.run(
        [*COMMAND, "--simployer-data", str(tmp_path / "hr.json"), "--simployer-port", "0"]
    )
    assert done.returncode == 2
    assert "employee" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_arguments_are_usage_errors() -> None:
    done = processes.run([*COMMAND, "--error-rate", "1.5"])
    assert done.returncode == 2
    assert "--error-rate" in done.stderr


async def test_fault_flags_set_both_simulators(simulate: type[Simulate]) -> None:
    sim = simulate(
        "--employees", "5", "--latency-ms", "5", "--error-rate", "0.2",
        "--drop-rate", "0.1", "--timeout-rate", "0.05", "--rate-limit", "7",
    )  # fmt: skip
    async with aiohttp.ClientSession() as http:
        for base in (sim.simployer_url, sim.payroll_url):
            admin = base.rsplit("/", 1)[0] + "/_admin/settings"
            async with http.get(admin) as answer:
                settings = await answer.json()
            assert settings["latency_ms"] == 5
            assert settings["error_rate"] == 0.2
            assert settings["drop_rate"] == 0.1
            assert settings["timeout_rate"] == 0.05
        assert settings["rate_limit_per_second"] == 7  # the last one read is 24SevenOffice
        assert settings["rate_limit_burst"] == 14
        assert (settings["post_answer"], settings["update_mode"]) == ("empty", "merge")
    assert sim.stop() == 0


async def test_payroll_write_flags_set_the_24sevenoffice_simulator(
    simulate: type[Simulate],
) -> None:
    sim = simulate(
        "--employees", "5", "--payroll-post-answer", "array", "--payroll-update-mode", "replace",
    )  # fmt: skip
    admin = sim.payroll_url.rsplit("/", 1)[0] + "/_admin/settings"
    async with aiohttp.ClientSession() as http, http.get(admin) as answer:
        settings = await answer.json()
    assert (settings["post_answer"], settings["update_mode"]) == ("array", "replace")
    assert sim.stop() == 0

"""`payroll-sync demo`, the newcomer's first command, runs through on both of its backends."""

from __future__ import annotations

import os
import sys

import pytest

from tests.support import processes
from tests.support.keys import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("redis_url", "says"),
    [
        (REDIS_URL, "answers; using it"),
        # Nothing listens on port 9 of loopback: the demo falls back to fakeredis.
        ("redis://127.0.0.1:9/0", "running everything in this process"),
    ],
    ids=["redis", "no-server"],
)
def test_the_demo_syncs_employees_twice_then_absences(redis_url: str, says: str) -> None:
    result = processes.run(
        [*processes.CLI, "demo", "--employees", "30"],
        env={**os.environ, "REDIS_URL": redis_url},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert says in out
    assert "1. First sync of 30 generated employees" in out
    assert ": updated " in out
    assert "3. Export the absences of" in out
    assert " absences  period " in out
    sections = out.split("3. Export the absences of")
    assert "created" in sections[1]


def test_without_redis_or_fakeredis_the_demo_says_what_to_install() -> None:
    # As if fakeredis were not installed: importing it fails.
    code = (
        "import sys\n"
        "sys.modules['fakeredis'] = None\n"
        "from payroll_sync.cli.main import main\n"
        "sys.exit(main(['demo', '--employees', '5']))\n"
    )
    result = processes.run(
        [sys.executable, "-c", code],
        env={**os.environ, "REDIS_URL": "redis://127.0.0.1:9/0"},
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "fakeredis (to run without one) is not installed" in result.stderr
    assert "pip install -e '.[demo]'" in result.stderr
    assert "Simulators:" not in result.stdout, "nothing started"

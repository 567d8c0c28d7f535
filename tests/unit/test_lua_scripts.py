"""The run store's Lua scripts name what they take on their first lines, and use only the names.

As Dramatiq's dispatch.lua does: `local run = KEYS[1]` ... `local now = ARGV[4]` on top, then a
body that never counts positions. Callers pass keys and arguments by the same names.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from payroll_sync.runs.lua import Script, read_header, script_source

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


def script_names() -> list[str]:
    """Every script that ships with the package."""
    folder = resources.files("payroll_sync.runs") / "scripts"
    return sorted(
        item.name.removesuffix(".lua") for item in folder.iterdir() if item.name.endswith(".lua")
    )


def test_the_scripts_ship_with_the_package() -> None:
    assert script_names() == ["begin", "enrol", "record", "release", "transition"]
    package_data = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    assert "scripts/*.lua" in package_data["payroll_sync.runs"]


@pytest.mark.parametrize("name", script_names())
def test_a_script_names_every_key_and_argument_on_top_and_then_uses_only_names(name: str) -> None:
    source = script_source(name)
    header = read_header(source)
    assert header.keys, "a script touches at least one key"
    assert header.args
    code = re.sub(r"--.*", "", source)  # comments may speak of KEYS and ARGV
    numbered = re.findall(r"\b(?:KEYS|ARGV)\b", code)
    # Each named once on top (the rest of ARGV, if any, too), and nowhere else.
    assert len(numbered) == len(header.keys) + len(header.args) + (header.rest is not None)
    assert re.search(r"\b(?:KEYS|ARGV)\b", re.sub(r"--.*", "", header.body)) is None
    for given in (*header.keys, *header.args, *([header.rest] if header.rest else [])):
        assert re.search(rf"\b{given}\b", header.body), f"{name}.lua never uses {given}"


def test_the_header_is_read_in_order_with_the_rest_of_argv_last() -> None:
    header = read_header(
        "-- What it does.\n\n"
        "local run = KEYS[1]\n"
        "local due = KEYS[2]\n\n"
        "local key = ARGV[1]\n"
        "local read_at = tonumber(ARGV[2])  -- seconds\n"
        "local records = ARGV\n\n"
        "local first = 3\n"
        "return run\n"
    )
    assert (header.keys, header.args, header.rest) == (
        ("run", "due"),
        ("key", "read_at"),
        "records",
    )
    assert header.body == "local first = 3\nreturn run\n"


@pytest.mark.parametrize(
    "source",
    [
        "local due = KEYS[2]\nreturn 1\n",
        "local run = KEYS[1]\nlocal now = ARGV[2]\nreturn 1\n",
        "local run = KEYS[1]\nlocal key = ARGV[1]\nlocal key = ARGV[1]\nreturn 1\n",
    ],
)
def test_a_header_out_of_order_is_refused(source: str) -> None:
    with pytest.raises(ValueError, match="out of order"):
        read_header(source)


async def test_a_script_is_called_by_the_names_of_its_header(redis: aioredis.Redis) -> None:
    key = "test-unit-lua-release"
    release = Script(redis, "release")
    try:
        await redis.set(key, "run-1")
        with pytest.raises(TypeError, match="takes KEYS active and ARGV run_id"):
            await release(keys={"run": key}, args={"run_id": "run-1"})
        with pytest.raises(TypeError, match="no arguments beyond"):
            await release(keys={"active": key}, args={"run_id": "run-1"}, rest=["x"])
        assert await release(keys={"active": key}, args={"run_id": "run-2"}) == 0
        assert await release(keys={"active": key}, args={"run_id": "run-1"}) == 1
        assert await redis.get(key) is None
    finally:
        await redis.delete(key)

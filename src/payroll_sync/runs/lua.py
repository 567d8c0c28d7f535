"""The run store's Lua scripts (runs/scripts/*.lua), called with their keys and arguments by name.

Updates that touch several keys are scripts: a worker killed half-way never leaves counters that
disagree with the outcomes. Each script's first lines name what it takes, as Dramatiq's
dispatch.lua does (`local run = KEYS[1]`, `local now = ARGV[4]`), and its body uses only those
names. A caller passes the same names, so neither side counts positions: a key passed under the
wrong name, or missing, fails loudly before Redis sees it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import redis.asyncio as aioredis
from redis.typing import EncodableT

# `local run = KEYS[1]`, `local read_at = tonumber(ARGV[2])`, each maybe with a comment after.
_NAMED: Final = re.compile(
    r"local (?P<name>\w+) = (?:tonumber\()?(?P<table>KEYS|ARGV)\[(?P<index>\d+)\]\)?\s*(--.*)?"
)
# `local records = ARGV`: the arguments after the named ones, as many as the caller has.
_REST: Final = re.compile(r"local (?P<name>\w+) = ARGV\s*(--.*)?")


@dataclass(frozen=True)
class Header:
    """What a script takes, in order, and the rest of its source."""

    keys: tuple[str, ...]
    args: tuple[str, ...]
    # The name of the arguments after the named ones, when the script takes any.
    rest: str | None
    body: str


def read_header(source: str) -> Header:
    """The names a script gives its KEYS and ARGV on its first lines (comments and blank lines
    between them allowed); the body starts at the first line that is none of these.

    Raises ValueError unless KEYS and ARGV are each named 1, 2, 3, ... in order, with the rest
    of ARGV (if named) last.
    """
    named: dict[str, list[str]] = {"KEYS": [], "ARGV": []}
    rest: str | None = None
    lines = source.splitlines(keepends=True)
    start = len(lines)
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        if (match := _NAMED.fullmatch(stripped)) and rest is None:
            names = named[match["table"]]
            if int(match["index"]) != len(names) + 1:
                raise ValueError(f"line {number + 1}: {match['table']} out of order: {stripped}")
            names.append(match["name"])
        elif (match := _REST.fullmatch(stripped)) and rest is None:
            rest = match["name"]
        else:
            start = number
            break
    return Header(
        keys=tuple(named["KEYS"]),
        args=tuple(named["ARGV"]),
        rest=rest,
        body="".join(lines[start:]),
    )


def script_source(name: str) -> str:
    return (resources.files("payroll_sync.runs") / "scripts" / f"{name}.lua").read_text()


class Script:
    """One script of runs/scripts, registered with a client (run by its SHA, loaded on demand)."""

    def __init__(self, redis: aioredis.Redis, name: str) -> None:
        source = script_source(name)
        self.name = name
        self.header = read_header(source)
        self._registered = redis.register_script(source)

    async def __call__(
        self,
        *,
        keys: Mapping[str, str],
        args: Mapping[str, EncodableT],
        rest: Sequence[EncodableT] = (),
    ) -> Any:
        header = self.header
        if set(keys) != set(header.keys) or set(args) != set(header.args):
            raise TypeError(
                f"{self.name}.lua takes KEYS {', '.join(header.keys)} and ARGV "
                f"{', '.join(header.args)}; given {', '.join(keys)} and {', '.join(args)}"
            )
        if rest and header.rest is None:
            raise TypeError(f"{self.name}.lua takes no arguments beyond {', '.join(header.args)}")
        return await self._registered(
            keys=[keys[name] for name in header.keys],
            args=[*(args[name] for name in header.args), *rest],
        )

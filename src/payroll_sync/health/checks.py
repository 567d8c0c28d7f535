"""One check per service a process needs: does it answer, how fast, and if not, why.

A check never raises: it gives a `CheckResult`. Its reason names the service and the kind of
fault (the exception's type, or "no answer within 1 s") and nothing else: a driver's own
message may hold the host, the user or the URL, and a URL may hold a password, so none of them
is repeated.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import msgspec
import redis.asyncio as aioredis

REDIS: Final = "redis"
POSTGRES: Final = "postgres"
#: How the reasons call them.
SERVICE_NAMES: Final = {REDIS: "Redis", POSTGRES: "PostgreSQL"}

#: A probe (Kubernetes' default timeout is 1 s) must answer quickly: each check gets this long.
TIMEOUT_SECONDS: Final = 1.0


class CheckResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    ok: bool
    #: How long the check took, in milliseconds.
    ms: float
    #: Why it failed (None when it passed, and left out of JSON): the service and the kind
    #: of fault, no address.
    reason: str | None = None


def failure_reason(name: str, error: BaseException, timeout: float) -> str:
    """The reason of a failed check of `name` that took at most `timeout` seconds."""
    service = SERVICE_NAMES.get(name, name)
    if isinstance(error, TimeoutError):
        return f"{service}: no answer within {timeout:g} s"
    return f"{service}: {type(error).__name__}"


def readiness(results: Sequence[CheckResult]) -> tuple[int, dict[str, Any]]:
    """The `/readyz` answer: 200 when every check passed, else 503; the body names each."""
    ready = all(result.ok for result in results)
    checks = {
        result.name: {
            "ok": result.ok,
            "ms": result.ms,
            **({"reason": result.reason} if result.reason is not None else {}),
        }
        for result in results
    }
    return (200 if ready else 503), {"status": "ready" if ready else "not ready", "checks": checks}


async def timed(
    name: str, probe: Callable[[], Awaitable[object]], *, within: float = TIMEOUT_SECONDS
) -> CheckResult:
    """Run `probe` for at most `within` seconds."""
    started = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), within)
    except Exception as error:  # TimeoutError too: every fault is an answer, never a crash
        reason = failure_reason(name, error, within)
        return CheckResult(name=name, ok=False, ms=_ms_since(started), reason=reason)
    return CheckResult(name=name, ok=True, ms=_ms_since(started))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def check_redis(client: aioredis.Redis, *, within: float = TIMEOUT_SECONDS) -> CheckResult:
    """PING on `client` (the process's own: no connection of its own per check)."""

    async def ping() -> object:
        return await client.ping()

    return await timed(REDIS, ping, within=within)


async def check_postgres(database_url: str, *, within: float = TIMEOUT_SECONDS) -> CheckResult:
    """A connection to `database_url` that answers `SELECT 1`, closed again."""

    async def select_one() -> object:
        # Imported here: a process without a registry never loads asyncpg.
        import asyncpg

        connection = await asyncpg.connect(database_url, timeout=within)
        try:
            return await connection.fetchval("SELECT 1")
        finally:
            await connection.close(timeout=within)

    return await timed(POSTGRES, select_one, within=within)

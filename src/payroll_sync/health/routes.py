"""`/healthz` and `/readyz` for any of the HTTP services (intake, dashboard, scheduler).

- `GET /healthz`: 200 `{"status": "alive"}` while the event loop answers; it asks nothing else,
  so a Redis outage never gets a process restarted.
- `GET /readyz`: 200 when Redis (and PostgreSQL where `DATABASE_URL` is set) answers, else 503;
  the body names each check with its time and, when failed, its reason (checks.py).

Both need no authentication and are never cached. Probes that arrive while a check is under
way share its answer, so a burst of them costs one PING (and one connection to PostgreSQL).
"""

from __future__ import annotations

import asyncio
from typing import Final

import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync.health.checks import (
    TIMEOUT_SECONDS,
    CheckResult,
    check_postgres,
    check_redis,
    readiness,
)

log = structlog.get_logger("payroll_sync.health")

HEALTHZ_PATH: Final = "/healthz"
READYZ_PATH: Final = "/readyz"
#: What a login guard lets through without a session or a token.
PATHS: Final = frozenset({HEALTHZ_PATH, READYZ_PATH})

NO_STORE: Final = {"Cache-Control": "no-store"}


class Readiness:
    """The checks of one process: its Redis client (or one made on first use from `redis_url`
    and closed with the app), and PostgreSQL when it has a `database_url`."""

    def __init__(
        self,
        *,
        redis: aioredis.Redis | None = None,
        redis_url: str | None = None,
        database_url: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if redis is None and redis_url is None:
            raise TypeError("Readiness needs the process's Redis client or its URL")
        self._redis = redis
        self._redis_url = redis_url
        self._own_redis: aioredis.Redis | None = None
        self.database_url = database_url
        self.timeout = timeout
        self._running: asyncio.Task[list[CheckResult]] | None = None
        # The last state of each check: a change is logged, not every probe.
        self._was_ok: dict[str, bool] = {}

    def redis(self) -> aioredis.Redis:
        if self._redis is not None:
            return self._redis
        if self._own_redis is None:
            assert self._redis_url is not None
            self._own_redis = aioredis.Redis.from_url(self._redis_url)
        return self._own_redis

    async def check(self) -> list[CheckResult]:
        """Every check, at once; a check already under way is shared."""
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._check())
        # Shielded: a probe that hangs up does not cancel the others' answer.
        return await asyncio.shield(self._running)

    async def _check(self) -> list[CheckResult]:
        checks = [check_redis(self.redis(), within=self.timeout)]
        if self.database_url is not None:
            checks.append(check_postgres(self.database_url, within=self.timeout))
        results = list(await asyncio.gather(*checks))
        for result in results:
            if self._was_ok.get(result.name, True) != result.ok:
                changed = log.info if result.ok else log.warning
                changed("health.changed", check=result.name, ok=result.ok, reason=result.reason)
            self._was_ok[result.name] = result.ok
        return results

    async def close(self) -> None:
        if self._running is not None and not self._running.done():
            self._running.cancel()
        if self._own_redis is not None:
            await self._own_redis.aclose()
            self._own_redis = None


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"}, headers=NO_STORE)


READINESS: Final = web.AppKey("health_readiness", Readiness)


async def readyz(request: web.Request) -> web.Response:
    status, body = readiness(await request.app[READINESS].check())
    return web.json_response(body, status=status, headers=NO_STORE)


def add_health_routes(
    app: web.Application,
    *,
    redis: aioredis.Redis | None = None,
    redis_url: str | None = None,
    database_url: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Readiness:
    """Add `/healthz` and `/readyz` to `app`. `redis`: the process's own client (reused);
    without one, a client is made from `redis_url` on the first probe and closed on the app's
    cleanup. `database_url`: PostgreSQL is checked too (None: not used, not checked)."""
    checks = Readiness(redis=redis, redis_url=redis_url, database_url=database_url, timeout=timeout)
    app[READINESS] = checks

    async def close(_: web.Application) -> None:
        await checks.close()

    app.on_cleanup.append(close)
    app.router.add_get(HEALTHZ_PATH, healthz)
    app.router.add_get(READYZ_PATH, readyz)
    return checks

"""`payroll-sync status`: is Redis (and PostgreSQL, where `DATABASE_URL` is set) answering, and
are the services named with `--service URL` ready? One line per check, for a person; `--json`
for machines (docs/health.md).

Exit codes: 0 every check passed, 75 (try again later) one failed, 2 a setting is unusable
(`REDIS_URL` not a Redis URL). No line ever shows a URL's password.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
import msgspec
import redis.asyncio as aioredis

from payroll_sync import config
from payroll_sync.cli.arguments import Commands
from payroll_sync.cli.exit_codes import EXIT_OK, EXIT_TRY_LATER
from payroll_sync.errors import ConfigError
from payroll_sync.health import CheckResult, check_postgres, check_redis
from payroll_sync.health.services import check_service


def add_command(commands: Commands) -> None:
    status = commands.add_parser(
        "status",
        help="check Redis, PostgreSQL (with DATABASE_URL) and running services' /readyz",
    )
    status.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="URL",
        help="a running intake, dashboard or scheduler (its base URL) whose /readyz to ask; "
        "repeatable",
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=lambda args: asyncio.run(run_status(args)))


async def run_status(args: argparse.Namespace) -> int:
    results = await checks(config.environment(), args.service)
    healthy = all(result.ok for result in results)
    if args.json:
        print(msgspec.json.encode({"ok": healthy, "checks": results}).decode())
    else:
        print(format_results(results))
    return EXIT_OK if healthy else EXIT_TRY_LATER


async def checks(env: config.Environment, services: list[str]) -> list[CheckResult]:
    """Redis, then PostgreSQL (when configured), then each service, in that order."""
    try:
        redis = aioredis.Redis.from_url(env.redis_url)
    except ValueError:
        raise ConfigError(
            f"{config.REDIS_URL_VAR} is not a Redis URL (redis://host:port/db)"
        ) from None
    try:
        async with aiohttp.ClientSession() as session:
            pending = [check_redis(redis)]
            if env.database_url is not None:
                pending.append(check_postgres(env.database_url))
            pending += [check_service(session, url) for url in services]
            return list(await asyncio.gather(*pending))
    finally:
        await redis.aclose()


def format_results(results: list[CheckResult]) -> str:
    """One line per check: name, OK or FAILED, how long, and the reason of a failure."""
    width = max(len(result.name) for result in results)
    lines = []
    for result in results:
        verdict = "OK" if result.ok else "FAILED"
        line = f"{result.name.ljust(width)}  {verdict:<6}  {result.ms:>7.1f} ms"
        if result.reason:
            line += f"  {result.reason}"
        lines.append(line)
    return "\n".join(lines)

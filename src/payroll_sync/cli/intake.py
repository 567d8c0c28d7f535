"""`payroll-sync intake`: serve the HTTP intake for sync requests until SIGTERM or SIGINT.

Refuses to start (exit 2) when no caller could authenticate: no `[intake.callers]`, or none of
their token variables set.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
import structlog

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, add_listen_options
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.cli.serving import serving, stop_on_signals
from payroll_sync.errors import ConfigError
from payroll_sync.intake import make_app
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.schemas.settings import Settings

if TYPE_CHECKING:
    from payroll_sync.registry.store import Registry

DEFAULT_PORT = 8090

log = structlog.get_logger("payroll_sync.intake")


def add_command(commands: Commands) -> None:
    intake = commands.add_parser(
        "intake", help="serve the HTTP intake for sync requests from upstream systems"
    )
    add_listen_options(intake, DEFAULT_PORT)
    intake.set_defaults(func=lambda args: asyncio.run(run_intake(args)))


def check_allowed(settings: Settings, source: str) -> None:
    """A ConfigError when `[intake.allow]` names an integration the settings do not have."""
    for caller, integrations in sorted(settings.intake.allow.items()):
        unknown = sorted(set(integrations) - set(settings.integrations))
        if unknown:
            known = ", ".join(sorted(settings.integrations)) or "none are configured"
            raise ConfigError(
                f"{source}: intake.allow.{caller}: unknown integration "
                f"{', '.join(unknown)} (known: {known})"
            )


def caller_tokens(
    settings: Settings, source: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Token -> caller name; a ConfigError naming the variables when nobody could call."""
    tokens = config.intake_tokens(settings, env)
    if tokens:
        return tokens
    variables = sorted(set(settings.intake.callers.values()))
    if not variables:
        raise ConfigError(
            f"{source}: no intake callers configured; add e.g. [intake.callers] "
            'simployer-one = "INTAKE_TOKEN_SIMPLOYER_ONE" and set that variable'
        )
    noun = "variable" if len(variables) == 1 else "variables"
    raise ConfigError(
        f"no intake caller has a token: set the environment {noun} {', '.join(variables)}"
    )


async def run_intake(args: argparse.Namespace) -> int:
    configure_logging()
    env = config.environment()
    catalog = await LiveCatalog.open(env)
    try:
        return await _serve(args, env, catalog)
    finally:
        await catalog.close()


async def _serve(args: argparse.Namespace, env: config.Environment, catalog: LiveCatalog) -> int:
    settings = catalog.settings
    if env.database_url is None:
        # With a registry, `[intake.allow]` may name integrations added later.
        check_allowed(settings, env.config_path)
    tokens = caller_tokens(settings, env.config_path)
    able = set(tokens.values())
    for caller, variable in sorted(settings.intake.callers.items()):
        if caller not in able:
            log.warning("intake.caller_disabled", caller=caller, variable=variable)
    # The broker the producer enqueues on, set up now: a bad setting fails here, not on the
    # first request.
    broker_setup.current()

    redis = aioredis.Redis.from_url(env.redis_url)
    registry: Registry | None = None
    try:
        await redis.ping()
        producer = Producer(redis, env.prefix, tokens=catalog)
        if env.database_url is not None:
            # Where the integrations API writes (the catalog only reads). Imported here: an
            # intake without a registry never loads asyncpg.
            from payroll_sync.registry.store import Registry as Connect

            registry = await Connect.connect(env.database_url, secret_keys=config.secret_keys())
        app = make_app(
            catalog=catalog,
            producer=producer,
            tokens=tokens,
            registry=registry,
            database_url=env.database_url,
        )
        stop = stop_on_signals()
        # Added, changed and removed integrations count within seconds, without a restart.
        following = asyncio.create_task(catalog.run(stop))
        # No access log: our own intake.accepted / intake.refused events say who asked what.
        async with serving(app, args.host, args.port, access_log=False) as address:
            log.info("intake.started", address=address, callers=sorted(able))
            print(f"intake listening on {address} (callers: {', '.join(sorted(able))})", flush=True)
            await stop.wait()
            # Leaving the block lets requests in flight finish (their runs are being created).
            log.info("intake.stopping")
        await following
    finally:
        if registry is not None:
            await registry.close()
        await redis.aclose()
    return EXIT_OK

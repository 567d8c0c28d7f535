"""`payroll-sync dashboard`: serve the retry dashboard until stopped.

Exit codes: 0 stopped normally, 2 usage or configuration error (no operator token, a bad
settings file, Redis not answering, the port taken).
"""

from __future__ import annotations

import argparse
import asyncio

import redis.asyncio as aioredis
import structlog

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, add_listen_options
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.cli.serving import serving, stop_on_signals
from payroll_sync.dashboard.app import create_app
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup

log = structlog.get_logger("payroll_sync.dashboard")


def add_command(commands: Commands) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        help="serve the retry dashboard: runs, failures, retry (needs PAYROLL_SYNC_OPERATOR_TOKEN)",
    )
    add_listen_options(dashboard, 8080)
    dashboard.set_defaults(func=lambda args: asyncio.run(run_dashboard(args)))


async def run_dashboard(args: argparse.Namespace) -> int:
    # Checked first: without the token nobody could log in (a ConfigError: exit 2).
    token = config.operator_token()
    env = config.environment()
    configure_logging()
    # Retries are sent to the same queues the workers read.
    broker_setup.current()

    catalog = await LiveCatalog.open(env)
    # The integration pages save to the registry; without one they show the file read-only.
    registry = None
    redis = aioredis.Redis.from_url(env.redis_url)
    try:
        if env.database_url is not None:
            from payroll_sync.registry.store import Registry  # asyncpg only with a registry

            registry = await Registry.connect(env.database_url, secret_keys=config.secret_keys())
        await redis.ping()
        producer = Producer(redis, env.prefix, tokens=catalog)
        app = create_app(
            producer=producer,
            operator_token=token,
            catalog=catalog,
            registry=registry,
            database_url=env.database_url,
        )
        stop = stop_on_signals()
        # Added, changed and removed integrations count within seconds, without a restart.
        following = asyncio.create_task(catalog.run(stop))
        async with serving(app, args.host, args.port) as address:
            log.info("dashboard.started", address=address, prefix=env.prefix)
            print(f"Dashboard on {address}/ (log in with the operator token)")
            print("Serving until stopped (Ctrl-C).", flush=True)
            await stop.wait()
        await following
        log.info("dashboard.stopped")
    finally:
        await redis.aclose()
        await catalog.close()
        if registry is not None:
            await registry.close()
    return EXIT_OK

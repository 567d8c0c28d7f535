"""`payroll-sync scheduler`: fire scheduled syncs at their weekdays and times until SIGTERM or
SIGINT (and requeue records whose message was lost); serve `/metrics` at --host/--port."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, add_listen_options, number
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.cli.serving import serving, stop_on_signals
from payroll_sync.logs import configure_logging
from payroll_sync.scheduler.http import DEFAULT_PORT
from payroll_sync.scheduler.process import DEFAULT_INTERVAL, run_scheduler


def add_command(commands: Commands) -> None:
    scheduler = commands.add_parser(
        "scheduler", help="fire scheduled syncs at their weekdays and times until stopped"
    )
    scheduler.add_argument(
        "--interval",
        type=number(0, 3600, above=True),
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between looks for due slots (default {DEFAULT_INTERVAL:g})",
    )
    add_listen_options(scheduler, DEFAULT_PORT)
    scheduler.set_defaults(func=run_scheduler_command)


def run_scheduler_command(args: argparse.Namespace) -> int:
    env = config.environment()
    config.load_settings(env.config_path)  # a broken file: exit 2 with the key to fix
    configure_logging()

    async def main() -> None:
        # Opened before the signal handlers: a bad file or registry exits 2 (or 75) at once.
        catalog = await LiveCatalog.open(env)

        @asynccontextmanager
        async def serve(app: web.Application) -> AsyncIterator[None]:
            async with serving(app, args.host, args.port, access_log=False) as address:
                print(f"scheduler listening on {address}", flush=True)
                yield

        await run_scheduler(
            env=env, interval=args.interval, stop=stop_on_signals(), catalog=catalog, serve=serve
        )

    asyncio.run(main())
    return EXIT_OK

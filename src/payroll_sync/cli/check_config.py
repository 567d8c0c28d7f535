"""`payroll-sync check-config`: test both connections of every integration; one row each.

Exit 1 when any connection failed (the row says why), 2 when the settings are unusable.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp

from payroll_sync import config
from payroll_sync.catalog import Catalog, LiveCatalog
from payroll_sync.cli.arguments import Commands
from payroll_sync.cli.exit_codes import EXIT_FAILED, EXIT_OK
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.errors import RequestRefused, SyncError
from payroll_sync.runs.summary import format_table


def add_command(commands: Commands) -> None:
    check = commands.add_parser("check-config", help="test both connections of every integration")
    check.set_defaults(func=lambda args: asyncio.run(check_config(args)))


async def check_config(args: argparse.Namespace) -> int:
    env = config.environment()
    catalog = await LiveCatalog.open(env)
    try:
        return await _check_all(env, catalog.current)
    finally:
        await catalog.close()


async def _check_all(env: config.Environment, catalog: Catalog) -> int:
    settings = catalog.settings
    if not settings.integrations:
        source = "the registry" if env.database_url else env.config_path
        raise RequestRefused(f"{source}: no integrations configured")
    rows: list[list[str]] = []
    healthy = True
    timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for name, chosen in sorted(settings.integrations.items()):
            try:
                tokens = catalog.credentials(name)
            except SyncError as error:
                rows.append([name, error.reason, error.reason])
                healthy = False
                continue
            clients = integration_clients(session, chosen, tokens, timeout=timeout)
            results = await asyncio.gather(
                clients.simployer.check(), clients.payroll.check(), return_exceptions=True
            )
            cells = []
            for result in results:
                if isinstance(result, SyncError):
                    cells.append(f"FAILED: {result.reason}")
                    healthy = False
                elif isinstance(result, BaseException):
                    cells.append(f"FAILED: {type(result).__name__}")
                    healthy = False
                else:
                    cells.append("ok")
            rows.append([name, *cells])
    print(format_table(["integration", "Simployer One", "24SevenOffice"], rows))
    return EXIT_OK if healthy else EXIT_FAILED

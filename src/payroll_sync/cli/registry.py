"""The registry's commands: `migrate`, `new-key`, `rotate-key`, `integrations import FILE` and
`integrations list` (docs/registry.md).

`DATABASE_URL` names the database, `PAYROLL_SYNC_SECRET_KEY` the keys (config.py reads both).
Exit codes: 0 done, 1 `integrations import` refused some integrations (each row says why),
2 a person must fix something (no `DATABASE_URL`, a bad key or file), 75 the database is not
answering. No output ever shows a token or a key but the one `new-key` makes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
from typing import Any

import msgspec

from payroll_sync import config
from payroll_sync.cli.arguments import Commands
from payroll_sync.cli.exit_codes import EXIT_FAILED, EXIT_OK
from payroll_sync.errors import ConfigError, SyncError
from payroll_sync.registry.crypto import new_key
from payroll_sync.registry.migrate import migrate
from payroll_sync.registry.records import StoredIntegration, TokensUpdate
from payroll_sync.registry.store import Registry
from payroll_sync.runs.summary import format_table


def add_command(commands: Commands) -> None:
    run = commands.add_parser(
        "migrate", help="apply the registry's schema migrations to DATABASE_URL"
    )
    _json_option(run)
    run.set_defaults(func=lambda args: asyncio.run(run_migrate(args)))

    key = commands.add_parser("new-key", help="print a fresh key for PAYROLL_SYNC_SECRET_KEY")
    key.set_defaults(func=run_new_key)

    rotate = commands.add_parser(
        "rotate-key",
        help="re-encrypt every stored token with the first key of PAYROLL_SYNC_SECRET_KEY",
    )
    _json_option(rotate)
    rotate.set_defaults(func=lambda args: asyncio.run(run_rotate_key(args)))

    integrations = commands.add_parser("integrations", help="the integration registry")
    actions = integrations.add_subparsers(dest="action", required=True)
    load = actions.add_parser(
        "import",
        help="store a settings file's [integrations.*] tables, with the tokens from the "
        "environment variables each names",
    )
    load.add_argument("file", metavar="FILE", help="a settings file (TOML)")
    _json_option(load)
    load.set_defaults(func=lambda args: asyncio.run(run_import(args)))
    listing = actions.add_parser("list", help="every stored integration (no tokens)")
    _json_option(listing)
    listing.set_defaults(func=lambda args: asyncio.run(run_list(args)))


def _json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _database_url() -> str:
    url = config.environment().database_url
    if url is None:
        raise ConfigError(
            f"environment variable not set or empty: {config.DATABASE_URL_VAR} "
            "(postgresql://user@host:port/database)"
        )
    return url


async def _registry() -> Registry:
    return await Registry.connect(_database_url(), secret_keys=config.secret_keys())


def _print_json(value: Any) -> None:
    print(msgspec.json.encode(value).decode())


# ------------------------------------------------------------------ migrate, keys


async def run_migrate(args: argparse.Namespace) -> int:
    applied = await migrate(_database_url())
    if args.json:
        _print_json({"applied": applied})
    elif applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print("the registry's schema is up to date; nothing to apply")
    return EXIT_OK


def run_new_key(args: argparse.Namespace) -> int:
    print(new_key())
    return EXIT_OK


async def run_rotate_key(args: argparse.Namespace) -> int:
    registry = await _registry()
    try:
        count = await registry.rotate_tokens()
    finally:
        await registry.close()
    if args.json:
        _print_json({"integrations": count, "tokens": 2 * count})
    else:
        print(
            f"re-encrypted {2 * count} tokens of {count} integrations with the first key of "
            f"{config.SECRET_KEY_VAR}; the other keys may now be removed"
        )
    return EXIT_OK


# ------------------------------------------------------------------ integrations


async def run_import(args: argparse.Namespace) -> int:
    settings = config.load_settings(args.file)
    if not settings.integrations:
        raise ConfigError(f"{args.file}: no [integrations.*] tables to import")
    imported: list[dict[str, Any]] = []
    refused: list[dict[str, str]] = []
    registry = await _registry()
    try:
        for name, chosen in sorted(settings.integrations.items()):
            try:
                tokens = config.credentials(chosen)
            except SyncError as error:
                refused.append({"id": name, "reason": error.reason})
                continue
            stored, created = await registry.put(
                name,
                chosen,
                TokensUpdate(
                    simployer_token=tokens.simployer_token, payroll_token=tokens.payroll_token
                ),
            )
            imported.append({"id": name, "created": created, "version": stored.version})
    finally:
        await registry.close()
    if args.json:
        _print_json({"imported": imported, "refused": refused})
    else:
        rows = [
            [row["id"], "created" if row["created"] else "replaced", str(row["version"])]
            for row in imported
        ]
        rows += [[row["id"], f"REFUSED: {row['reason']}", ""] for row in refused]
        print(format_table(["integration", "imported", "version"], rows))
    return EXIT_FAILED if refused else EXIT_OK


async def run_list(args: argparse.Namespace) -> int:
    registry = await _registry()
    try:
        stored = await registry.list()
    finally:
        await registry.close()
    if args.json:
        _print_json({"integrations": [_listed(row) for row in stored]})
        return EXIT_OK
    rows = [
        [
            row.id,
            str(row.version),
            _iso(row.updated_at),
            _yes(row.has_simployer_token),
            _yes(row.has_payroll_token),
        ]
        for row in stored
    ]
    print(
        format_table(
            ["integration", "version", "updated", "Simployer One token", "24SevenOffice token"],
            rows,
        )
    )
    return EXIT_OK


def _listed(row: StoredIntegration) -> dict[str, Any]:
    return {
        "id": row.id,
        "version": row.version,
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
        "has_simployer_token": row.has_simployer_token,
        "has_payroll_token": row.has_payroll_token,
    }


def _iso(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"

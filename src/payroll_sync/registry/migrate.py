"""The registry's schema migrations: the `.sql` files of `registry/migrations/`, applied in the
order of their names (`0001_...`, `0002_...`), each once, recorded in `schema_migrations`.

Everything runs in one transaction under an advisory lock, so two `payroll-sync migrate` at once
apply each file once, and a failing file leaves the database as it was.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Final, NamedTuple

import asyncpg

from payroll_sync.registry import database

__all__ = ["Migration", "apply", "migrate", "migrations", "pending"]

# Any fixed number, the same in every process: pg_advisory_xact_lock's key for migrating.
_LOCK_KEY: Final = 0x70617972_6D696772  # "payrmigr"
_NAME: Final = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class Migration(NamedTuple):
    name: str  # the file name without `.sql`, e.g. "0001_integrations"
    sql: str


def migrations() -> list[Migration]:
    """Every migration kept in the package, in order."""
    folder = resources.files("payroll_sync.registry") / "migrations"
    found = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if _NAME.match(entry.name)
    )
    return [Migration(name.removesuffix(".sql"), sql) for name, sql in found]


async def pending(conn: asyncpg.Connection) -> list[str]:
    """The names of the migrations not yet applied to the database (all, on an empty one)."""
    table = await conn.fetchval("SELECT to_regclass('schema_migrations')")
    applied: set[str] = set()
    if table is not None:
        applied = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
    return [migration.name for migration in migrations() if migration.name not in applied]


async def apply(conn: asyncpg.Connection) -> list[str]:
    """Apply the pending migrations; the names of those applied (none: already up to date)."""
    done: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for name in await pending(conn):
            sql = next(m.sql for m in migrations() if m.name == name)
            await conn.execute(sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            done.append(name)
    return done


async def migrate(database_url: str) -> list[str]:
    """Connect to `database_url` and apply what is pending; the names applied."""
    conn = await database.connect(database_url)
    try:
        return await apply(conn)
    finally:
        await conn.close()

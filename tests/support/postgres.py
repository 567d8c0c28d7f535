"""A PostgreSQL database of its own for each test: created on the server the tests use, migrated,
and dropped afterwards (`WITH (FORCE)`, so a connection a failed test left open cannot keep it).

The server is `PAYROLL_SYNC_TEST_POSTGRES` (any database on it: it is only used to create and drop
ours), else the local one as `.ci/run` starts it. Fixtures: `database_url` (a fresh, migrated
database), `secret_keys` (a fresh `PAYROLL_SYNC_SECRET_KEY` value) and `registry` (a `Registry`
on both). Subprocess tests use `fresh_database()` and pass the URL as `DATABASE_URL`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from payroll_sync.registry.crypto import new_key
from payroll_sync.registry.migrate import migrate
from payroll_sync.registry.store import Registry

__all__ = ["SERVER_URL", "database_url", "fresh_database", "registry", "secret_keys"]

SERVER_URL: Final = (
    os.environ.get("PAYROLL_SYNC_TEST_POSTGRES", "").strip()
    or "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _url_of(database: str) -> str:
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{database}"))


@asynccontextmanager
async def fresh_database(*, migrated: bool = True) -> AsyncIterator[str]:
    """The URL of a new database `payroll_sync_test_<random>` (migrated unless told not to),
    dropped when the block ends."""
    name = f"payroll_sync_test_{secrets.token_hex(6)}"
    server = await asyncpg.connect(SERVER_URL)
    try:
        # A name made here of [a-z0-9_] only: safe to put in the statement (no parameters in DDL).
        await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    url = _url_of(name)
    try:
        if migrated:
            await migrate(url)
        yield url
    finally:
        server = await asyncpg.connect(SERVER_URL)
        try:
            await server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await server.close()


@pytest.fixture
async def database_url() -> AsyncIterator[str]:
    """A fresh, migrated database of this test's own, dropped afterwards."""
    async with fresh_database() as url:
        yield url


@pytest.fixture
def secret_keys() -> str:
    """A `PAYROLL_SYNC_SECRET_KEY` value: one fresh key."""
    return new_key()


@pytest.fixture
async def registry(database_url: str, secret_keys: str) -> AsyncIterator[Registry]:
    """The registry on this test's database, closed afterwards."""
    store = await Registry.connect(database_url, secret_keys=secret_keys)
    try:
        yield store
    finally:
        await store.close()

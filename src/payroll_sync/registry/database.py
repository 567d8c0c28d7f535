"""Connecting to the registry's PostgreSQL, with the driver's failures turned into the error tree:
not answering is `DatabaseUnavailable` (try again later), a refusal or a bad `DATABASE_URL` is a
`ConfigError` (a person must fix it). No message repeats the URL: it may hold a password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import asyncpg

from payroll_sync.config import DATABASE_URL_VAR
from payroll_sync.errors import ConfigError
from payroll_sync.registry.errors import DatabaseUnavailable

__all__ = ["CONNECT_TIMEOUT_SECONDS", "connect", "create_pool", "translated"]

CONNECT_TIMEOUT_SECONDS: Final = 10.0

# The server is down, restarting, or too busy: none of them is a person's to fix.
_NOT_ANSWERING: Final = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)


@contextmanager
def translated() -> Iterator[None]:
    """Connection failures as `DatabaseUnavailable` or `ConfigError`."""
    try:
        yield
    except _NOT_ANSWERING as exc:
        raise DatabaseUnavailable(
            f"the registry's database is not answering ({type(exc).__name__}); try again later"
        ) from None
    except asyncpg.PostgresError as exc:
        # The server's own words: "password authentication failed for user ...", "database
        # ... does not exist"; they never hold the password.
        raise ConfigError(
            f"{DATABASE_URL_VAR}: the database refused the connection: {exc}"
        ) from None
    except (ValueError, asyncpg.InterfaceError):
        raise ConfigError(
            f"{DATABASE_URL_VAR} is not a PostgreSQL URL "
            "(postgresql://user[:password]@host[:port]/database)"
        ) from None


async def connect(database_url: str) -> Any:
    """One connection (an `asyncpg.Connection`)."""
    with translated():
        return await asyncpg.connect(database_url, timeout=CONNECT_TIMEOUT_SECONDS)


async def create_pool(database_url: str, *, max_size: int = 4) -> Any:
    """A pool (an `asyncpg.Pool`) with one connection opened, so a bad URL fails here."""
    with translated():
        return await asyncpg.create_pool(
            database_url, min_size=1, max_size=max_size, timeout=CONNECT_TIMEOUT_SECONDS
        )

"""The registry in PostgreSQL (asyncpg). Tokens are encrypted before they leave this process
(registry/crypto.py); nothing here logs or raises with a token in it.

Versions: every write takes the next value of one sequence. A sequence alone would let a reader
see version 6 committed before version 5 is (two writers at once), and then skip 5 forever; so
every write first takes one transaction-scoped advisory lock, which makes versions commit in
order. Writes are an administrator's, rare: serialising them costs nothing.
"""

from __future__ import annotations

import re
from typing import Any, Final, Self

import asyncpg
import msgspec

from payroll_sync.config import Credentials
from payroll_sync.errors import ConfigError
from payroll_sync.registry import database, migrate
from payroll_sync.registry.crypto import TokenCipher
from payroll_sync.registry.records import (
    Changes,
    ConnectionCheck,
    Live,
    SideCheck,
    StoredIntegration,
    TokensUpdate,
)
from payroll_sync.schemas.settings import Integration

__all__ = ["InvalidId", "MissingTokens", "Registry", "settings_json"]

# pg_advisory_xact_lock's key for writes (any fixed number, the same in every process).
_WRITE_LOCK: Final = 0x70617972_72656769  # "payrregi"

# The same rule as schemas.messages.IntegrationId, so every stored id can be named in a request.
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")

_COLUMNS: Final = (
    "id, settings::text AS settings, version,"
    " simployer_token, payroll_token,"
    " extract(epoch FROM created_at)::float8 AS created_at,"
    " extract(epoch FROM updated_at)::float8 AS updated_at"
)


class MissingTokens(ValueError):
    """A create without both tokens; the message names the missing field(s)."""


class InvalidId(ValueError):
    """An integration id the settings file could not name either (`[A-Za-z0-9][A-Za-z0-9_-]*`,
    at most 64 characters); the message names the field `id`."""


def settings_json(settings: Integration) -> str:
    """The settings as stored: the token variable names dropped (the tokens are stored)."""
    bare = msgspec.structs.replace(settings, simployer_token_env=None, payroll_token_env=None)
    return msgspec.json.encode(bare).decode()


class Registry:
    def __init__(self, pool: asyncpg.Pool, cipher: TokenCipher) -> None:
        self._pool = pool
        self._cipher = cipher

    def __repr__(self) -> str:
        return "Registry(<pool>)"

    @classmethod
    async def connect(cls, database_url: str, *, secret_keys: str) -> Self:
        """A pool on `database_url`; `secret_keys` is `PAYROLL_SYNC_SECRET_KEY`'s value (one or
        more keys, the first encrypts). Refuses (ConfigError) a schema older than the code's:
        run `payroll-sync migrate`."""
        cipher = TokenCipher(secret_keys)  # a bad key is refused before connecting
        pool = await database.create_pool(database_url)
        try:
            with database.translated():
                async with pool.acquire() as conn:
                    behind = await migrate.pending(conn)
        except BaseException:
            await pool.close()
            raise
        if behind:
            await pool.close()
            raise ConfigError(
                f"the registry's database schema is behind (missing {', '.join(behind)}): "
                "run `payroll-sync migrate`"
            )
        return cls(pool, cipher)

    async def close(self) -> None:
        await self._pool.close()

    async def put(
        self, integration_id: str, settings: Integration, tokens: TokensUpdate | None
    ) -> tuple[StoredIntegration, bool]:
        """Create or replace; (the stored row, True if it was created). A create needs both
        tokens (MissingTokens names the missing field); a replace keeps the tokens not given."""
        if not _ID.fullmatch(integration_id):
            raise InvalidId(
                "id: must be 1 to 64 letters, digits, '_' or '-', beginning with a letter or digit"
            )
        given = tokens or TokensUpdate()
        simployer = _encrypt_if(self._cipher, given.simployer_token)
        payroll = _encrypt_if(self._cipher, given.payroll_token)
        document = settings_json(settings)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
            live = await conn.fetchval(
                "SELECT removed_at IS NULL FROM integrations WHERE id = $1 FOR UPDATE",
                integration_id,
            )
            created = not live  # no row, or a tombstone: created afresh
            if created:
                missing = [
                    name
                    for name, value in (("simployer_token", simployer), ("payroll_token", payroll))
                    if value is None
                ]
                if missing:
                    raise MissingTokens(f"{' and '.join(missing)}: required for a new integration")
                await conn.execute(
                    "DELETE FROM connection_checks WHERE integration_id = $1", integration_id
                )
                row = await conn.fetchrow(
                    "INSERT INTO integrations (id, settings, simployer_token, payroll_token)"
                    " VALUES ($1, $2::jsonb, $3, $4)"
                    " ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings,"
                    " simployer_token = EXCLUDED.simployer_token,"
                    " payroll_token = EXCLUDED.payroll_token,"
                    " version = nextval('integration_version'), created_at = now(),"
                    " updated_at = now(), removed_at = NULL"
                    f" RETURNING {_COLUMNS}",
                    integration_id,
                    document,
                    simployer,
                    payroll,
                )
            else:
                row = await conn.fetchrow(
                    "UPDATE integrations SET settings = $2::jsonb,"
                    " simployer_token = coalesce($3, simployer_token),"
                    " payroll_token = coalesce($4, payroll_token),"
                    " version = nextval('integration_version'), updated_at = now()"
                    f" WHERE id = $1 RETURNING {_COLUMNS}",
                    integration_id,
                    document,
                    simployer,
                    payroll,
                )
        return _stored(row), created

    async def get(self, integration_id: str) -> StoredIntegration | None:
        row = await self._pool.fetchrow(
            f"SELECT {_COLUMNS} FROM integrations WHERE id = $1 AND removed_at IS NULL",
            integration_id,
        )
        return None if row is None else _stored(row)

    async def list(self) -> list[StoredIntegration]:
        """Every integration, by id."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM integrations WHERE removed_at IS NULL ORDER BY id"
        )
        return [_stored(row) for row in rows]

    async def delete(self, integration_id: str) -> bool:
        """Remove it and its tokens (a tombstone row keeps only the id and version, so that
        processes see the removal); False if there was none."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
            removed = await conn.fetchval(
                "UPDATE integrations SET settings = NULL, simployer_token = NULL,"
                " payroll_token = NULL, removed_at = now(), updated_at = now(),"
                " version = nextval('integration_version')"
                " WHERE id = $1 AND removed_at IS NULL RETURNING id",
                integration_id,
            )
            if removed is not None:
                await conn.execute(
                    "DELETE FROM connection_checks WHERE integration_id = $1", integration_id
                )
        return removed is not None

    async def changes(self, since: int) -> Changes:
        """Rows written and removed after version `since` (0: everything there is)."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS}, removed_at IS NOT NULL AS removed FROM integrations"
            " WHERE version > $1 ORDER BY version",
            since,
        )
        written: list[Live] = []
        removed: list[str] = []
        for row in rows:
            if row["removed"]:
                removed.append(row["id"])
                continue
            credentials = Credentials(
                simployer_token=self._cipher.decrypt(
                    row["simployer_token"], what=f"integration {row['id']}: simployer_token"
                ),
                payroll_token=self._cipher.decrypt(
                    row["payroll_token"], what=f"integration {row['id']}: payroll_token"
                ),
            )
            written.append(
                Live(
                    id=row["id"],
                    settings=_settings(row),
                    credentials=credentials,
                    version=row["version"],
                )
            )
        highest = max((row["version"] for row in rows), default=since)
        return Changes(written=written, removed=removed, version=highest)

    async def record_check(self, integration_id: str, check: ConnectionCheck) -> None:
        """Keep `check` as the integration's last one (nothing for an unknown or removed id)."""
        await self._pool.execute(
            "INSERT INTO connection_checks (integration_id, checked_at, simployer_ok,"
            " simployer_reason, payroll_ok, payroll_reason)"
            " SELECT id, to_timestamp($2), $3, $4, $5, $6 FROM integrations"
            " WHERE id = $1 AND removed_at IS NULL"
            " ON CONFLICT (integration_id) DO UPDATE SET checked_at = EXCLUDED.checked_at,"
            " simployer_ok = EXCLUDED.simployer_ok, simployer_reason = EXCLUDED.simployer_reason,"
            " payroll_ok = EXCLUDED.payroll_ok, payroll_reason = EXCLUDED.payroll_reason",
            integration_id,
            check.checked_at,
            check.simployer.ok,
            check.simployer.reason,
            check.payroll.ok,
            check.payroll.reason,
        )

    async def last_check(self, integration_id: str) -> ConnectionCheck | None:
        row = await self._pool.fetchrow(
            "SELECT extract(epoch FROM checked_at)::float8 AS checked_at, simployer_ok,"
            " simployer_reason, payroll_ok, payroll_reason FROM connection_checks"
            " WHERE integration_id = $1",
            integration_id,
        )
        if row is None:
            return None
        return ConnectionCheck(
            checked_at=row["checked_at"],
            simployer=SideCheck(ok=row["simployer_ok"], reason=row["simployer_reason"]),
            payroll=SideCheck(ok=row["payroll_ok"], reason=row["payroll_reason"]),
        )

    # ------------------------------------------------------------------ key rotation

    async def rotate_tokens(self) -> int:
        """Re-encrypt every stored token under the first key and bump each row's version (so
        every process reloads); the number of integrations rewritten. One transaction: a token
        no key decrypts leaves everything as it was."""
        count = 0
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _WRITE_LOCK)
            rows = await conn.fetch(
                "SELECT id, simployer_token, payroll_token FROM integrations"
                " WHERE removed_at IS NULL ORDER BY id FOR UPDATE"
            )
            for row in rows:
                name = row["id"]
                await conn.execute(
                    "UPDATE integrations SET simployer_token = $2, payroll_token = $3,"
                    " version = nextval('integration_version'), updated_at = now()"
                    " WHERE id = $1",
                    name,
                    self._cipher.rotate(
                        row["simployer_token"], what=f"integration {name}: simployer_token"
                    ),
                    self._cipher.rotate(
                        row["payroll_token"], what=f"integration {name}: payroll_token"
                    ),
                )
                count += 1
        return count


def _encrypt_if(cipher: TokenCipher, token: str | None) -> str | None:
    # Surrounding whitespace (a pasted newline) is never part of a token; blank means not given.
    token = None if token is None else token.strip()
    return cipher.encrypt(token) if token else None


def _settings(row: Any) -> Integration:
    return msgspec.json.decode(row["settings"], type=Integration)


def _stored(row: Any) -> StoredIntegration:
    return StoredIntegration(
        id=row["id"],
        settings=_settings(row),
        version=row["version"],
        has_simployer_token=row["simployer_token"] is not None,
        has_payroll_token=row["payroll_token"] is not None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )

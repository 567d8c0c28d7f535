"""The registry in PostgreSQL (asyncpg). Tokens are encrypted before they leave this process
(registry/crypto.py); nothing here logs or raises with a token in it.

STUB: signatures agreed between the helpers; bodies come with the `registry` branch.
"""

from __future__ import annotations

from typing import Self

from payroll_sync.registry.records import (
    Changes,
    ConnectionCheck,
    StoredIntegration,
    TokensUpdate,
)
from payroll_sync.schemas.settings import Integration


class MissingTokens(ValueError):
    """A create without both tokens; the message names the missing field(s)."""


class Registry:
    @classmethod
    async def connect(cls, database_url: str, *, secret_keys: str) -> Self:
        """A pool on `database_url`; `secret_keys` is `PAYROLL_SYNC_SECRET_KEY`'s value (one or
        more keys, the first encrypts). Refuses (ConfigError) a schema older than the code's:
        run `payroll-sync migrate`."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def put(
        self, integration_id: str, settings: Integration, tokens: TokensUpdate | None
    ) -> tuple[StoredIntegration, bool]:
        """Create or replace; (the stored row, True if it was created). A create needs both
        tokens (MissingTokens names the missing field); a replace keeps the tokens not given."""
        raise NotImplementedError

    async def get(self, integration_id: str) -> StoredIntegration | None:
        raise NotImplementedError

    async def list(self) -> list[StoredIntegration]:
        """Every integration, by id."""
        raise NotImplementedError

    async def delete(self, integration_id: str) -> bool:
        """Remove it and its tokens (a tombstone row keeps only the id and version, so that
        processes see the removal); False if there was none."""
        raise NotImplementedError

    async def changes(self, since: int) -> Changes:
        """Rows written and removed after version `since` (0: everything there is)."""
        raise NotImplementedError

    async def record_check(self, integration_id: str, check: ConnectionCheck) -> None:
        raise NotImplementedError

    async def last_check(self, integration_id: str) -> ConnectionCheck | None:
        raise NotImplementedError

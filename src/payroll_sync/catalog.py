"""The integrations a process works with, kept current without a restart.

A `Catalog` is one immutable snapshot: the settings file's `[worker]`, `[intake]` and `[limits]`
with the integrations of the source in force, and their tokens. A `LiveCatalog` holds the
current snapshot and swaps it when its source changes:

- without `DATABASE_URL`: the TOML file (re-read when its content changes; tokens from the
  environment variables it names), as before;
- with `DATABASE_URL`: the file's other tables, and the integrations of the registry
  (registry/store.py), polled for changes every `poll_seconds`.

STUB: signatures agreed between the helpers; the `live` branch implements them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, Self

from payroll_sync.config import Credentials, Environment
from payroll_sync.schemas.settings import Integration, Settings

#: How often a process asks the registry what changed.
DEFAULT_POLL_SECONDS = 2.0


class TokenSource(Protocol):
    def credentials(self, integration_id: str) -> Credentials:
        """The integration's tokens; ConfigError naming what is missing (never a value)."""
        ...


class Catalog:
    """One snapshot (immutable once made)."""

    settings: Settings
    # Integration ids removed from the registry since this process started (a record of one
    # still queued ends "integration removed", not "unknown integration").
    removed: frozenset[str]

    def integration(self, integration_id: str) -> Integration:
        """ConfigError ("unknown integration" / "integration removed") when there is none."""
        raise NotImplementedError

    def credentials(self, integration_id: str) -> Credentials:
        raise NotImplementedError


class LiveCatalog:
    """The process's current `Catalog`; `refresh()` looks for changes, `run()` keeps looking."""

    @classmethod
    async def open(
        cls,
        env: Environment,
        *,
        environ: Mapping[str, str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> Self:
        """The source `env` names (DATABASE_URL or not); loads the first snapshot or raises
        ConfigError."""
        raise NotImplementedError

    @property
    def current(self) -> Catalog:
        raise NotImplementedError

    @property
    def settings(self) -> Settings:
        return self.current.settings

    def credentials(self, integration_id: str) -> Credentials:
        return self.current.credentials(integration_id)

    async def refresh(self) -> bool:
        """Look once; True if a new snapshot is in force (a broken file or an unreachable
        database keeps the old one, logged once)."""
        raise NotImplementedError

    async def ensure(self, integration_id: str) -> None:
        """Refresh now if `integration_id` is unknown (a record of a just-added integration may
        reach a worker before its next poll); at most once per second."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

"""The integrations a process works with, kept current without a restart.

A `Catalog` is one immutable snapshot: the settings file's `[worker]`, `[intake]` and `[limits]`
with the integrations of the source in force, and their tokens. A `LiveCatalog` holds the
current snapshot and swaps it when its source changes:

- without `DATABASE_URL`: the TOML file (re-read when its content changes; tokens from the
  environment variables it names), as before;
- with `DATABASE_URL`: the file's other tables, and the integrations of the registry
  (registry/store.py), polled for changes every `poll_seconds`.

A broken file or a database that does not answer never takes the integrations away: the last
snapshot stays in force, and the trouble is logged once (and its end, for the database).
Tokens are held in memory only, inside `Credentials` (whose repr hides them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, Self

import msgspec
import structlog

from payroll_sync import config
from payroll_sync.config import Credentials, Environment
from payroll_sync.errors import ConfigError, Retryable, SyncError
from payroll_sync.schemas.settings import Integration, Settings

if TYPE_CHECKING:
    from payroll_sync.registry.records import Changes

log = structlog.get_logger("payroll_sync.catalog")

#: How often a process asks the registry what changed.
DEFAULT_POLL_SECONDS = 2.0
#: `ensure()` refreshes at most this often (a flood of records of an unknown id asks once).
ENSURE_EVERY_SECONDS: Final = 1.0
#: The words a record of a removed integration ends with (worker) and the intake refuses with.
REMOVED: Final = "integration removed"


class TokenSource(Protocol):
    def credentials(self, integration_id: str) -> Credentials:
        """The integration's tokens; ConfigError naming what is missing (never a value)."""
        ...


class Catalog:
    """One snapshot (immutable once made)."""

    __slots__ = ("_environ", "_tokens", "removed", "settings")

    settings: Settings
    # Integration ids removed from the registry since this process started (a record of one
    # still queued ends "integration removed", not "unknown integration").
    removed: frozenset[str]

    def __init__(
        self,
        settings: Settings,
        *,
        tokens: Mapping[str, Credentials] | None = None,
        environ: Mapping[str, str] | None = None,
        removed: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.removed = removed - set(settings.integrations)
        self._tokens = dict(tokens or {})
        # Where the file's token variables are read (None: the process environment, looked up
        # when asked, as before).
        self._environ = environ

    def __repr__(self) -> str:
        return f"Catalog({len(self.settings.integrations)} integrations)"

    def integration(self, integration_id: str) -> Integration:
        """ConfigError ("unknown integration" / "integration removed") when there is none."""
        if integration_id in self.removed:
            raise ConfigError(
                f"{REMOVED}: {integration_id!r} was deleted from the registry (or taken out of "
                "the settings file); its records are not synced"
            )
        return config.integration(self.settings, integration_id)

    def credentials(self, integration_id: str) -> Credentials:
        chosen = self.integration(integration_id)
        stored = self._tokens.get(integration_id)
        if stored is not None:
            return stored
        if chosen.simployer_token_env is None or chosen.payroll_token_env is None:
            raise ConfigError(f"integration {integration_id!r} has no tokens stored")
        return config.credentials(chosen, self._environ)


# ------------------------------------------------------------------ the settings file


def _fingerprint(path: str) -> str:
    # By content, not modification time: timestamps are coarse (two quick edits of the same
    # size can share one), and a file restored from a backup may carry an old one. The file is
    # small; reading it every few seconds costs nothing.
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as error:
        return f"unreadable: {type(error).__name__}"


class SettingsFile:
    """The settings file, re-read when its content changed; a broken one is logged once per
    change and the settings before stay in force."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._seen = _fingerprint(path)
        # The first load raises: no process starts without settings.
        self.settings = config.load_settings(path)

    def reload(self) -> bool:
        """True if new settings are in force."""
        seen = _fingerprint(self.path)
        if seen == self._seen:
            return False
        # Remembered even when the file is broken: one error event per change, not one per look.
        self._seen = seen
        try:
            settings = config.load_settings(self.path)
        except SyncError as error:
            log.error("catalog.reload_failed", path=self.path, reason=error.reason)
            return False
        self.settings = settings
        log.info("catalog.reloaded", path=self.path, integrations=len(settings.integrations))
        return True


# ------------------------------------------------------------------ sources


class _Source(Protocol):
    async def load(self) -> Catalog | None:
        """A new snapshot, or None when nothing changed (or the source is in trouble)."""
        ...

    async def close(self) -> None: ...


class _Fixed:
    """Settings handed in (the local stack, tests): never changes."""

    async def load(self) -> Catalog | None:
        return None

    async def close(self) -> None:
        return None


class _FileSource:
    def __init__(self, path: str, environ: Mapping[str, str] | None) -> None:
        self.file = SettingsFile(path)
        self.environ = environ
        # Taken out of the file since this process started: their queued records end
        # "integration removed", as a registry removal's do (not "unknown integration").
        self.removed: frozenset[str] = frozenset()

    def snapshot(self) -> Catalog:
        return Catalog(self.file.settings, environ=self.environ, removed=self.removed)

    async def load(self) -> Catalog | None:
        before = set(self.file.settings.integrations)
        if not self.file.reload():
            return None
        self.removed |= before - set(self.file.settings.integrations)
        return self.snapshot()

    async def close(self) -> None:
        return None


def _not_answering(error: Exception) -> Retryable:
    """Try again later (exit 75): the registry did not answer at start."""
    return Retryable(
        f"the integration registry (DATABASE_URL) is not answering ({type(error).__name__})"
    )


class ChangeFeed(Protocol):
    """What the registry source needs of `registry.store.Registry`."""

    async def changes(self, since: int) -> Changes: ...

    async def close(self) -> None: ...


class _RegistrySource:
    """The file's other tables, and the registry's integrations, followed by version."""

    def __init__(self, file: SettingsFile, registry: ChangeFeed) -> None:
        self.file = file
        self.registry = registry
        self.integrations: dict[str, Integration] = {}
        self.tokens: dict[str, Credentials] = {}
        self.removed: set[str] = set()
        self.since = 0
        self._outage = False
        self._warned_file = False

    async def first(self) -> Catalog:
        try:
            changes = await self.registry.changes(0)
        except SyncError:
            raise
        except Exception as error:  # its type only: a database error's text may hold the URL
            raise _not_answering(error) from None
        self._apply(changes)
        return self.snapshot()

    def snapshot(self) -> Catalog:
        file_settings = self.file.settings
        if file_settings.integrations and not self._warned_file:
            self._warned_file = True
            log.warning(
                "catalog.file_integrations_ignored",
                path=self.file.path,
                integrations=len(file_settings.integrations),
                reason="DATABASE_URL is set: the registry's integrations are used; load the "
                "file's with `payroll-sync integrations import`",
            )
        settings = msgspec.structs.replace(file_settings, integrations=dict(self.integrations))
        return Catalog(settings, tokens=self.tokens, removed=frozenset(self.removed))

    def _apply(self, changes: Changes) -> bool:
        for live in changes.written:
            self.integrations[live.id] = live.settings
            self.tokens[live.id] = live.credentials
            self.removed.discard(live.id)
        for gone in changes.removed:
            # Its tokens leave memory with it.
            self.integrations.pop(gone, None)
            self.tokens.pop(gone, None)
            self.removed.add(gone)
        self.since = max(self.since, changes.version)
        return bool(changes.written or changes.removed)

    async def load(self) -> Catalog | None:
        file_changed = self.file.reload()
        try:
            changes = await self.registry.changes(self.since)
        except Exception as error:  # a database that does not answer, or answers wrong
            if not self._outage:
                self._outage = True
                log.error("catalog.registry_unavailable", error_type=type(error).__name__)
            return self.snapshot() if file_changed else None
        if self._outage:
            self._outage = False
            log.info("catalog.registry_recovered", version=changes.version)
        changed = self._apply(changes)
        if changed:
            log.info(
                "catalog.changed",
                version=self.since,
                written=len(changes.written),
                removed=len(changes.removed),
                integrations=len(self.integrations),
            )
        return self.snapshot() if changed or file_changed else None

    async def close(self) -> None:
        await self.registry.close()


# ------------------------------------------------------------------ the live catalog


class LiveCatalog:
    """The process's current `Catalog`; `refresh()` looks for changes, `run()` keeps looking."""

    def __init__(
        self, first: Catalog, source: _Source, *, poll_seconds: float = DEFAULT_POLL_SECONDS
    ) -> None:
        self._current = first
        self._source = source
        self.poll_seconds = poll_seconds
        self._lock = asyncio.Lock()
        self._ensure_lock = asyncio.Lock()
        # When `ensure()` last looked (monotonic seconds); a test may hand in its own clock.
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._ensured_at = -math.inf

    def __repr__(self) -> str:
        return f"LiveCatalog({self._current!r})"

    @classmethod
    async def open(
        cls,
        env: Environment,
        *,
        environ: Mapping[str, str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> Self:
        """The source `env` names (DATABASE_URL or not); loads the first snapshot or raises
        ConfigError (Retryable when the registry does not answer)."""
        if env.database_url is None:
            return cls.from_file(env.config_path, environ=environ, poll_seconds=poll_seconds)
        file = SettingsFile(env.config_path)
        # Imported here: a process without a registry never loads asyncpg.
        from payroll_sync.registry.store import Registry

        keys = config.secret_keys(environ)
        try:
            registry = await Registry.connect(env.database_url, secret_keys=keys)
        except SyncError:
            raise
        except Exception as error:  # its type only: a connection error's text may hold the URL
            raise _not_answering(error) from None
        source = _RegistrySource(file, registry)
        try:
            first = await source.first()
        except BaseException:
            await registry.close()
            raise
        return cls(first, source, poll_seconds=poll_seconds)

    @classmethod
    def from_file(
        cls,
        path: str,
        *,
        environ: Mapping[str, str] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> Self:
        """The settings file alone (ConfigError when it is broken now)."""
        source = _FileSource(path, environ)
        return cls(source.snapshot(), source, poll_seconds=poll_seconds)

    @classmethod
    def fixed(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> Self:
        """Settings handed in, never changing (the local stack and tests)."""
        return cls(Catalog(settings, environ=environ), _Fixed())

    @property
    def current(self) -> Catalog:
        return self._current

    @property
    def settings(self) -> Settings:
        return self.current.settings

    def credentials(self, integration_id: str) -> Credentials:
        return self.current.credentials(integration_id)

    async def refresh(self) -> bool:
        """Look once; True if a new snapshot is in force (a broken file or an unreachable
        database keeps the old one, logged once)."""
        async with self._lock:
            loaded = await self._source.load()
            if loaded is None:
                return False
            self._current = loaded
            return True

    async def ensure(self, integration_id: str) -> None:
        """Refresh now if `integration_id` is unknown (a record of a just-added integration may
        reach a worker before its next poll); at most once per second: a caller within the
        second waits for the next look, and every caller waiting meanwhile shares that look."""
        if self._knows(integration_id):
            return
        asked = self.clock()
        async with self._ensure_lock:
            if self._knows(integration_id) or self._ensured_at >= asked:
                return  # found meanwhile, or a look that began after we asked has been made
            wait = self._ensured_at + ENSURE_EVERY_SECONDS - self.clock()
            if wait > 0:
                await self.sleep(wait)
            self._ensured_at = self.clock()
            await self.refresh()

    def _knows(self, integration_id: str) -> bool:
        current = self._current
        return integration_id in current.settings.integrations or integration_id in current.removed

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Refresh every `poll_seconds` until `stop` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
            if stop.is_set():
                return
            try:
                await self.refresh()
            except Exception as error:  # the loop must outlive any one look
                log.error("catalog.refresh_failed", error_type=type(error).__name__)

    async def close(self) -> None:
        await self._source.close()

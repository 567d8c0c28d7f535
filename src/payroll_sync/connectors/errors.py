"""One error tree for everything that can stop a record.

`Retryable` errors (network, 5xx, 429) are tried again later; `Permanent` ones end the record at
once as `failed`. Every message here is shown to HR administrators and logged, so it names the
field to fix and never contains personal data, tokens or an API's error body verbatim.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every expected failure. `reason` is safe to log and show."""

    def __init__(self, reason: str, *, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        # The Simployer One field to fix, when the reason is about one.
        self.field = field


class Retryable(SyncError):
    """Try again later: network error, timeout, 5xx, 429."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        # Seconds the server asked us to wait (Retry-After), if it said.
        self.delay = delay


class Permanent(SyncError):
    """Retrying cannot help until someone changes data or settings."""


class ConfigError(Permanent):
    """The integration's settings or credentials are wrong (e.g. a token that answers 401)."""


class Conflict(Permanent):
    """The payroll API answered 409: the object already exists."""


class RecordSkipped(SyncError):
    """The record is incomplete and waits for its data (outcome `skipped`, not `failed`)."""


class Deferred(SyncError):
    """The shared rate limit would hold this record too long: put it back, do not fail it."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"rate limit: deferred for {delay:.1f} s")
        self.delay = delay

"""One error tree for everything that can stop a record or a request.

`Retryable` errors (network, 5xx, 429) are tried again later; `Permanent` ones end the record at
once as `failed`; `RecordSkipped` waits for data; `Deferred` puts a record back for the rate
limit. Every message is shown to HR administrators and logged, so it names the field to fix and
never contains personal data, tokens or an API's error body verbatim. What an HTTP answer means
is decided in `connectors/answers.py`.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec


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


class RateLimited(Retryable):
    """A 429: the API's own rate limit. Waiting for it never counts as a failed attempt.

    The caller also pushes the shared limiter back by `delay` (`SharedRateLimiter.penalise`),
    so that no other worker process sends before then. `api` says whose limit it was: only
    24SevenOffice's is shared through our limiter.
    """

    def __init__(self, reason: str, *, delay: float | None = None, api: str = "payroll") -> None:
        super().__init__(reason, delay=delay)
        self.api = api


class RequestRefused(ValueError):
    """The request cannot be carried out as asked; the message says what is wrong."""


_MSGSPEC_PATH: Final = re.compile(r"`\$([^`]*)`")
_MISSING_FIELD: Final = re.compile(r"missing required field `([^`]*)`")


def field_path(exc: msgspec.ValidationError) -> str:
    """msgspec's path of the invalid value (`$.data[3].employeeNumber`), or `$`. For a missing
    field, the path it should be at (`$.bankAccount.number`): msgspec's own path stops at the
    object that lacks it. Never the value, which other words of the message may quote."""
    message = str(exc)
    match = _MSGSPEC_PATH.search(message)
    path = f"${match.group(1)}" if match else "$"
    missing = _MISSING_FIELD.search(message)
    return f"{path}.{missing.group(1)}" if missing else path

"""The exit codes of every `payroll-sync` command, and what an error that ends one means.

Scripts and schedulers tell "a person must fix something" (2: retrying will not help) from "try
again later" (75, `EX_TEMPFAIL` of sysexits.h, Python's `os.EX_TEMPFAIL`: an API kept failing,
Redis is not answering). With `--json` the same failure is one JSON object whose `code` is
stable; the `error` text is for people and may change.
"""

from __future__ import annotations

from typing import Final, NamedTuple

import msgspec
import redis
from redis.exceptions import LockError

from payroll_sync.errors import RequestRefused, Retryable, SyncError
from payroll_sync.registry.errors import DatabaseUnavailable

#: Done; for a sync, every record ended without `failed`.
EXIT_OK: Final = 0
#: A sync ran but at least one record failed (the table says which and why).
EXIT_FAILED: Final = 1
#: A person must fix something: the request, the settings, a token, a data file. Nothing ran.
EXIT_USAGE: Final = 2
#: Try again later: an API kept failing for minutes, or Redis is not answering. Nothing ran
#: (or a run started and its records are queued: the run is in Redis).
EXIT_TRY_LATER: Final = 75

#: `code` of a failure, with `--json`.
USAGE: Final = "usage"  # the command line itself (argparse)
REQUEST_REFUSED: Final = "request_refused"  # the sync request: options, employee numbers
CONFIG_ERROR: Final = "config_error"  # settings, environment, a token an API refused
INVALID_INPUT: Final = "invalid_input"  # a data file, a port in use, ...
API_UNAVAILABLE: Final = "api_unavailable"  # an API kept failing (try again later)
REDIS_UNAVAILABLE: Final = "redis_unavailable"  # Redis is not answering (try again later)
DATABASE_UNAVAILABLE: Final = "database_unavailable"  # PostgreSQL is not answering (later)
BUSY: Final = "busy"  # another request held the integration's enrol lock too long


class Failure(NamedTuple):
    code: str
    exit_code: int
    reason: str


def failure_of(exc: BaseException) -> Failure | None:
    """What an error that ends a command means; None for one that is not expected (a bug)."""
    match exc:
        case DatabaseUnavailable():
            return Failure(DATABASE_UNAVAILABLE, EXIT_TRY_LATER, exc.reason)
        case Retryable():
            return Failure(API_UNAVAILABLE, EXIT_TRY_LATER, exc.reason)
        case SyncError():
            # Configuration and credential problems: the reason names the setting to fix.
            return Failure(CONFIG_ERROR, EXIT_USAGE, exc.reason)
        case LockError():
            return Failure(
                BUSY, EXIT_TRY_LATER, "another sync request of this integration is being queued"
            )
        case redis.ConnectionError() | redis.TimeoutError() | redis.BusyLoadingError():
            return Failure(
                REDIS_UNAVAILABLE,
                EXIT_TRY_LATER,
                f"Redis is not answering ({type(exc).__name__})",
            )
        case redis.RedisError():
            reason = f"Redis refused a command ({type(exc).__name__})"
            return Failure(CONFIG_ERROR, EXIT_USAGE, reason)
        case RequestRefused():
            return Failure(REQUEST_REFUSED, EXIT_USAGE, str(exc))
        case OSError() | msgspec.DecodeError() | ValueError():
            # A missing or invalid data file, a port in use: what, not a traceback.
            return Failure(INVALID_INPUT, EXIT_USAGE, str(exc))
    return None

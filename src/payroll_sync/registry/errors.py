"""The registry's own error, kept apart from asyncpg so the CLI's exit codes can name it without
loading a database driver."""

from __future__ import annotations

from payroll_sync.errors import Retryable


class DatabaseUnavailable(Retryable):
    """PostgreSQL is not answering (refused, timed out, shutting down): try again later."""

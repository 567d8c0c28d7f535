"""The Redis the tests and benchmarks use, and key prefixes of their own on it.

Whoever makes a prefix removes its keys afterwards; nothing here ever flushes a database.
"""

from __future__ import annotations

import os
import secrets
from typing import Final

REDIS_URL: Final = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix(purpose: str = "test") -> str:
    """A key prefix no other test, benchmark or run shares: `payroll-sync-<purpose>-<random>`."""
    return f"payroll-sync-{purpose}-{secrets.token_hex(4)}"

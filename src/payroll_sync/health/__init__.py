"""Is this process alive, and are the services it needs answering? (`/healthz`, `/readyz`,
`payroll-sync status`; docs/health.md)."""

from payroll_sync.health.checks import (
    POSTGRES,
    REDIS,
    TIMEOUT_SECONDS,
    CheckResult,
    check_postgres,
    check_redis,
    readiness,
)
from payroll_sync.health.routes import HEALTHZ_PATH, PATHS, READYZ_PATH, add_health_routes

__all__ = [
    "HEALTHZ_PATH",
    "PATHS",
    "POSTGRES",
    "READYZ_PATH",
    "REDIS",
    "TIMEOUT_SECONDS",
    "CheckResult",
    "add_health_routes",
    "check_postgres",
    "check_redis",
    "readiness",
]

"""`/metrics` on an aiohttp app, in Prometheus' text format.

Machine endpoint: no login, no personal data (metrics/definitions.py). Before rendering, the
route awaits its `refresh` callables (gauges read from Redis at scrape time, such as the pacer's
waiting records), one scrape at a time so two scrapes never interleave a gauge's clear and set.
A refresh that fails or takes too long is logged by its error type and skipped: the rest of the
metrics are still served.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

log = structlog.get_logger("payroll_sync.metrics")

METRICS_PATH: Final = "/metrics"
#: Longest a scrape waits for one refresh (Prometheus' default scrape timeout is 10 s).
REFRESH_TIMEOUT_SECONDS: Final = 5.0

Refresh = Callable[[], Awaitable[None]]


def multiprocess_dir() -> str | None:
    """Where this process's metrics are written when they are shared by several processes."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry() -> CollectorRegistry:
    """What to render: this process's registry, or every process's files in multiprocess mode."""
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def render() -> bytes:
    return generate_latest(scrape_registry())


async def _refreshed(refresh: Refresh) -> None:
    try:
        await asyncio.wait_for(refresh(), REFRESH_TIMEOUT_SECONDS)
    except Exception as error:
        # The type only: a Redis error's text can carry its URL (with a password).
        log.warning("metrics.refresh_failed", error_type=type(error).__name__)


def add_metrics_route(app: web.Application, *, refresh: Sequence[Refresh] = ()) -> None:
    """GET /metrics on `app`, after awaiting each of `refresh`."""
    lock = asyncio.Lock()

    async def metrics(request: web.Request) -> web.Response:
        async with lock:
            for each in refresh:
                await _refreshed(each)
            body = render()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get(METRICS_PATH, metrics)

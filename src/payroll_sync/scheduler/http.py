"""The scheduler's HTTP server: `/metrics` (slots fired and missed, the pacer's waiting records,
requests its producer sent), and the routes the caller adds (`/healthz` and `/readyz`, added by
`scheduler.process.run_scheduler`).

The scheduler has no API; this app is for machines only, so nothing here needs a login and
nothing here shows personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from aiohttp import web

from payroll_sync.metrics.exposition import Refresh, add_metrics_route

#: `payroll-sync scheduler --port`.
DEFAULT_PORT: Final = 8091

#: Adds routes to the app (e.g. `lambda app: app.router.add_get("/healthz", handler)`).
AddRoutes = Callable[[web.Application], object]


def make_app(
    *, refresh: Sequence[Refresh] = (), routes: Iterable[AddRoutes] = ()
) -> web.Application:
    """The scheduler's app: `/metrics` (after each of `refresh`), then each of `routes`."""
    app = web.Application()
    add_metrics_route(app, refresh=refresh)
    for add in routes:
        add(app)
    return app

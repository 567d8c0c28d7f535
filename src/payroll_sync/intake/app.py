"""The intake's HTTP API: upstream systems ask for a sync and follow the run it joined.

- `POST /api/v1/sync-requests`  a JSON sync request -> 202 {run_id, status, joined, enqueued}
- `GET /api/v1/runs/{run_id}`  the run's status and counters (`runs.public.run_view`), and
  the mass-change brake's summary when it counted the run (`brake`)
- `POST /api/v1/runs/{run_id}/approve|cancel`  decide a run the brake holds (intake/runs_api.py)
- `/api/v1/integrations...`  the settings wizard's API (intake/integrations_api.py)
- `GET /healthz`, `GET /readyz`  alive, ready (health/routes.py; no token)
- `/api/v1/integrations/{id}/drift`  the drift report, and a dry run to refresh it (drift_api.py)

Every other route needs `Authorization: Bearer <token>` of a caller named in `[intake.callers]`.
Submits go through `Lanes`: one at a time per integration and kind, identical waiting requests
sharing one. Everything the app talks to is handed in (`make_app`), so tests drive it with real
parts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync.catalog import REMOVED, LiveCatalog
from payroll_sync.errors import Deferred, RequestRefused, Retryable, SyncError
from payroll_sync.health import add_health_routes
from payroll_sync.intake.auth import caller_for
from payroll_sync.intake.body import MAX_BODY_BYTES, BadBody, decode_sync_request
from payroll_sync.intake.drift_api import add_drift_routes
from payroll_sync.intake.integrations_api import IntegrationRegistry, add_integration_routes
from payroll_sync.intake.lanes import Lanes
from payroll_sync.intake.refusals import CALLER, Refusal, json_response, read_body
from payroll_sync.intake.runs_api import add_runs_routes
from payroll_sync.metrics.exposition import add_metrics_route
from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer
from payroll_sync.queue.pacing import waiting_refresh
from payroll_sync.runs.brake_view import brake_json, brake_view
from payroll_sync.runs.public import run_view
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings

log = structlog.get_logger("payroll_sync.intake")

SYNC_REQUESTS_PATH: Final = "/api/v1/sync-requests"
RUNS_PATH: Final = "/api/v1/runs"
# Run ids are letters, digits and dashes: anything else (a ':' reaching into the store's other
# keys) is simply not a run.
_RUN_ID: Final = re.compile(r"[0-9A-Za-z_-]{1,64}")


class IntakeApi:
    """The handlers, with what they need."""

    def __init__(
        self,
        *,
        catalog: LiveCatalog,
        producer: Producer,
        tokens: Mapping[str, str],
    ) -> None:
        # The integrations in force now: added, changed and removed ones count within seconds.
        self.catalog = catalog
        self.producer = producer
        self.store = producer.store
        self.tokens = dict(tokens)
        self.lanes = Lanes(self._submit_one)

    @property
    def settings(self) -> Settings:
        return self.catalog.settings

    def caller(self, request: web.Request) -> str:
        header = request.headers.get("Authorization")
        caller = caller_for(header, self.tokens)
        if caller is None:
            reason = "missing bearer token" if not header else "unknown or malformed bearer token"
            raise Refusal(401, reason, headers={"WWW-Authenticate": 'Bearer realm="intake"'})
        return caller

    async def post_sync_request(self, request: web.Request) -> web.Response:
        caller = self.caller(request)
        request[CALLER] = caller
        sync_request = await self._read_request(request)
        if not self.may_ask(caller, sync_request.integration):
            allowed = ", ".join(sorted(self.settings.intake.allowed(caller) or ())) or "none"
            raise Refusal(
                403,
                f"caller {caller!r} may not ask for integration {sync_request.integration!r} "
                f"(allowed: {allowed})",
            )
        # Added a moment ago, it may not have been polled yet.
        await self.catalog.ensure(sync_request.integration)
        if sync_request.integration in self.catalog.current.removed:
            raise Refusal(404, f"{REMOVED}: {sync_request.integration!r}")
        if sync_request.integration not in self.settings.integrations:
            raise Refusal(404, f"unknown integration {sync_request.integration!r}")
        expansion = await self._submit(sync_request)
        run = await self.store.get_run(expansion.run_id)
        log.info(
            "intake.accepted",
            caller=caller,
            integration=sync_request.integration,
            kind=sync_request.kind,
            run_id=expansion.run_id,
            # How many were named (None: the integration's whole scope); never the list.
            employees=len(sync_request.employees) if sync_request.employees else None,
            dry_run=sync_request.dry_run,
            joined=expansion.joined,
            enqueued=expansion.enqueued,
        )
        return json_response(
            {
                "run_id": expansion.run_id,
                "status": run.status if run is not None else "queued",
                "joined": expansion.joined,
                "in_scope": expansion.in_scope,
                "enqueued": expansion.enqueued,
            },
            status=202,
            headers={"Location": f"{RUNS_PATH}/{expansion.run_id}"},
        )

    def may_ask(self, caller: str, integration: str) -> bool:
        allowed = self.settings.intake.allowed(caller)
        return allowed is None or integration in allowed

    async def get_run(self, request: web.Request) -> web.Response:
        caller = request[CALLER] = self.caller(request)
        run_id = request.match_info["run_id"]
        run = await self.store.get_run(run_id) if _RUN_ID.fullmatch(run_id) else None
        # Another integration's run is not this caller's to see, nor to know of.
        if run is None or not self.may_ask(caller, run.integration):
            raise Refusal(404, "unknown run (or expired)")
        body = run_view(run)
        summary = await self.store.brake_summary(run.id)
        if summary is not None:
            body["brake"] = brake_json(brake_view(summary, run))
        return json_response(body)

    async def _read_request(self, request: web.Request) -> SyncRequest:
        raw = await read_body(request)
        try:
            return decode_sync_request(raw)
        except BadBody as bad:
            raise Refusal(400, str(bad)) from None

    async def _submit_one(self, sync_request: SyncRequest) -> Expansion:
        return await self.producer.submit(sync_request, self.settings)

    async def submit(self, sync_request: SyncRequest) -> Expansion:
        """Through the lanes; refused as the caller should hear it (422, 503, 502)."""
        return await self._submit(sync_request)

    async def _submit(self, sync_request: SyncRequest) -> Expansion:
        try:
            return await self.lanes.submit(sync_request)
        except RequestRefused as refused:
            raise Refusal(422, str(refused)) from None
        except (Retryable, Deferred) as busy:
            delay = busy.delay
            headers = {"Retry-After": str(max(1, math.ceil(delay)))} if delay else None
            raise Refusal(503, busy.reason, headers=headers) from None
        except SyncError as failed:
            # The source refused us (bad credentials, an unexpected answer): not the caller's
            # fault, and retrying will not help until someone fixes it.
            raise Refusal(502, failed.reason) from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


#: Answered when Redis is down; the next request tries again (redis-py reconnects by itself).
REDIS_DOWN: Final = "Redis is not answering (the run store); try again shortly"
REDIS_RETRY_SECONDS: Final = 5
#: nginx's "client closed request": what a request whose caller hung up counts as (never sent).
CLIENT_GONE: Final = 499


@web.middleware
async def answer_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal as JSON with one `intake.refused` event; a bug as a bare 500.

    A caller that hangs up mid-request is no error of ours: aiohttp fails the body's read (or
    the answer's write) with a ConnectionResetError, logged as `intake.client_gone` and
    answered with a response nobody receives (aiohttp drops it quietly).
    """
    try:
        return await handler(request)
    except Refusal as refusal:
        status, reason, headers = refusal.status, refusal.reason, refusal.headers
    except web.HTTPException as http:  # no such route, wrong method
        status, reason = http.status, http.reason
        headers = {name: value for name, value in http.headers.items() if name == "Allow"}
    except aioredis.RedisError as error:
        status, reason = 503, REDIS_DOWN
        headers = {"Retry-After": str(REDIS_RETRY_SECONDS)}
        log.error("intake.redis_unavailable", error_type=type(error).__name__)
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError is one
        log.info(
            "intake.client_gone",
            caller=request.get(CALLER, "anonymous"),
            method=request.method,
            route=_route_of(request),
        )
        return web.Response(status=CLIENT_GONE)
    except Exception as error:
        log.error("intake.crashed", error_type=type(error).__name__, route=request.path)
        status, reason, headers = 500, "internal error", {}
    log.warning(
        "intake.refused",
        caller=request.get(CALLER, "anonymous"),
        method=request.method,
        route=_route_of(request),
        status=status,
        reason=reason,
    )
    return json_response({"error": reason}, status=status, headers=headers)


def _route_of(request: web.Request) -> str:
    # The route's pattern, not the path: a path is caller input.
    info = request.match_info.route.resource
    return info.canonical if info is not None else "(no route)"


#: The process's live catalog, for routes added beside these.
CATALOG: Final = web.AppKey("catalog", LiveCatalog)


def make_app(
    *,
    producer: Producer,
    tokens: Mapping[str, str],
    catalog: LiveCatalog | None = None,
    settings: Settings | None = None,
    registry: IntegrationRegistry | None = None,
    database_url: str | None = None,
) -> web.Application:
    """The intake app. `tokens`: bearer token -> caller name (`config.intake_tokens`); the
    producer submits the requests and holds the runs they join. `catalog`: the integrations
    (or `settings` that never change, for tests). `registry`: where the integrations API
    writes (None: the settings file is the source, and writes are refused). `database_url`:
    `/readyz` checks PostgreSQL too."""
    if catalog is None:
        if settings is None:
            raise TypeError("make_app needs a catalog or settings")
        catalog = LiveCatalog.fixed(settings, producer.env)
    api = IntakeApi(catalog=catalog, producer=producer, tokens=tokens)
    app = web.Application(middlewares=[answer_errors], client_max_size=MAX_BODY_BYTES)
    app[CATALOG] = catalog
    app.router.add_post(SYNC_REQUESTS_PATH, api.post_sync_request)
    app.router.add_get(RUNS_PATH + "/{run_id}", api.get_run)
    add_runs_routes(
        app, runs_path=RUNS_PATH, producer=producer, caller=api.caller, may_ask=api.may_ask
    )
    add_integration_routes(
        app, caller=api.caller, catalog=catalog, registry=registry, store=producer.store
    )
    # /healthz and /readyz ask no caller for a token.
    add_health_routes(app, redis=producer.store.redis, database_url=database_url)
    add_drift_routes(
        app, caller=api.caller, catalog=catalog, store=producer.store, submit=api.submit
    )
    # For Prometheus, no token: counts by integration id, never personal data.
    add_metrics_route(
        app,
        refresh=[
            waiting_refresh(
                producer.store.redis, producer.store.prefix, lambda: catalog.settings.integrations
            )
        ],
    )
    return app

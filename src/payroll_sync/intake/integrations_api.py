"""The settings wizard's JSON API on the intake: upstream systems onboard companies themselves.

- `PUT /api/v1/integrations/{id}`  create (201) or replace (200) settings and tokens
- `GET /api/v1/integrations/{id}`  settings (never tokens), last run, next slots, last check
- `GET /api/v1/integrations`  every integration the caller may see, with its status
- `DELETE /api/v1/integrations/{id}`  remove it and its tokens (204); its run history stays
- `POST /api/v1/integrations/{id}/check`  test both tokens now, and keep the result
- `GET /api/v1/integrations/{id}/scope-preview`  who is in scope now, and why the others not

The same bearer-token callers as the sync requests, and `[intake.allow]` applies: a caller
limited to some integrations reads and writes only those. Writes need the registry (with
`DATABASE_URL`); without it the integrations come from the settings file and only reads, checks
and previews work. Events name the integration and the caller, never a token.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Final, Protocol, TypeVar

import aiohttp
import msgspec
import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync.catalog import LiveCatalog
from payroll_sync.config import Credentials
from payroll_sync.errors import SyncError, reword
from payroll_sync.intake.refusals import (
    CALLER,
    Refusal,
    integration_asked,
    json_response,
    read_body,
)
from payroll_sync.producer.producer import oslo_today
from payroll_sync.registry.records import (
    ConnectionCheck,
    StoredIntegration,
    TokensUpdate,
)
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.settings import Integration, Scope
from payroll_sync.schemas.words import SCHEMA_WORDING
from payroll_sync.wizard.check import check_connection
from payroll_sync.wizard.payload import (
    BadIntegration,
    decode_integration,
    integration_view,
    settings_view,
    tokens_view,
)
from payroll_sync.wizard.preview import scope_preview
from payroll_sync.wizard.status import (
    IntegrationStatus,
    StatusReader,
    check_view,
    integrations_of,
    status_view,
)

log = structlog.get_logger("payroll_sync.intake")

T = TypeVar("T")

INTEGRATIONS_PATH: Final = "/api/v1/integrations"
NO_REGISTRY: Final = (
    "integrations come from the settings file here; set DATABASE_URL to manage them through the API"
)
#: Answered (503) when the registry's database does not answer; the pool reconnects by itself.
REGISTRY_DOWN: Final = "the integration registry (DATABASE_URL) is not answering; try again shortly"
REGISTRY_RETRY_SECONDS: Final = 5
#: Query parameters of the scope preview: each replaces that field of the stored scope.
SCOPE_PARAMETERS: Final = tuple(f.encode_name for f in msgspec.structs.fields(Scope))


class IntegrationRegistry(Protocol):
    """What the API needs of the registry (`registry.store.Registry`)."""

    async def put(
        self, integration_id: str, settings: Integration, tokens: TokensUpdate | None
    ) -> tuple[StoredIntegration, bool]: ...

    async def get(self, integration_id: str) -> StoredIntegration | None: ...

    async def list(self) -> list[StoredIntegration]: ...

    async def delete(self, integration_id: str) -> bool: ...

    async def record_check(self, integration_id: str, check: ConnectionCheck) -> None: ...

    async def last_check(self, integration_id: str) -> ConnectionCheck | None: ...


class IntegrationsApi:
    """The handlers, with what they need."""

    def __init__(
        self,
        *,
        caller: Callable[[web.Request], str],
        catalog: LiveCatalog,
        registry: IntegrationRegistry | None,
        store: RunStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # The intake's own authentication (`IntakeApi.caller`): 401 for a stranger.
        self._caller = caller
        self.catalog = catalog
        self.registry = registry
        self.status = StatusReader(
            store, schedules=ScheduleState(store.redis, prefix=store.prefix), checks=registry
        )
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None

    async def session_context(self, app: web.Application) -> AsyncIterator[None]:
        """One HTTP session for the checks and previews, closed with the app."""
        async with aiohttp.ClientSession() as session:
            self._session = session
            yield
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the integrations API's HTTP session is not open")
        return self._session

    # ------------------------------------------------------------------ who may

    def _allowed_caller(self, request: web.Request) -> tuple[str, str]:
        """(caller, integration id) of a request about one integration, or the refusal."""
        caller = request[CALLER] = self._caller(request)
        integration_id = integration_asked(
            request, caller, self.catalog.settings.intake, doing="manage"
        )
        return caller, integration_id

    @staticmethod
    async def _db(call: Awaitable[T]) -> T:
        """A registry call; a database that does not answer is a 503, not a crash. Our own
        refusals, `MissingTokens` (a ValueError naming the field) and Redis's errors (the
        status reads the run store too; the app answers those) pass through."""
        try:
            return await call
        except (Refusal, ValueError, aioredis.RedisError):
            raise
        except Exception as error:  # asyncpg's, or the network's: only the type is logged
            log.error("intake.registry_unavailable", error_type=type(error).__name__)
            retry = {"Retry-After": str(REGISTRY_RETRY_SECONDS)}
            raise Refusal(503, REGISTRY_DOWN, headers=retry) from None

    def _writable(self) -> IntegrationRegistry:
        if self.registry is None:
            raise Refusal(409, NO_REGISTRY)
        return self.registry

    # ------------------------------------------------------------------ routes

    async def put(self, request: web.Request) -> web.Response:
        caller, integration_id = self._allowed_caller(request)
        registry = self._writable()
        raw = await read_body(request)
        try:
            settings, tokens = decode_integration(raw)
        except BadIntegration as bad:
            raise Refusal(400, str(bad)) from None
        # Imported here: an intake without a registry never loads asyncpg.
        from payroll_sync.registry.store import InvalidId, MissingTokens

        try:
            stored, created = await self._db(registry.put(integration_id, settings, tokens))
        except (MissingTokens, InvalidId) as refused:
            raise Refusal(400, str(refused)) from None
        # This process sees it at once (a check or preview may follow); others within seconds.
        await self.catalog.refresh()
        log.info(
            "intake.integration_saved",
            integration=integration_id,
            caller=caller,
            created=created,
            version=stored.version,
        )
        return json_response(
            integration_view(stored),
            status=201 if created else 200,
            headers={"Location": f"{INTEGRATIONS_PATH}/{integration_id}"} if created else None,
        )

    async def get(self, request: web.Request) -> web.Response:
        _, integration_id = self._allowed_caller(request)
        view, settings = await self._view(integration_id)
        status = await self._db(self.status.one(integration_id, settings, now=self._now()))
        return json_response({**view, **status_view(status)})

    async def list_integrations(self, request: web.Request) -> web.Response:
        caller = request[CALLER] = self._caller(request)
        allowed = self.catalog.settings.intake.allowed(caller)
        found = await self._integrations()
        chosen = {
            name: settings
            for name, settings in sorted(found.items())
            if allowed is None or name in allowed
        }
        statuses = await self.status.many(chosen, now=self._now())
        return json_response(
            {
                "integrations": [
                    _summary(name, settings, statuses[name]) for name, settings in chosen.items()
                ],
                "count": len(chosen),
            }
        )

    async def delete(self, request: web.Request) -> web.Response:
        caller, integration_id = self._allowed_caller(request)
        registry = self._writable()
        if not await self._db(registry.delete(integration_id)):
            raise Refusal(404, f"unknown integration {integration_id!r}")
        await self.catalog.refresh()
        log.info("intake.integration_deleted", integration=integration_id, caller=caller)
        return web.Response(status=204)

    async def check(self, request: web.Request) -> web.Response:
        caller, integration_id = self._allowed_caller(request)
        settings, credentials = await self._live(integration_id)
        check = await check_connection(
            settings, credentials, session=self.session, now=self.clock()
        )
        if self.registry is not None:
            await self._db(self.registry.record_check(integration_id, check))
        log.info(
            "intake.integration_checked",
            integration=integration_id,
            caller=caller,
            simployer_ok=check.simployer.ok,
            payroll_ok=check.payroll.ok,
        )
        return json_response({"integration": integration_id, **(check_view(check) or {})})

    async def scope_preview(self, request: web.Request) -> web.Response:
        caller, integration_id = self._allowed_caller(request)
        settings, credentials = await self._live(integration_id)
        scope = scope_from_query(request.query, settings.scope)
        try:
            preview = await scope_preview(
                settings,
                credentials,
                session=self.session,
                today=oslo_today(self.clock()),
                scope=scope,
            )
        except SyncError as failed:
            # Simployer One refused us or did not answer: not the caller's fault.
            raise Refusal(502, failed.reason) from None
        log.info(
            "intake.scope_previewed",
            integration=integration_id,
            caller=caller,
            in_scope=preview.in_scope,
        )
        return json_response(
            {
                "integration": integration_id,
                "scope": msgspec.to_builtins(scope),
                **msgspec.to_builtins(preview),
            }
        )

    # ------------------------------------------------------------------ reading

    def _now(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.clock(), datetime.UTC)

    async def _view(self, integration_id: str) -> tuple[dict[str, Any], Integration]:
        """The integration as shown, and its settings; 404 when there is none."""
        if self.registry is not None:
            stored = await self._db(self.registry.get(integration_id))
            if stored is None:
                raise Refusal(404, f"unknown integration {integration_id!r}")
            return integration_view(stored), stored.settings
        settings = self.catalog.settings.integrations.get(integration_id)
        if settings is None:
            raise Refusal(404, f"unknown integration {integration_id!r}")
        try:
            self.catalog.credentials(integration_id)
            present = True
        except SyncError:
            present = False  # a token variable unset: said, never which value
        view = {
            "id": integration_id,
            "settings": settings_view(settings),
            "tokens": tokens_view(simployer=present, payroll=present),
            "source": "settings file",
        }
        return view, settings

    async def _integrations(self) -> dict[str, Integration]:
        return await self._db(integrations_of(self.registry, self.catalog))

    async def _live(self, integration_id: str) -> tuple[Integration, Credentials]:
        """Settings and tokens as in force now (a PUT a moment ago included)."""
        if self.registry is not None:
            # The catalog holds the decrypted tokens; it may not have polled since the last PUT.
            await self.catalog.refresh()
        current = self.catalog.current
        if integration_id not in current.settings.integrations:
            raise Refusal(404, f"unknown integration {integration_id!r}")
        try:
            return current.integration(integration_id), current.credentials(integration_id)
        except SyncError as missing:
            raise Refusal(409, missing.reason) from None


def _summary(name: str, settings: Integration, status: IntegrationStatus) -> dict[str, Any]:
    view = status_view(status)
    return {
        "id": name,
        "schedule_enabled": settings.schedule.enabled,
        "next_slot": view["next_slot"],
        "last_run": view["last_run"],
        "failures": view["failures"],
    }


def scope_from_query(query: Mapping[str, str], stored: Scope) -> Scope:
    """The stored scope with each field the query names replaced by its comma-separated list
    (`?exclude=12,40`; an empty value empties it); 400 naming the parameter when it is wrong."""
    unknown = sorted(set(query) - set(SCOPE_PARAMETERS))
    if unknown:
        raise Refusal(
            400,
            f"{unknown[0]}: unknown query parameter (allowed: {', '.join(SCOPE_PARAMETERS)})",
        )
    fields: dict[str, Any] = msgspec.to_builtins(stored)
    for name in SCOPE_PARAMETERS:
        if name in query:
            text = query[name].strip()
            fields[name] = [item.strip() for item in text.split(",")] if text else []
    try:
        return msgspec.convert(fields, Scope)
    except msgspec.ValidationError as error:
        raise Refusal(400, reword(str(error), SCHEMA_WORDING)) from None


def add_integration_routes(
    app: web.Application,
    *,
    caller: Callable[[web.Request], str],
    catalog: LiveCatalog,
    registry: IntegrationRegistry | None,
    store: RunStore,
) -> IntegrationsApi:
    """Serve the wizard's API on `app` (the intake's: its middleware answers the refusals)."""
    api = IntegrationsApi(caller=caller, catalog=catalog, registry=registry, store=store)
    app.cleanup_ctx.append(api.session_context)
    one = INTEGRATIONS_PATH + "/{integration_id}"
    app.router.add_get(INTEGRATIONS_PATH, api.list_integrations)
    app.router.add_put(one, api.put)
    app.router.add_get(one, api.get)
    app.router.add_delete(one, api.delete)
    app.router.add_post(one + "/check", api.check)
    app.router.add_get(one + "/scope-preview", api.scope_preview)
    return api

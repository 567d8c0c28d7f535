"""The drift report on the intake (docs/drift.md):

- `GET /api/v1/integrations/{id}/drift`  the report of the integration's latest employee dry
  run: per field, the employees whose 24SevenOffice value someone changed since our last write
  (values masked), with counts, the run's id and when it ran
- `POST /api/v1/integrations/{id}/drift`  start an employee dry run now (202 with its run id;
  joined to one already waiting, as sync requests are); GET the report when it is done

The same bearer-token callers as the other integration routes, and `[intake.allow]` applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
import structlog
from aiohttp import web

from payroll_sync.catalog import LiveCatalog
from payroll_sync.intake.refusals import CALLER, Refusal, integration_asked, json_response
from payroll_sync.producer.enrol import Expansion
from payroll_sync.runs.drift import read_drift_report
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncRequest

log = structlog.get_logger("payroll_sync.intake")

DRIFT_PATH: Final = "/api/v1/integrations/{integration_id}/drift"


class DriftApi:
    def __init__(
        self,
        *,
        caller: Callable[[web.Request], str],
        catalog: LiveCatalog,
        store: RunStore,
        submit: Callable[[SyncRequest], Awaitable[Expansion]],
    ) -> None:
        self._caller = caller
        self.catalog = catalog
        self.store = store
        # The intake's submit: one lane per integration, its refusals answered alike.
        self._submit = submit

    async def _integration(self, request: web.Request) -> tuple[str, str]:
        """(caller, integration id) of a request about an integration in force, or refused."""
        caller = request[CALLER] = self._caller(request)
        integration_id = integration_asked(
            request, caller, self.catalog.settings.intake, doing="read"
        )
        await self.catalog.ensure(integration_id)
        if integration_id not in self.catalog.settings.integrations:
            raise Refusal(404, f"unknown integration {integration_id!r}")
        return caller, integration_id

    async def get(self, request: web.Request) -> web.Response:
        _, integration_id = await self._integration(request)
        report = await read_drift_report(self.store, integration_id)
        return json_response(msgspec.to_builtins(report))

    async def post(self, request: web.Request) -> web.Response:
        caller, integration_id = await self._integration(request)
        sync = SyncRequest(integration=integration_id, kind="employees", dry_run=True)
        expansion = await self._submit(sync)
        log.info(
            "intake.drift_check_started",
            caller=caller,
            integration=integration_id,
            run_id=expansion.run_id,
            joined=expansion.joined,
        )
        return json_response(
            {"run_id": expansion.run_id, "joined": expansion.joined},
            status=202,
            headers={"Location": f"/api/v1/runs/{expansion.run_id}"},
        )


def add_drift_routes(
    app: web.Application,
    *,
    caller: Callable[[web.Request], str],
    catalog: LiveCatalog,
    store: RunStore,
    submit: Callable[[SyncRequest], Awaitable[Expansion]],
) -> None:
    api = DriftApi(caller=caller, catalog=catalog, store=store, submit=submit)
    app.router.add_get(DRIFT_PATH, api.get)
    app.router.add_post(DRIFT_PATH, api.post)

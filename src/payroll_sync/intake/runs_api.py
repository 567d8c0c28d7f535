"""The mass-change brake on the intake's JSON API: approve or cancel a held run.

- `POST /api/v1/runs/{run_id}/approve`  release a run in `awaiting_approval`: its records go to
  the workers -> 200 with the brake summary (`runs.brake_view.brake_json`)
- `POST /api/v1/runs/{run_id}/cancel`   end it without writing (status `cancelled`) -> 200 with
  the summary

Callers authenticate as on every intake route, and may decide only runs of the integrations
they may ask for (another integration's run is "unknown", as `GET /api/v1/runs/{run_id}`
answers). A run that is not awaiting approval is refused with 409 naming its status. The
decision is recorded as made by "api:<caller>".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Final

import structlog
from aiohttp import web

from payroll_sync.errors import RequestRefused
from payroll_sync.intake.refusals import CALLER, Refusal, json_response
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.brake_view import brake_json, brake_view
from payroll_sync.schemas.brake import BrakeSummary

log = structlog.get_logger("payroll_sync.intake")

#: Run ids are letters, digits and dashes: anything else is simply not a run.
_RUN_ID: Final = re.compile(r"[0-9A-Za-z_-]{1,64}")
UNKNOWN_RUN: Final = "unknown run (or expired)"

Decide = Callable[[str, str], Awaitable[BrakeSummary]]


class RunsApi:
    """The handlers, with what they need: who the caller is, and may they see the run."""

    def __init__(
        self,
        *,
        producer: Producer,
        caller: Callable[[web.Request], str],
        may_ask: Callable[[str, str], bool],
    ) -> None:
        self.producer = producer
        self.store = producer.store
        self.caller = caller
        self.may_ask = may_ask

    async def approve(self, request: web.Request) -> web.Response:
        return await self._decide(request, lambda run_id, by: self.producer.approve(run_id, by=by))

    async def cancel(self, request: web.Request) -> web.Response:
        return await self._decide(request, lambda run_id, by: self.producer.cancel(run_id, by=by))

    async def _decide(self, request: web.Request, decide: Decide) -> web.Response:
        caller = request[CALLER] = self.caller(request)
        run_id = request.match_info["run_id"]
        run = await self.store.get_run(run_id) if _RUN_ID.fullmatch(run_id) else None
        if run is None or not self.may_ask(caller, run.integration):
            raise Refusal(404, UNKNOWN_RUN)
        try:
            summary = await decide(run_id, f"api:{caller}")
        except RequestRefused as refused:
            raise Refusal(409, str(refused)) from None
        # The run as the decision left it (no longer awaiting approval).
        decided = await self.store.get_run(run_id) or run
        return json_response(brake_json(brake_view(summary, decided)))


def add_runs_routes(
    app: web.Application,
    *,
    runs_path: str,
    producer: Producer,
    caller: Callable[[web.Request], str],
    may_ask: Callable[[str, str], bool],
) -> RunsApi:
    """Serve approve and cancel on `app` (the intake's: its middleware answers refusals)."""
    api = RunsApi(producer=producer, caller=caller, may_ask=may_ask)
    one = runs_path + "/{run_id}"
    app.router.add_post(one + "/approve", api.approve)
    app.router.add_post(one + "/cancel", api.cancel)
    return api

"""Run one employee task with the worker's clients and run store."""

from __future__ import annotations

from payroll_sync.errors import ConfigError
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_employee import sync_employee


class StoreLinks:
    """The employment links of one integration, kept in the run store."""

    def __init__(self, ctx: WorkerContext, integration: str) -> None:
        self._ctx = ctx
        self._integration = integration

    async def get(self, emp_id: int) -> str | None:
        return await self._ctx.store.employment_link(self._integration, emp_id)

    async def set(self, emp_id: int, employment_id: str) -> None:
        await self._ctx.store.set_employment_link(self._integration, emp_id, employment_id)


async def run_employee_task(task: EmployeeTask, ctx: WorkerContext) -> SyncResult:
    try:
        clients = ctx.clients(task.integration)
    except ConfigError as error:
        return SyncResult(outcome="failed", reason=error.reason)
    snapshot = (
        None if task.refetch else await ctx.store.snapshot(task.run_id, task.key, EmployeeSnapshot)
    )
    return await sync_employee(
        task,
        snapshot=snapshot,
        hr=clients.simployer,
        payroll_api=clients.payroll,
        links=StoreLinks(ctx, task.integration),
    )

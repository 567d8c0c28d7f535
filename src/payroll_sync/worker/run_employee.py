"""Run one employee task with the worker's clients and run store."""

from __future__ import annotations

from payroll_sync.errors import ConfigError
from payroll_sync.runs.store import Begun, decode_snapshot
from payroll_sync.schemas.messages import EmployeeTask
from payroll_sync.schemas.snapshots import EmployeeSnapshot
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.links import EmploymentLinks
from payroll_sync.worker.persons import PersonIndex
from payroll_sync.worker.result import SyncResult
from payroll_sync.worker.sync_employee import sync_employee
from payroll_sync.worker.written import RememberedWrites


async def run_employee_task(task: EmployeeTask, ctx: WorkerContext, begun: Begun) -> SyncResult:
    """`begun`: what taking the task up read (its snapshot unless it refetches, its link and
    whether anything we wrote to that empId is remembered)."""
    try:
        clients = ctx.clients(task.integration)
    except ConfigError as error:
        return SyncResult(outcome="failed", reason=error.reason)
    snapshot = None if task.refetch else decode_snapshot(begun.snapshot, EmployeeSnapshot)
    return await sync_employee(
        task,
        snapshot=snapshot,
        hr=clients.simployer,
        payroll_api=clients.payroll,
        links=EmploymentLinks(ctx.redis, ctx.keys, task.integration, known=begun.links),
        persons=PersonIndex(ctx.redis, ctx.keys, task.integration, clients.payroll),
        written=RememberedWrites(
            ctx.written,
            task.integration,
            # Read with the record (its link's empId), when it was.
            known={field: begun.remembered for field in begun.links}
            if begun.remembered is not None
            else None,
        ),
        limits=ctx.settings.limits,
    )

"""Run one absence task with the worker's clients and store (filled in by the absence sync)."""

from __future__ import annotations

from payroll_sync.schemas.messages import AbsenceTask
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.result import SyncResult


async def run_absence_task(task: AbsenceTask, ctx: WorkerContext) -> SyncResult:
    raise NotImplementedError("absence sync: in progress")

"""The drift report of one integration, read from the run store (`rules.drift` makes it).

Shared by the intake's JSON API and the dashboard's page, so both say the same.
"""

from __future__ import annotations

from payroll_sync.rules.drift import DriftReport, drift_report, readable
from payroll_sync.runs.store import RunStore


async def read_drift_report(store: RunStore, integration: str) -> DriftReport:
    """From `integration`'s latest employee run: its drift when it is a finished dry run."""
    run = await store.last_run(integration, "employees")
    outcomes = await store.outcomes(run.id) if run is not None and readable(run) else []
    return drift_report(integration, run, outcomes)

"""A worker drops, unrun, a message of a run the mass-change brake holds (or that was
cancelled): the record stays pending and nothing is written until an operator approves."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.result import SyncResult
from tests.unit.test_process_task import (  # noqa: F401 (fixtures)
    T0,
    SendAgain,
    _process,
    _start_run,
    _stub,
    ctx,
    send_again,
)


@pytest.mark.parametrize("decision", ["held", "cancelled"])
async def test_a_message_of_a_held_run_is_dropped_and_the_record_stays_pending(
    ctx: WorkerContext,  # noqa: F811
    send_again: SendAgain,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    decision: str,
) -> None:
    task = await _start_run(ctx)
    seen = _stub(monkeypatch, SyncResult(outcome="updated", changed=["account"]))
    assert await ctx.store.hold(task.run_id, now=T0) == ("queued", True)
    if decision == "cancelled":
        await ctx.store.transition(
            task.run_id, allowed=["awaiting_approval"], to="cancelled", now=T0, finish=True
        )

    with capture_logs() as logs:
        outcome = await _process(task, ctx, send_again)

    assert outcome is None
    assert seen == []
    assert send_again.sent == []
    assert await ctx.store.pending(task.run_id) == [task.employee_number]
    assert [entry["event"] for entry in logs] == ["record.held"]

    if decision == "held":
        # Approved: the same message now runs.
        await ctx.store.transition(task.run_id, allowed=["awaiting_approval"], to="resume", now=T0)
        recorded = await _process(task, ctx, send_again)
        assert recorded is not None
        assert recorded.outcome == "updated"
        assert len(seen) == 1

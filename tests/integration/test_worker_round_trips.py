"""What one record costs the worker in Redis round trips: a real in-process Dramatiq worker,
the real Redis, both simulators over HTTP. Counted on the worker's own client (the producer and
the broker have theirs), so the count is the worker's per-record work and nothing else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.simulators.serve import RunningSimulators
from tests.support.stack import INTEGRATION, sync_stack

pytestmark = pytest.mark.integration


async def test_an_unchanged_employee_costs_the_worker_three_redis_round_trips(
    sims: RunningSimulators, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Begin (with the snapshot and the employment link it reads), the rate limiter's slot
    before the one payroll read, and the outcome: 3, where separate reads made 5."""
    async with sync_stack(sims) as stack:
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION))
        created = sorted(item.employee_number for item in outcomes if item.outcome == "created")
        assert len(created) > 10
        # Imported only now (importing it sets up a broker unless one is): the context the
        # in-process worker uses, which local_stack made.
        from payroll_sync.worker import actors

        context = actors._context
        assert context is not None
        sent: Counter[str] = Counter()
        execute: Callable[..., Awaitable[Any]] = context.redis.execute_command

        async def counting(*args: Any, **options: Any) -> Any:
            sent[str(args[0])] += 1
            return await execute(*args, **options)

        monkeypatch.setattr(context.redis, "execute_command", counting)
        _, outcomes = await stack.sync(SyncRequest(integration=INTEGRATION, employees=created))
    assert Counter(item.outcome for item in outcomes) == {"unchanged": len(created)}
    # And once per run, not per record: the run read by the worker that finished it, for the
    # run duration metric (worker/process_task.py).
    assert sent == {"EVALSHA": 3 * len(created), "HGETALL": 1}

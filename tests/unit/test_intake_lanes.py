"""Lanes: one submit at a time per integration and kind; identical waiting requests share one,
and never one that has already begun reading."""

from __future__ import annotations

import asyncio
from typing import Final

import pytest

from payroll_sync.errors import RequestRefused
from payroll_sync.intake.lanes import Lanes
from payroll_sync.producer.enrol import Expansion
from payroll_sync.schemas.messages import SyncRequest

ONE: Final = SyncRequest(integration="acme", trigger="upstream", employees=["12"])
OTHER: Final = SyncRequest(integration="acme", trigger="upstream", employees=["40"])
ELSEWHERE: Final = SyncRequest(integration="globex", trigger="upstream", employees=["12"])


class HeldSubmit:
    """Each call waits until released; records what ran and how many ran at once."""

    def __init__(self) -> None:
        self.calls: list[SyncRequest] = []
        self.called = asyncio.Condition()
        self.release: list[asyncio.Event] = []
        self.running = 0
        self.most_at_once = 0
        self.error: Exception | None = None

    async def __call__(self, request: SyncRequest) -> Expansion:
        self.calls.append(request)
        gate = asyncio.Event()
        self.release.append(gate)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        async with self.called:
            self.called.notify_all()
        try:
            await gate.wait()
        finally:
            self.running -= 1
        if self.error is not None:
            raise self.error
        number = len(self.calls)
        return Expansion(run_id=f"run-{number}", joined=False, in_scope=1, enqueued=1)

    async def wait_calls(self, count: int) -> None:
        async with self.called:
            await self.called.wait_for(lambda: len(self.calls) >= count)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_identical_requests_arriving_during_a_submit_share_the_next_one() -> None:
    submit = HeldSubmit()
    lanes = Lanes(submit)
    first = asyncio.create_task(lanes.submit(ONE))
    await submit.wait_calls(1)
    # These arrive after the first submit began reading: they may not ride on it.
    later = [asyncio.create_task(lanes.submit(ONE)) for _ in range(49)]
    await _settle()
    assert len(submit.calls) == 1
    submit.release[0].set()
    assert (await first).run_id == "run-1"
    await submit.wait_calls(2)
    submit.release[1].set()
    answers = await asyncio.gather(*later)
    assert len(submit.calls) == 2
    # One of them started the second submit; the others rode along.
    assert sorted((a.run_id, a.joined, a.enqueued) for a in answers) == [
        ("run-2", False, 1),
        *[("run-2", True, 0)] * 48,
    ]
    assert lanes.busy() == 0


async def test_one_lane_runs_one_submit_at_a_time_lanes_run_side_by_side() -> None:
    submit = HeldSubmit()
    lanes = Lanes(submit)
    tasks = [asyncio.create_task(lanes.submit(r)) for r in (ONE, OTHER, ELSEWHERE)]
    await submit.wait_calls(2)
    await _settle()
    # acme's second request waits for the first; globex's runs beside it.
    assert [r.integration for r in submit.calls] == ["acme", "globex"]
    assert submit.most_at_once == 2
    for gate in submit.release:
        gate.set()
    await submit.wait_calls(3)
    assert submit.calls[2] == OTHER
    submit.release[2].set()
    await asyncio.gather(*tasks)
    assert lanes.busy() == 0


async def test_a_refusal_reaches_every_request_that_rode_along() -> None:
    submit = HeldSubmit()
    lanes = Lanes(submit)
    first = asyncio.create_task(lanes.submit(OTHER))
    await submit.wait_calls(1)
    riders = [asyncio.create_task(lanes.submit(ONE)) for _ in range(3)]
    await _settle()
    submit.release[0].set()
    await first
    await submit.wait_calls(2)
    submit.error = RequestRefused("employees: not found in Simployer One: 12")
    submit.release[1].set()
    results = await asyncio.gather(*riders, return_exceptions=True)
    assert [str(r) for r in results] == ["employees: not found in Simployer One: 12"] * 3
    # The lane is free again afterwards.
    submit.error = None
    again = asyncio.create_task(lanes.submit(ONE))
    await submit.wait_calls(3)
    submit.release[2].set()
    assert (await again).run_id == "run-3"


async def test_a_caller_that_hangs_up_cancels_nobody_elses_request() -> None:
    submit = HeldSubmit()
    lanes = Lanes(submit)
    leader = asyncio.create_task(lanes.submit(ONE))
    rider = asyncio.create_task(lanes.submit(ONE))
    await submit.wait_calls(1)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    submit.release[0].set()
    assert (await rider).run_id == "run-1"
    assert len(submit.calls) == 1
    assert lanes.busy() == 0


async def test_a_submit_nobody_waits_for_any_more_still_finishes() -> None:
    submit = HeldSubmit()
    lanes = Lanes(submit)
    caller = asyncio.create_task(lanes.submit(ONE))
    await submit.wait_calls(1)
    caller.cancel()
    submit.error = RuntimeError("source failed")
    submit.release[0].set()
    await _settle()
    assert lanes.busy() == 0

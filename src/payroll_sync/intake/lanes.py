"""One submit at a time per integration and kind; identical requests that wait share one.

Every submit starts with the producer's bulk read of the whole company (several Simployer One
requests). A burst of upstream events fired as concurrent submits overruns Simployer One's rate
limit and every one of them fails (measured: 50 of 50 answered 503). So each lane
(integration, kind) runs one submit at a time, and a request identical to one already waiting
for the lane rides along with it instead of queueing its own. A request is never folded into a
submit that has already begun reading: its reads could predate the change it announces.

Each submit runs in a task of its own, so a caller that hangs up cancels neither the submit
nor the requests riding along with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec

from payroll_sync.producer.enrol import Expansion
from payroll_sync.schemas.messages import SyncRequest

SubmitOne = Callable[[SyncRequest], Awaitable[Expansion]]
LaneKey = tuple[str, str]


@dataclass
class _Lane:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Request JSON -> the submit that waits for the lane (not yet reading).
    waiting: dict[bytes, asyncio.Task[Expansion]] = field(default_factory=dict)


class Lanes:
    """Serialises submits per (integration, kind) within this process."""

    def __init__(self, submit_one: SubmitOne) -> None:
        self._submit_one = submit_one
        self._lanes: dict[LaneKey, _Lane] = {}
        # Strong references: the event loop keeps only weak ones to tasks.
        self._flights: set[asyncio.Task[Expansion]] = set()

    async def submit(self, request: SyncRequest) -> Expansion:
        """The request's expansion. One that rode along with an identical request gets the
        shared run, `joined=True` and `enqueued=0` (it queued nothing of its own)."""
        key = (request.integration, request.kind)
        body = msgspec.json.encode(request)
        lane = self._lanes.setdefault(key, _Lane())
        flight = lane.waiting.get(body)
        rode = flight is not None
        if flight is None:
            flight = asyncio.create_task(self._fly(key, lane, body, request))
            lane.waiting[body] = flight
            self._flights.add(flight)
            flight.add_done_callback(self._landed)
        expansion = await asyncio.shield(flight)
        return msgspec.structs.replace(expansion, joined=True, enqueued=0) if rode else expansion

    def busy(self) -> int:
        """Submits running or waiting (for tests and shutdown)."""
        return len(self._flights)

    async def _fly(self, key: LaneKey, lane: _Lane, body: bytes, request: SyncRequest) -> Expansion:
        me = asyncio.current_task()
        try:
            async with lane.lock:
                # Reading starts now: later identical requests need a submit of their own.
                _forget(lane, body, me)
                return await self._submit_one(request)
        finally:
            _forget(lane, body, me)
            if not lane.waiting and not lane.lock.locked() and self._lanes.get(key) is lane:
                del self._lanes[key]

    def _landed(self, flight: asyncio.Task[Expansion]) -> None:
        self._flights.discard(flight)
        # Everyone who waited for it may have hung up: its error must not be reported unseen.
        if not flight.cancelled():
            flight.exception()


def _forget(lane: _Lane, body: bytes, flight: asyncio.Task[object] | None) -> None:
    # Only this flight's entry: an identical request may already wait with a flight of its own.
    if lane.waiting.get(body) is flight:
        del lane.waiting[body]

"""Incidents in Redis: one opening and one recovery per incident, each queued once, and a
queued call taken by one sender only. On fakeredis and on the real Redis (conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from payroll_sync.alerts.store import IncidentStore
from payroll_sync.runs.store import delete_keys
from tests.support.keys import unique_prefix


@pytest.fixture
async def incidents(redis: aioredis.Redis) -> AsyncIterator[IncidentStore]:
    prefix = unique_prefix("unit-alerts")
    yield IncidentStore(redis, prefix=prefix)
    await delete_keys(redis, f"{prefix}:*")
    assert await redis.keys(f"{prefix}:*") == []


async def test_an_incident_opens_once_and_resolves_once(incidents: IncidentStore) -> None:
    first = await incidents.open("acme", "failing", now=100.0, detail="5 of 5 records failed")
    assert first is not None
    assert await incidents.open("acme", "failing", now=160.0, detail="again") is None
    assert [i.id for i in await incidents.open_incidents()] == [first.id]
    # Another condition, another integration: their own incidents.
    assert await incidents.open("acme", "stale", now=170.0, detail="x") is not None
    assert await incidents.open("other", "failing", now=170.0, detail="x") is not None

    resolved = await incidents.resolve("acme", "failing", now=200.0, detail="0 of 5 failed")
    assert resolved is not None
    assert (resolved.id, resolved.resolved_at, resolved.resolved_detail) == (
        first.id,
        200.0,
        "0 of 5 failed",
    )
    assert await incidents.resolve("acme", "failing", now=260.0) is None
    assert [i.id for i in await incidents.recently_resolved(since=0)] == [first.id]
    # Opening again is a new incident.
    again = await incidents.open("acme", "failing", now=300.0, detail="x")
    assert again is not None
    assert again.id != first.id

    queued = [(n.incident.id, n.event) for n in await incidents.pending()]
    assert queued.count((first.id, "open")) == 1
    assert queued.count((first.id, "resolve")) == 1
    assert queued.index((first.id, "open")) < queued.index((first.id, "resolve"))
    assert len(queued) == 5


async def test_many_evaluators_at_once_open_one_incident(incidents: IncidentStore) -> None:
    opened = await asyncio.gather(
        *(incidents.open("acme", "failing", now=100.0 + n, detail="x") for n in range(20))
    )
    assert len([item for item in opened if item is not None]) == 1
    resolved = await asyncio.gather(
        *(incidents.resolve("acme", "failing", now=200.0 + n) for n in range(20))
    )
    assert len([item for item in resolved if item is not None]) == 1
    assert len(await incidents.pending()) == 2


async def test_a_queued_call_is_taken_by_one_sender_and_never_again_once_sent(
    incidents: IncidentStore,
) -> None:
    await incidents.open("acme", "failing", now=100.0, detail="x")
    [notification] = await incidents.pending()
    assert await incidents.take(notification)
    assert not await incidents.take(notification)  # another process meanwhile
    await incidents.release(notification)  # the POST failed: the next pass tries again
    assert [n.entry for n in await incidents.pending()] == [notification.entry]
    assert await incidents.take(notification)
    await incidents.sent(notification)
    assert await incidents.pending() == []
    # A process that read the outbox before it was sent cannot take it now.
    assert not await incidents.take(notification)


async def test_references_move_and_are_forgotten(incidents: IncidentStore) -> None:
    await incidents.save_references({"acme": 10.0, "other": 20.0}, [])
    await incidents.save_references({"acme": 15.0}, ["other"])
    assert await incidents.references() == {"acme": 15.0}

"""Send many tasks to Dramatiq's Redis broker in one round trip (a pipeline), not one each.

`RedisBroker.enqueue` runs its `dispatch` script once per message and waits for the answer: for
100,000 employees that is 100,000 round trips. Here the same script calls, with the arguments
`RedisBroker._dispatch` gives them (dramatiq 2.x, brokers/redis.py), go in one pipeline per
chunk; middleware hears `before_enqueue`/`after_enqueue` as with `enqueue`. Any other broker
(the demo's StubBroker) gets its messages one by one through its own `enqueue`.

Written here rather than in queue/send.py, which the dispatcher that paces tasks per integration
replaces; the producer passes `enqueue_pipelined` as its `enqueue` until then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from uuid import uuid4

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.send import task_message
from payroll_sync.schemas.messages import Task


def send_pipelined(broker: dramatiq.Broker, messages: Sequence[dramatiq.Message[None]]) -> None:
    """Enqueue `messages` (no delay) in one round trip to a Redis broker."""
    if not isinstance(broker, RedisBroker):
        for message in messages:
            broker.enqueue(message)
        return
    dispatch = broker.scripts["dispatch"]
    sent = []
    with broker.client.pipeline(transaction=False) as pipe:
        for original in messages:
            # A unique id in Redis per enqueued copy, as `RedisBroker.enqueue` gives it.
            message = original.copy(options={"redis_message_id": str(uuid4())})
            broker.emit_before("enqueue", message, None)
            args = [
                "enqueue",
                current_millis(),
                message.queue_name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                broker._should_do_maintenance("enqueue"),
                broker._max_unpack_size(),  # type: ignore[no-untyped-call]
                message.options["redis_message_id"],
                message.encode(),
            ]
            dispatch(args=args, keys=[broker.namespace], client=pipe)
            sent.append(message)
        pipe.execute()
    for message in sent:
        broker.emit_after("enqueue", message, None)


async def enqueue_pipelined(tasks: Sequence[Task]) -> None:
    """`queue.send.enqueue_tasks`, pipelined: off the event loop, one round trip per call."""
    if not tasks:
        return
    messages = [task_message(task) for task in tasks]
    await asyncio.to_thread(send_pipelined, broker_setup.current(), messages)

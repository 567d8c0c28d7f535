"""Send messages to the worker's actors by name, so nothing that sends imports the worker.

Each message carries one msgspec-encoded body (a task or a sync request) as its only argument.
The actor names here are the ones `worker/actors.py` registers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final
from uuid import uuid4

import dramatiq
import msgspec
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.pacing import Pacer
from payroll_sync.schemas.messages import (
    AbsenceTask,
    EmployeeTask,
    SyncRequest,
    Task,
    encode_request,
    encode_task,
)

EMPLOYEE_ACTOR: Final = "sync_employee_task"
ABSENCE_ACTOR: Final = "sync_absence_task"
REQUEST_ACTOR: Final = "submit_sync_request"


def task_message(task: Task) -> dramatiq.Message[None]:
    match task:
        case EmployeeTask():
            queue, actor = broker_setup.EMPLOYEE_QUEUE, EMPLOYEE_ACTOR
        case AbsenceTask():
            queue, actor = broker_setup.ABSENCE_QUEUE, ABSENCE_ACTOR
    return dramatiq.Message(
        queue_name=queue, actor_name=actor, args=(encode_task(task),), kwargs={}, options={}
    )


def send_task(task: Task, *, delay_seconds: float = 0.0) -> None:
    """Queue one task (synchronous, like Dramatiq's broker client)."""
    delay = int(delay_seconds * 1000) if delay_seconds > 0 else None
    broker_setup.current().enqueue(task_message(task), delay=delay)


def _paced_message(task: Task) -> tuple[Task, str, str, str]:
    """What the pacer keeps of a task: the message the broker's enqueue would have written."""
    message = task_message(msgspec.structs.replace(task, paced=True))
    message_id = str(uuid4())  # as RedisBroker.enqueue: unique per enqueued copy
    encoded = message.copy(options={"redis_message_id": message_id}).encode()
    return task, message.queue_name, message_id, encoded.decode()


def pace_or_send(tasks: Sequence[Task]) -> None:
    """Hand tasks to the pacer (queue/pacing.py), or queue them at once without a Redis broker."""
    broker = broker_setup.current()
    if isinstance(broker, RedisBroker):
        Pacer(broker).pend(_paced_message(task) for task in tasks)
        return
    for task in tasks:
        broker.enqueue(task_message(task))


async def enqueue_tasks(tasks: Sequence[Task]) -> None:
    """Send a run's tasks towards the workers, each integration at its own pace; off the event
    loop (the broker's Redis client is synchronous)."""
    await asyncio.to_thread(pace_or_send, tasks)


async def send_again(task: Task, delay_seconds: float) -> None:
    """Queue a retry or a deferral of `task` after `delay_seconds`."""
    await asyncio.to_thread(send_task, task, delay_seconds=max(0.0, delay_seconds))


def publish_sync_request(request: SyncRequest) -> str:
    """Put a request on the `requests` queue; the Dramatiq message id. Synchronous, like
    Dramatiq's broker client (from async code: `await asyncio.to_thread(...)`)."""
    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=broker_setup.REQUEST_QUEUE,
        actor_name=REQUEST_ACTOR,
        args=(encode_request(request),),
        kwargs={},
        options={},
    )
    return str(broker_setup.current().enqueue(message).message_id)

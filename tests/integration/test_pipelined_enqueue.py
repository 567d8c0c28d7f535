"""`producer.pipelined`: tasks sent in one pipeline reach Dramatiq's Redis broker as
`RedisBroker.enqueue` would put them there: a consumer of the queue gets each once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from payroll_sync.producer.pipelined import send_pipelined
from payroll_sync.queue import broker as broker_setup
from payroll_sync.queue.send import task_message
from payroll_sync.schemas.messages import EmployeeTask, decode_task
from payroll_sync.schemas.settings import Worker
from tests.support.keys import REDIS_URL, unique_prefix


@pytest.fixture
def broker() -> Iterator[RedisBroker]:
    prefix = unique_prefix("pipelined")
    made = broker_setup.redis_broker(REDIS_URL, prefix=prefix, policy=Worker())
    made.declare_queue(broker_setup.EMPLOYEE_QUEUE)
    yield made
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{broker_setup.broker_namespace(prefix)}*"):
        client.delete(key)
    client.close()
    made.close()


def test_pipelined_tasks_are_consumed_once_each(broker: RedisBroker) -> None:
    tasks = [
        EmployeeTask(run_id="r1", integration="acme", employee_number=str(n), employee_id=f"e{n}")
        for n in range(1, 251)
    ]
    send_pipelined(broker, [task_message(task) for task in tasks])

    consumer = broker.consume(broker_setup.EMPLOYEE_QUEUE, prefetch=300, timeout=200)
    received = []
    for message in consumer:
        if message is None:
            break
        received.append(decode_task(message.args[0], "employees"))
        consumer.ack(message)
    consumer.close()
    assert sorted(received, key=lambda task: int(task.key)) == tasks

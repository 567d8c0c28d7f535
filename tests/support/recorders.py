"""Fakes of an enqueue: they keep the tasks they are given instead of sending them to a queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar, cast, overload

from payroll_sync.schemas.messages import Task, TaskBase

T = TypeVar("T", bound=TaskBase)


class Recorder(Generic[T]):
    """An enqueue that keeps what it was given, one list per call.

    `Recorder(EmployeeTask)` types its tasks for a producer that can only send that kind (and
    fails the test if it sends another); `Recorder()` takes either kind.
    """

    @overload
    def __init__(self: Recorder[Task]) -> None: ...

    @overload
    def __init__(self, kind: type[T]) -> None: ...

    def __init__(self, kind: type[T] | None = None) -> None:
        self.kind = kind
        self.calls: list[list[T]] = []

    async def __call__(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            assert self.kind is None or isinstance(task, self.kind), task
        self.calls.append(cast(list[T], list(tasks)))

    @property
    def tasks(self) -> list[T]:
        """Every task of every call, in order."""
        return [task for call in self.calls for task in call]

    @property
    def keys(self) -> list[str]:
        """The tasks' keys (employee number or leave id), sorted."""
        return sorted(task.key for task in self.tasks)

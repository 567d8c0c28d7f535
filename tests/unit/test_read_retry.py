"""`connectors.retrying.retried`: one request tried again on a transient fault, with backoff,
a 429 waiting its Retry-After without counting as a failure, until a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from payroll_sync.connectors.retrying import RATE_LIMITED_DEFAULT_WAIT, ReadRetry, retried
from payroll_sync.errors import Permanent, RateLimited, Retryable


class Clock:
    """A fake clock that `sleep` moves on: no test waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def failing(*errors: Exception) -> tuple[list[int], Callable[[], Awaitable[str]]]:
    """A call that raises `errors` in turn, then answers "ok"; and its call count."""
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return "ok"

    return calls, call


POLICY = ReadRetry(first_delay=1.0, max_delay=8.0, give_up_after=100.0)


async def test_a_transient_fault_is_retried_with_growing_waits() -> None:
    clock = Clock()
    calls, call = failing(*(Retryable("503") for _ in range(5)))
    assert await retried(call, POLICY, sleep=clock.sleep, clock=clock) == "ok"
    assert calls == [6]
    # Doubling from 1 s, capped at 8 s, each jittered to half..all of it.
    for wait, ceiling in zip(clock.sleeps, [1, 2, 4, 8, 8], strict=True):
        assert ceiling / 2 <= wait <= ceiling


async def test_a_429_waits_its_retry_after_and_is_not_a_failure() -> None:
    clock = Clock()
    heard: list[tuple[str, int, float]] = []

    async def on_retry(error: Retryable, attempt: int, wait: float) -> None:
        heard.append((type(error).__name__, attempt, wait))

    errors = [RateLimited("429", delay=3.0), RateLimited("429"), Retryable("503")]
    _, call = failing(*errors)
    await retried(call, POLICY, sleep=clock.sleep, clock=clock, on_retry=on_retry)
    assert clock.sleeps[:2] == [3.0, RATE_LIMITED_DEFAULT_WAIT]
    # The 503 after two 429s is the first failure: the first backoff step, not the third.
    assert 0.5 <= clock.sleeps[2] <= 1.0
    assert [(name, attempt) for name, attempt, _ in heard] == [
        ("RateLimited", 1),
        ("RateLimited", 2),
        ("Retryable", 3),
    ]


async def test_the_server_s_retry_after_on_a_503_is_honoured() -> None:
    clock = Clock()
    _, call = failing(Retryable("503", delay=7.0))
    await retried(call, POLICY, sleep=clock.sleep, clock=clock)
    assert clock.sleeps == [7.0]


async def test_it_gives_up_with_the_last_error_after_the_deadline() -> None:
    clock = Clock()
    _, call = failing(*(Retryable(f"503 #{n}") for n in range(1000)))
    with pytest.raises(Retryable) as gave_up:
        await retried(call, POLICY, sleep=clock.sleep, clock=clock)
    assert clock.now <= POLICY.give_up_after
    assert gave_up.value.reason == f"503 #{len(clock.sleeps)}"


async def test_a_permanent_error_is_not_retried() -> None:
    clock = Clock()
    calls, call = failing(Permanent("400"))
    with pytest.raises(Permanent):
        await retried(call, POLICY, sleep=clock.sleep, clock=clock)
    assert calls == [1]
    assert clock.sleeps == []

"""`retry_delay`: backoff, cap, jitter, Retry-After and when to give up, by tables."""

from __future__ import annotations

from typing import Final

import pytest

from payroll_sync.schemas.settings import Worker
from payroll_sync.worker.verdict import retry_delay

# Powers of two, so every expected delay below is exact in floating point.
POLICY: Final = Worker(first_retry_seconds=2.0, max_retry_delay_seconds=64.0, retry_for_hours=1.0)
WINDOW: Final = 3600.0  # retry_for_hours in seconds
T0: Final = 1_700_000_000.0


def _delay(
    attempt: int,
    *,
    jitter: float = 0.0,
    server_delay: float | None = None,
    now: float = T0,
    policy: Worker = POLICY,
) -> float | None:
    return retry_delay(
        attempt=attempt,
        first_attempt_at=T0,
        now=now,
        server_delay=server_delay,
        policy=policy,
        jitter=jitter,
    )


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [
        pytest.param(0, 2.0, id="attempt-0-as-first"),
        pytest.param(1, 2.0, id="first-retry"),
        pytest.param(2, 4.0, id="doubles"),
        pytest.param(3, 8.0, id="doubles-again"),
        pytest.param(5, 32.0, id="attempt-5"),
        pytest.param(6, 64.0, id="reaches-cap"),
        pytest.param(7, 64.0, id="capped"),
        pytest.param(40, 64.0, id="capped-far-out"),
    ],
)
def test_backoff_doubles_from_the_first_retry_up_to_the_cap(attempt: int, expected: float) -> None:
    assert _delay(attempt) == expected


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        pytest.param(1, 0.0, 2.0, id="no-jitter"),
        pytest.param(1, 0.5, 2.25, id="half"),
        pytest.param(1, 1.0, 2.5, id="full-is-plus-25-percent"),
        pytest.param(3, 1.0, 10.0, id="on-a-doubled-delay"),
        pytest.param(9, 1.0, 80.0, id="on-the-capped-delay"),
    ],
)
def test_jitter_adds_up_to_a_quarter(attempt: int, jitter: float, expected: float) -> None:
    assert _delay(attempt, jitter=jitter) == expected


@pytest.mark.parametrize("attempt", [1, 2, 4, 6, 10, 30])
@pytest.mark.parametrize("jitter", [0.0, 0.13, 0.5, 0.999, 1.0])
def test_jitter_never_shortens_the_backoff_nor_exceeds_its_bound(
    attempt: int, jitter: float
) -> None:
    plain = _delay(attempt)
    spread = _delay(attempt, jitter=jitter)
    assert plain is not None
    assert spread is not None
    assert plain <= spread <= plain * 1.25
    assert spread <= POLICY.max_retry_delay_seconds * 1.25


@pytest.mark.parametrize(
    ("attempt", "server_delay", "expected"),
    [
        pytest.param(1, None, 2.0, id="no-retry-after"),
        pytest.param(1, 0.0, 2.0, id="retry-after-zero"),
        pytest.param(1, 1.0, 2.0, id="shorter-than-backoff"),
        pytest.param(1, 30.0, 30.0, id="longer-than-backoff"),
        pytest.param(9, 600.0, 600.0, id="longer-than-the-cap"),
        pytest.param(3, 8.0, 8.0, id="equal"),
    ],
)
def test_retry_after_is_honoured_never_sooner(
    attempt: int, server_delay: float | None, expected: float
) -> None:
    assert _delay(attempt, server_delay=server_delay) == expected


@pytest.mark.parametrize("jitter", [0.0, 1.0])
@pytest.mark.parametrize("server_delay", [None, 5.0, 100.0, 1000.0])
def test_never_sooner_than_the_server_asked(jitter: float, server_delay: float | None) -> None:
    for attempt in range(1, 12):
        delay = _delay(attempt, jitter=jitter, server_delay=server_delay)
        assert delay is not None
        assert delay >= (server_delay or 0.0)


@pytest.mark.parametrize(
    ("attempt", "server_delay", "wait"),
    [
        pytest.param(1, None, 2.0, id="backoff"),
        pytest.param(9, None, 64.0, id="capped-backoff"),
        pytest.param(1, 512.0, 512.0, id="retry-after"),
    ],
)
def test_gives_up_exactly_when_the_next_attempt_would_fall_outside_the_window(
    attempt: int, server_delay: float | None, wait: float
) -> None:
    # The next attempt lands exactly at the end of the window: still allowed.
    last_chance = T0 + WINDOW - wait
    assert _delay(attempt, server_delay=server_delay, now=last_chance) == wait
    # A moment later it would land past the end: give up.
    assert _delay(attempt, server_delay=server_delay, now=last_chance + 0.5) is None
    assert _delay(attempt, server_delay=server_delay, now=T0 + WINDOW) is None


@pytest.mark.parametrize(
    ("now", "server_delay", "expected"),
    [
        pytest.param(T0, None, 2.0, id="right-after-the-first-attempt"),
        pytest.param(T0 + WINDOW / 2, None, 2.0, id="half-way"),
        pytest.param(T0 + WINDOW - 2.0, None, 2.0, id="last-moment"),
        pytest.param(T0 + WINDOW - 1.0, None, None, id="too-late"),
        pytest.param(T0 + 10 * WINDOW, None, None, id="long-past"),
        # A Retry-After that reaches past the window means giving up now.
        pytest.param(T0, WINDOW + 1.0, None, id="retry-after-past-the-window"),
        pytest.param(T0 + 100.0, WINDOW - 100.0, WINDOW - 100.0, id="retry-after-to-the-end"),
    ],
)
def test_the_window_counts_from_the_first_attempt(
    now: float, server_delay: float | None, expected: float | None
) -> None:
    assert _delay(1, now=now, server_delay=server_delay) == expected


def test_jitter_can_tip_the_last_retry_over_the_edge() -> None:
    now = T0 + WINDOW - 2.0
    assert _delay(1, now=now, jitter=0.0) == 2.0
    assert _delay(1, now=now, jitter=1.0) is None


def test_default_policy_matches_the_documented_defaults() -> None:
    policy = Worker()
    assert [_delay(n, policy=policy) for n in (1, 2, 3, 9, 10)] == [1.0, 2.0, 4.0, 256.0, 300.0]
    three_hours = T0 + 3 * 3600.0
    assert _delay(10, policy=policy, now=three_hours - 300.0) == 300.0
    assert _delay(10, policy=policy, now=three_hours - 299.0) is None

"""When to try a record again after a retryable error: pure, so it is tested by tables."""

from __future__ import annotations

from payroll_sync.schemas.settings import Worker


def retry_delay(
    *,
    attempt: int,
    first_attempt_at: float,
    now: float,
    server_delay: float | None,
    policy: Worker,
    jitter: float,
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the retry time is used up.

    Exponential backoff from `first_retry_seconds`, capped at `max_retry_delay_seconds`, spread
    by `jitter` (0..1, up to +25%) so records that failed together do not return together; never
    sooner than the server asked (Retry-After).
    """
    backoff = policy.first_retry_seconds * 2.0 ** max(attempt - 1, 0)
    delay = min(backoff, policy.max_retry_delay_seconds) * (1.0 + 0.25 * jitter)
    if server_delay is not None:
        delay = max(delay, server_delay)
    if now + delay - first_attempt_at > policy.retry_for_hours * 3600.0:
        return None
    return delay

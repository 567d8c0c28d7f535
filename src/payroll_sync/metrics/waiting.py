"""The pacer's gauges: records waiting per integration and the oldest one's age.

The pacer keeps its records in Redis (queue/pacing.py), so the HTTP services read them when
scraped and show them here; an integration that no longer waits for anything shows 0 while it
is known, and goes when it is neither known nor waiting.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from payroll_sync.metrics.definitions import OLDEST_WAITING_AGE, RECORDS_WAITING


class Waiting(NamedTuple):
    records: int
    #: Seconds since the oldest waiting record was queued; 0 when none waits.
    oldest_age: float


def show_waiting(waiting: Mapping[str, Waiting]) -> None:
    """Replace both gauges' values by `waiting` (integration -> what waits)."""
    RECORDS_WAITING.clear()
    OLDEST_WAITING_AGE.clear()
    for integration, found in waiting.items():
        RECORDS_WAITING.labels(integration).set(found.records)
        OLDEST_WAITING_AGE.labels(integration).set(max(0.0, found.oldest_age))

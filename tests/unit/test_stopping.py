"""The pieces of a worker's graceful stop that need no process: repeated SIGTERMs, and the
broker maintenance's interval."""

from __future__ import annotations

import signal
import time
import types

import pytest

from payroll_sync.queue.maintenance import interval_for
from payroll_sync.worker import stopping
from payroll_sync.worker.stopping import quiet_repeats


def test_a_repeated_sigterm_is_one_stop_and_a_late_one_hands_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    passed: list[int] = []
    late: list[str] = []

    def previous(signum: int, frame: types.FrameType | None) -> None:
        passed.append(signum)

    handler = quiet_repeats(previous, lambda: late.append("now"))
    handler(signal.SIGTERM, None)
    now[0] += 0.01
    handler(signal.SIGTERM, None)  # the same stop, forwarded by Dramatiq's main process
    assert passed == [signal.SIGTERM]
    assert late == []
    now[0] += stopping.REPEAT_WINDOW_SECONDS + 1
    handler(signal.SIGTERM, None)
    assert passed == [signal.SIGTERM], "never Dramatiq's 'kill now'"
    assert late == ["now"]


@pytest.mark.parametrize(
    ("heartbeat_ms", "interval"), [(60_000, 15.0), (8_000, 2.0), (1_000, 1.0), (3_600_000, 15.0)]
)
def test_maintenance_runs_four_times_per_dead_worker_timeout_within_bounds(
    heartbeat_ms: int, interval: float
) -> None:
    assert interval_for(heartbeat_ms) == interval

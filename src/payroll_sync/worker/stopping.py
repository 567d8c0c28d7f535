"""A worker process's graceful stop: take no new record, let the held ones finish for a while,
hand back the rest, and only then close what they use.

Dramatiq's `worker.stop()` emits `before_worker_shutdown`, stops the worker threads (each ends
the message it holds), requeues the messages prefetched but not started, then emits
`after_worker_shutdown`. Our records run as asyncio tasks on the AsyncIO middleware's loop, so:

- from `before_worker_shutdown` on, a record that starts is handed back unrun;
- records still running `stop_timeout_seconds` later are cancelled, and each hands itself back
  (a copy of its task on the queue; the next worker reads both systems afresh);
- the HTTP session and Redis close in `after_worker_shutdown`, after the last record, before
  the AsyncIO middleware stops the loop (Dramatiq emits `after_*` hooks in reverse order of
  the middleware list, and ours is added after AsyncIO).

A process group's SIGTERM (systemd, `kill -TERM -PGID`) reaches a Dramatiq worker process twice:
once directly and once forwarded by Dramatiq's main process. Dramatiq's worker takes the second
SIGTERM as "kill now": it raises SystemExit in the main thread without stopping the worker, and
the process, kept alive by the event loop thread, goes on taking records. `quiet_repeats`
ignores a SIGTERM that repeats within `REPEAT_WINDOW_SECONDS`; a later one (a second Ctrl-C)
cuts the wait short by handing the records back at once.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import types
from collections.abc import Callable
from typing import Any, Final

import dramatiq
import structlog
from dramatiq.middleware import Middleware

#: Two SIGTERMs closer than this are one stop (a process group's, forwarded by Dramatiq).
REPEAT_WINDOW_SECONDS: Final = 2.0
#: Beyond the stop timeout, how long Dramatiq waits for records to hand themselves back.
HAND_BACK_SECONDS: Final = 10.0

log = structlog.get_logger("payroll_sync.worker")

Handler = Callable[[int, types.FrameType | None], Any]


class InFlight:
    """The records this process is running: asyncio tasks on one loop, and whether it stops."""

    def __init__(self) -> None:
        # Re-entrant: a signal handler may take it while its own thread holds it.
        self._lock = threading.RLock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = threading.Event()
        self._handing_back = threading.Event()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def handing_back(self) -> bool:
        """True once a running record's cancellation means "hand it back"."""
        return self._handing_back.is_set()

    def add(self, task: asyncio.Task[Any]) -> None:
        with self._lock:
            self._tasks.add(task)

    def discard(self, task: asyncio.Task[Any]) -> None:
        with self._lock:
            self._tasks.discard(task)

    def count(self) -> int:
        with self._lock:
            return len(self._tasks)

    def stop(self) -> None:
        self._stopping.set()

    def hand_back_all(self) -> int:
        """Cancel every running record (each hands itself back); how many."""
        self._handing_back.set()
        with self._lock:
            # Each is cancelled once: a second cancel would cut its hand-back short.
            tasks = list(self._tasks)
            self._tasks.clear()
        for task in tasks:
            task.get_loop().call_soon_threadsafe(task.cancel)
        return len(tasks)

    def reset(self) -> None:
        """A worker started again in the same process (tests, the demo)."""
        self._stopping.clear()
        self._handing_back.clear()


def quiet_repeats(previous: Handler, on_late_repeat: Callable[[], object]) -> Handler:
    """A SIGTERM handler that passes the first signal to `previous`, ignores repeats within
    REPEAT_WINDOW_SECONDS and answers a later repeat with `on_late_repeat`."""
    first: float | None = None

    def handler(signum: int, frame: types.FrameType | None) -> None:
        nonlocal first
        now = time.monotonic()
        if first is None:
            first = now
            previous(signum, frame)
        elif now - first > REPEAT_WINDOW_SECONDS:
            on_late_repeat()

    return handler


def _is_dramatiq_worker_handler(handler: object) -> bool:
    return callable(handler) and getattr(handler, "__module__", "") == "dramatiq.cli"


class GracefulStop(Middleware):
    """See the module's docstring. `timeout` says, when the stop begins, how long records get;
    `close` closes what they used (run on the event loop thread by the caller's function)."""

    def __init__(
        self, in_flight: InFlight, *, timeout: Callable[[], float], close: Callable[[], None]
    ) -> None:
        self.in_flight = in_flight
        self._timeout = timeout
        self._close = close
        self._timer: threading.Timer | None = None

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.in_flight.reset()
        if threading.current_thread() is not threading.main_thread():
            return  # an in-process worker (demo, tests): no signals of its own
        current = signal.getsignal(signal.SIGTERM)
        if _is_dramatiq_worker_handler(current):
            assert callable(current)
            signal.signal(signal.SIGTERM, quiet_repeats(current, self._hand_back_now))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self.in_flight.stop()
        timeout = self._timeout()
        log.info("worker.stopping", in_flight=self.in_flight.count(), timeout_s=timeout)
        self._timer = threading.Timer(timeout, self._hand_back_now)
        self._timer.daemon = True
        self._timer.start()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close()
        log.info("worker.stopped")

    def _hand_back_now(self) -> None:
        cancelled = self.in_flight.hand_back_all()
        if cancelled:
            log.warning("worker.handing_back", records=cancelled)

"""The worker processes' metrics: Dramatiq's Prometheus middleware and one exposition server.

`payroll-sync worker` starts several Dramatiq worker processes. Each writes its metrics (ours in
metrics/definitions.py and Dramatiq's `dramatiq_*` queue metrics) to files in one directory,
prometheus-client's multiprocess mode; one more process, started by Dramatiq as a "fork" of the
middleware, serves their sum at `http://<host>:<port>/metrics`.

`worker_environment` sets this up before Dramatiq starts: the directory (PROMETHEUS_MULTIPROC_DIR,
emptied first: a previous run's files would be summed too; Dramatiq's `dramatiq_prom_db` points
at the same one) and our PAYROLL_SYNC_WORKER_METRICS_HOST/_PORT. Dramatiq's own middleware would
serve on a fixed port (9191, `dramatiq_prom_port`) from every `dramatiq` command; ours serves on
the port asked, and a port already taken (a second worker command on one machine) costs only
that command's exposition, never its workers. Without these variables (the demo, a worker
started by hand with `dramatiq`) no middleware is added and nothing is served.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, MutableMapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import structlog
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import MetricsHandler
from prometheus_client.multiprocess import MultiProcessCollector

log = structlog.get_logger("payroll_sync.metrics")

HOST_VARIABLE: Final = "PAYROLL_SYNC_WORKER_METRICS_HOST"
PORT_VARIABLE: Final = "PAYROLL_SYNC_WORKER_METRICS_PORT"
DIR_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
#: Dramatiq's middleware reads its directory from this one (at import).
DRAMATIQ_DIR_VARIABLE: Final = "dramatiq_prom_db"
DEFAULT_PORT: Final = 9191
DEFAULT_HOST: Final = "127.0.0.1"
TEMP_PREFIX: Final = "payroll-sync-worker-metrics-"
#: In a temporary directory: the pid of the worker command that uses it.
OWNER_FILE: Final = "owner.pid"


def clean_directory(directory: Path) -> None:
    """Remove a previous run's metric files (`*.db`), nothing else."""
    for path in directory.glob("*.db"):
        path.unlink(missing_ok=True)


def worker_environment(
    env: MutableMapping[str, str], *, host: str, port: int, directory: str | None
) -> str:
    """Set `env` up for worker processes that export metrics on `host:port` (0: none);
    the directory their files go to (`directory`, emptied, or a new one)."""
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        clean_directory(path)
    else:
        path = new_directory(Path(tempfile.gettempdir()), owner=os.getpid())
    env[DIR_VARIABLE] = str(path)
    env[DRAMATIQ_DIR_VARIABLE] = str(path)
    env[HOST_VARIABLE] = host
    env[PORT_VARIABLE] = str(port)
    return str(path)


def new_directory(parent: Path, *, owner: int) -> Path:
    """A new directory in `parent` for the worker command of process `owner` (which `exec`s
    Dramatiq, keeping its pid), after removing those of commands that have stopped.

    Why: the command cannot remove its own directory when it stops (it is Dramatiq by then),
    so the next command started on the machine does."""
    remove_abandoned(parent)
    path = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    (path / OWNER_FILE).write_text(str(owner))
    return path


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove the temporary metric directories in `parent` whose command has stopped; those
    removed. A directory without an owner file (or with an unreadable one) is left alone."""
    removed = []
    for path in parent.glob(f"{TEMP_PREFIX}*"):
        try:
            owner = int((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue
        if not _alive(owner):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def enabled(env: MutableMapping[str, str] | None = None) -> bool:
    """Whether this process was started by `payroll-sync worker` with metrics set up."""
    values = os.environ if env is None else env
    return bool(values.get(DIR_VARIABLE)) and PORT_VARIABLE in values


def queue_metrics() -> Any:
    """Dramatiq's Prometheus middleware, serving through `serve` (imported only when enabled:
    importing Dramatiq's module creates its directory)."""
    from dramatiq.middleware.prometheus import Prometheus

    class QueueMetrics(Prometheus):
        @property
        def forks(self) -> list[Callable[[], int]]:
            return [serve] if int(os.environ.get(PORT_VARIABLE, "0")) else []

    return QueueMetrics()


def serve() -> int:
    """Dramatiq's fork: serve the sum of every worker process's metrics until stopped."""
    host = os.environ.get(HOST_VARIABLE, DEFAULT_HOST)
    port = int(os.environ.get(PORT_VARIABLE, "0"))
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        server = ThreadingHTTPServer((host, port), MetricsHandler.factory(registry))
    except OSError as error:
        log.error("metrics.not_served", host=host, port=port, error_type=type(error).__name__)
        return 0
    log.info("metrics.serving", host=host, port=server.server_address[1])
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0

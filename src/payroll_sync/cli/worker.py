"""`payroll-sync worker`: Dramatiq worker processes that sync records (this process becomes
`dramatiq payroll_sync.worker.actors`).

Stopping: SIGTERM or SIGINT, to this process or its whole group, stops every worker process
gracefully (worker/stopping.py); this process exits 0 when they have. Dramatiq waits for them
up to `--worker-shutdown-timeout`, which we set from `[worker] stop_timeout_seconds`.

Metrics: every worker process writes to one directory (`--metrics-dir`, emptied at start; by
default a new temporary one, which the next command removes once this one has stopped) and one
more process serves their sum at `http://<--metrics-host>:<--metrics-port>/metrics`
(metrics/worker.py; port 0: not served).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Final

import redis

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, port, positive
from payroll_sync.cli.exit_codes import EXIT_OK, EXIT_TRY_LATER
from payroll_sync.metrics import worker as worker_metrics
from payroll_sync.schemas.settings import Settings
from payroll_sync.worker.stopping import HAND_BACK_SECONDS

#: How long to wait for Redis to answer at start-up.
REDIS_CHECK_SECONDS: Final = 5.0


def add_command(commands: Commands) -> None:
    worker = commands.add_parser("worker", help="run Dramatiq workers that sync records")
    worker.add_argument(
        "--processes", type=positive, default=os.cpu_count() or 1, help="default: the CPUs"
    )
    worker.add_argument("--threads", type=positive, default=8, help="per process (default 8)")
    worker.add_argument(
        "--metrics-host",
        default=os.environ.get(worker_metrics.HOST_VARIABLE, worker_metrics.DEFAULT_HOST),
        help="address the workers' /metrics listens on (default 127.0.0.1, or "
        f"${worker_metrics.HOST_VARIABLE})",
    )
    worker.add_argument(
        "--metrics-port",
        type=port,
        default=os.environ.get(worker_metrics.PORT_VARIABLE, str(worker_metrics.DEFAULT_PORT)),
        help=f"port of the workers' /metrics (default {worker_metrics.DEFAULT_PORT}, or "
        f"${worker_metrics.PORT_VARIABLE}; 0 = not served)",
    )
    worker.add_argument(
        "--metrics-dir",
        default=None,
        help="directory for the worker processes' metric files, emptied at start "
        "(default: a new temporary directory, removed by a later start once this command "
        "has stopped)",
    )
    worker.set_defaults(func=run_worker)


def redis_answers(url: str) -> str | None:
    """None when Redis answers a PING; else why not (the error's type, never the URL)."""
    client = redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_CHECK_SECONDS, socket_timeout=REDIS_CHECK_SECONDS
    )
    try:
        client.ping()
    except redis.RedisError as error:
        return type(error).__name__
    finally:
        client.close()
    return None


def dramatiq_command(*, processes: int, threads: int, stop_timeout_seconds: float) -> list[str]:
    # Dramatiq's own bound on a worker process's stop: the records' time, then their hand-back.
    shutdown_ms = int((stop_timeout_seconds + HAND_BACK_SECONDS) * 1000)
    return [
        sys.executable,
        "-m",
        "dramatiq",
        "payroll_sync.worker.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--worker-shutdown-timeout",
        str(shutdown_ms),
    ]


async def _settings_now(env: config.Environment) -> Settings:
    catalog = await LiveCatalog.open(env)
    await catalog.close()
    return catalog.settings


def run_worker(args: argparse.Namespace) -> int:
    env = config.environment()
    # Refuse a bad file (or a registry not answering) here, not in each process.
    settings = asyncio.run(_settings_now(env))
    why = redis_answers(env.redis_url)
    if why is not None:
        print(f"payroll-sync: Redis is not answering ({why}); try again later", file=sys.stderr)
        return EXIT_TRY_LATER
    command = dramatiq_command(
        processes=args.processes,
        threads=args.threads,
        stop_timeout_seconds=settings.worker.stop_timeout_seconds,
    )
    worker_metrics.worker_environment(
        os.environ, host=args.metrics_host, port=args.metrics_port, directory=args.metrics_dir
    )
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return EXIT_OK  # not reached

"""`payroll-sync dashboard`: serve the retry dashboard until stopped.

Exit codes: 0 stopped normally, 2 usage or configuration error (no operator token, a bad
settings file, Redis not answering, the port taken).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import TextIO

import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync import config
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.dashboard.app import create_app
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup

log = structlog.get_logger("payroll_sync.dashboard")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, got {text}")
    return value


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dashboard = commands.add_parser(
        "dashboard",
        help="serve the retry dashboard: runs, failures, retry (needs PAYROLL_SYNC_OPERATOR_TOKEN)",
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="address to listen on")
    dashboard.add_argument(
        "--port", type=_port, default=8080, help="port to listen on (0 = any free port)"
    )


async def run_dashboard(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    # Checked first: without the token nobody could log in (a ConfigError: exit 2).
    token = config.operator_token()
    env = config.environment()
    configure_logging()
    # Retries are sent to the same queues the workers read.
    broker_setup.current()

    redis = aioredis.Redis.from_url(env.redis_url)
    runner: web.AppRunner | None = None
    try:
        await redis.ping()
        app = create_app(producer=Producer(redis, env.prefix), operator_token=token)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        log.info("dashboard.started", host=host, port=port, prefix=env.prefix)
        print(f"Dashboard on http://{host}:{port}/ (log in with the operator token)", file=out)
        print("Serving until stopped (Ctrl-C).", file=out, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("dashboard.stopped")
    finally:
        if runner is not None:
            await runner.cleanup()
        await redis.aclose()
    return EXIT_OK

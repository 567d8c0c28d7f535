"""`payroll-sync intake`: serve the HTTP intake for sync requests until SIGTERM or SIGINT.

Refuses to start (exit 2) when no caller could authenticate: no `[intake.callers]`, or none of
their token variables set.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Mapping
from typing import TextIO

import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync import config
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.errors import ConfigError
from payroll_sync.intake import make_app
from payroll_sync.producer.producer import Producer
from payroll_sync.queue import broker as broker_setup
from payroll_sync.schemas.settings import Settings

DEFAULT_PORT = 8090

log = structlog.get_logger("payroll_sync.intake")


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {text}")
    return value


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    intake = commands.add_parser(
        "intake", help="serve the HTTP intake for sync requests from upstream systems"
    )
    intake.add_argument("--host", default="127.0.0.1", help="address to listen on")
    intake.add_argument("--port", type=_port, default=DEFAULT_PORT, help="port to listen on")


def caller_tokens(
    settings: Settings, source: str, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Token -> caller name; a ConfigError naming the variables when nobody could call."""
    tokens = config.intake_tokens(settings, env)
    if tokens:
        return tokens
    variables = sorted(set(settings.intake.callers.values()))
    if not variables:
        raise ConfigError(
            f"{source}: no intake callers configured; add e.g. [intake.callers] "
            'simployer-one = "INTAKE_TOKEN_SIMPLOYER_ONE" and set that variable'
        )
    noun = "variable" if len(variables) == 1 else "variables"
    raise ConfigError(
        f"no intake caller has a token: set the environment {noun} {', '.join(variables)}"
    )


async def run_intake(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    env = config.environment()
    settings = config.load_settings(env.config_path)
    tokens = caller_tokens(settings, env.config_path)
    able = set(tokens.values())
    for caller, variable in sorted(settings.intake.callers.items()):
        if caller not in able:
            log.warning("intake.caller_disabled", caller=caller, variable=variable)
    # The broker the producer enqueues on, set up now: a bad setting fails here, not on the
    # first request.
    broker_setup.current()

    redis = aioredis.Redis.from_url(env.redis_url)
    runner: web.AppRunner | None = None
    try:
        await redis.ping()
        app = make_app(settings=settings, producer=Producer(redis, env.prefix), tokens=tokens)
        # No access log: our own intake.accepted / intake.refused events say who asked what.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, args.host, args.port).start()
        address = f"http://{args.host}:{_bound_port(runner, args.port)}"
        log.info("intake.started", address=address, callers=sorted(able))
        print(f"intake listening on {address} (callers: {', '.join(sorted(able))})", file=out)
        out.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("intake.stopping")
    finally:
        if runner is not None:
            # Lets requests in flight finish (their runs are being created).
            await runner.cleanup()
        await redis.aclose()
    return EXIT_OK


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked

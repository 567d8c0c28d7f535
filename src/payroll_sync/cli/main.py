"""The `payroll-sync` command.

Exit codes: 0 success, 1 the work itself failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
import redis

from payroll_sync.assumptions import (
    PAYROLL_POST_ANSWER,
    PAYROLL_POST_ANSWERS,
    PAYROLL_RATE_LIMIT_PER_SECOND,
    PAYROLL_UPDATE_MODE,
    PAYROLL_UPDATE_MODES,
)
from payroll_sync.cli import dashboard as cli_dashboard
from payroll_sync.cli import intake as cli_intake
from payroll_sync.cli import schedule as cli_schedule
from payroll_sync.cli import sync as cli_sync
from payroll_sync.cli.exit_codes import EXIT_USAGE
from payroll_sync.errors import SyncError
from payroll_sync.logs import configure_logging


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _add_simulate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = commands.add_parser(
        "simulate",
        help="serve simulators of Simployer One and 24SevenOffice Lønn until stopped",
    )
    sim.add_argument("--employees", type=int, default=200, help="generated company size")
    sim.add_argument("--seed", type=int, default=1, help="seed of the generated company")
    sim.add_argument(
        "--simployer-data",
        type=Path,
        help="JSON file of Simployer One rows in the API's format: {resource: [rows]}",
    )
    sim.add_argument(
        "--leave-facts",
        action="store_true",
        help="generated leaves also carry childId and gradePercentage (not in the published API)",
    )
    sim.add_argument("--payroll-data", type=Path, help="JSON file with 24SevenOffice data")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--simployer-port", type=int, default=8081)
    sim.add_argument("--payroll-port", type=int, default=8082)
    sim.add_argument("--simployer-token", default="simployer-demo-token")
    sim.add_argument("--payroll-token", default="payroll-demo-token")
    sim.add_argument(
        "--rate-limit",
        type=_non_negative,
        default=PAYROLL_RATE_LIMIT_PER_SECOND,
        metavar="PER_SECOND",
        help="24SevenOffice requests per second per token (0 = unlimited; burst = 2x)",
    )
    sim.add_argument(
        "--simployer-rate-limit",
        type=_non_negative,
        metavar="PER_SECOND",
        help="Simployer One requests per second per token (default: see assumptions.py)",
    )
    sim.add_argument("--token-ttl", type=_non_negative, help="24SevenOffice token lifetime, s")
    sim.add_argument("--latency-ms", type=_non_negative, default=0.0, help="added to each call")
    sim.add_argument("--error-rate", type=_share, default=0.0, help="share answered 500/503")
    sim.add_argument("--drop-rate", type=_share, default=0.0, help="share of dropped connections")
    sim.add_argument(
        "--timeout-rate", type=_share, default=0.0, help="share of calls that hang, then drop"
    )
    sim.add_argument(
        "--payroll-post-answer",
        choices=PAYROLL_POST_ANSWERS,
        default=PAYROLL_POST_ANSWER,
        help="body of a successful 24SevenOffice POST: empty, or the stored rows as an array",
    )
    sim.add_argument(
        "--payroll-update-mode",
        choices=PAYROLL_UPDATE_MODES,
        default=PAYROLL_UPDATE_MODE,
        help="24SevenOffice updates merge the fields sent, or replace the record",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payroll-sync",
        description="Sync employees and absences from Simployer One to 24SevenOffice Lønn.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_simulate(commands)
    demo = commands.add_parser(
        "demo", help="sync a generated company into the simulators, twice, and show the outcomes"
    )
    demo.add_argument("--employees", type=int, default=200)
    cli_sync.add_commands(commands)
    cli_intake.add_command(commands)
    cli_schedule.add_commands(commands)
    cli_dashboard.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "simulate":
            # The local stack is loaded only for the commands that use it.
            from payroll_sync.cli.simulate import simulate

            return asyncio.run(simulate(args))
        if args.command == "demo":
            from payroll_sync.demo import run_demo

            return asyncio.run(run_demo(employees=args.employees))
        if args.command == "worker":
            return cli_sync.run_worker(args)
        if args.command == "sync":
            # Events go to stderr as JSON lines; stdout carries only the result (maybe JSON).
            configure_logging()
            return asyncio.run(cli_sync.run_sync(args))
        if args.command == "check-config":
            return asyncio.run(cli_sync.run_check_config())
        if args.command == "intake":
            configure_logging()
            return asyncio.run(cli_intake.run_intake(args))
        if args.command == "scheduler":
            return cli_schedule.run_scheduler_command(args)
        if args.command == "schedule":
            return cli_schedule.run_schedule_command(args)
        if args.command == "dashboard":
            return asyncio.run(cli_dashboard.run_dashboard(args))
    except SyncError as exc:
        # Configuration and credential problems: the reason names the setting to fix.
        print(f"payroll-sync: {exc.reason}", file=sys.stderr)
        return EXIT_USAGE
    except redis.RedisError as exc:
        print(f"payroll-sync: Redis is not answering ({type(exc).__name__})", file=sys.stderr)
        return EXIT_USAGE
    except (OSError, msgspec.DecodeError, ValueError) as exc:
        # A missing or invalid data file, a port in use: say what, not a traceback.
        print(f"payroll-sync: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

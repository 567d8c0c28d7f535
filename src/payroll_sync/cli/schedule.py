"""The schedule commands of `payroll-sync`: `scheduler` (the process) and `schedule` (when an
integration's schedule fires next).

Exit codes: 0 ok, 2 usage or configuration error (unknown integration, bad --after, a broken
settings file, Redis not answering).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
import signal
import sys
from typing import Final, TextIO

import msgspec

from payroll_sync import config
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.logs import configure_logging
from payroll_sync.scheduler.process import DEFAULT_INTERVAL, run_scheduler
from payroll_sync.scheduler.slots import OSLO, next_fire_times, regular_slots

MAX_NEXT: Final = 1000


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, e.g. 5, got {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3600, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= MAX_NEXT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_NEXT}, got {text}")
    return value


def parse_after(text: str) -> datetime.datetime:
    """An ISO 8601 time; without an offset it is a time on the Oslo clock."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-03-29T01:00 or 2026-03-29T01:00:00+01:00, "
            f"got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OSLO)
    return moment


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scheduler = commands.add_parser(
        "scheduler", help="fire scheduled syncs at their weekdays and times until stopped"
    )
    scheduler.add_argument(
        "--interval",
        type=_interval,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"seconds between looks for due slots (default {DEFAULT_INTERVAL:g})",
    )
    schedule = commands.add_parser(
        "schedule", help="show when an integration's schedule fires next (Europe/Oslo)"
    )
    schedule.add_argument("--integration", required=True, metavar="ID")
    schedule.add_argument(
        "--next", type=_count, default=5, metavar="N", help="how many fire times (default 5)"
    )
    schedule.add_argument(
        "--after",
        type=parse_after,
        metavar="ISO-TIME",
        help="list fire times after this time (default now; no offset = Oslo time)",
    )
    schedule.add_argument("--json", action="store_true", help="print a JSON list of ISO times")


def run_scheduler_command(args: argparse.Namespace) -> int:
    env = config.environment()
    config.load_settings(env.config_path)  # a broken file: exit 2 with the key to fix
    configure_logging()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_scheduler(
            config_path=env.config_path,
            redis_url=env.redis_url,
            prefix=env.prefix,
            interval=args.interval,
            stop=stop,
        )

    asyncio.run(main())
    return EXIT_OK


def run_schedule_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout  # looked up now, not at import: tests and pipes replace it
    env = config.environment()
    settings = config.load_settings(env.config_path)
    chosen = config.integration(settings, args.integration).schedule
    after = args.after or datetime.datetime.now(OSLO)
    if args.json:
        times = next_fire_times(chosen, after, args.next)
        print(msgspec.json.encode([moment.isoformat() for moment in times]).decode(), file=out)
        return EXIT_OK
    state = "on" if chosen.enabled else "off (these are the times it would fire)"
    print(
        f"integration {args.integration}: schedule {state}; "
        f"{' '.join(chosen.weekdays) or 'no weekdays'} at {' '.join(chosen.times) or 'no times'} "
        f"Europe/Oslo",
        file=out,
    )
    if not chosen.weekdays or not chosen.times:
        print("no fire times: the schedule names no weekdays or no times", file=out)
        return EXIT_OK
    for slot in itertools.islice(regular_slots(chosen, after), args.next):
        moment = slot.oslo
        line = f"{moment:%a} {moment.isoformat(timespec='minutes')}"
        if moment.replace(tzinfo=None) != slot.wall:
            line += f"  ({slot.wall:%H:%M} does not exist on the Oslo clock that day)"
        print(line, file=out)
    return EXIT_OK

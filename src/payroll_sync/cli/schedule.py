"""`payroll-sync schedule`: when an integration's schedule fires next (Europe/Oslo).

Exit codes: 0 ok, 2 usage or configuration error (unknown integration, bad --after, a broken
settings file).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import itertools
from typing import Final

import msgspec

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, oslo_time, whole_number
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.scheduler.slots import OSLO, next_fire_times, regular_slots
from payroll_sync.schemas.settings import Schedule

MAX_NEXT: Final = 1000


def add_command(commands: Commands) -> None:
    schedule = commands.add_parser(
        "schedule", help="show when an integration's schedule fires next (Europe/Oslo)"
    )
    schedule.add_argument("--integration", required=True, metavar="ID")
    schedule.add_argument(
        "--next",
        type=whole_number(1, MAX_NEXT),
        default=5,
        metavar="N",
        help="how many fire times (default 5)",
    )
    schedule.add_argument(
        "--after",
        type=oslo_time,
        metavar="ISO-TIME",
        help="list fire times after this time (default now; no offset = Oslo time)",
    )
    schedule.add_argument("--json", action="store_true", help="print a JSON list of ISO times")
    schedule.set_defaults(func=run_schedule_command)


async def _schedule_of(integration_id: str) -> Schedule:
    catalog = await LiveCatalog.open(config.environment())
    try:
        return catalog.current.integration(integration_id).schedule
    finally:
        await catalog.close()


def run_schedule_command(args: argparse.Namespace) -> int:
    chosen = asyncio.run(_schedule_of(args.integration))
    after = args.after or datetime.datetime.now(OSLO)
    if args.json:
        times = next_fire_times(chosen, after, args.next)
        print(msgspec.json.encode([moment.isoformat() for moment in times]).decode())
        return EXIT_OK
    state = "on" if chosen.enabled else "off (these are the times it would fire)"
    print(
        f"integration {args.integration}: schedule {state}; "
        f"{' '.join(chosen.weekdays) or 'no weekdays'} at {' '.join(chosen.times) or 'no times'} "
        f"Europe/Oslo"
    )
    if not chosen.weekdays or not chosen.times:
        print("no fire times: the schedule names no weekdays or no times")
        return EXIT_OK
    for slot in itertools.islice(regular_slots(chosen, after), args.next):
        moment = slot.oslo
        line = f"{moment:%a} {moment.isoformat(timespec='minutes')}"
        if moment.replace(tzinfo=None) != slot.wall:
            line += f"  ({slot.wall:%H:%M} does not exist on the Oslo clock that day)"
        print(line)
    return EXIT_OK

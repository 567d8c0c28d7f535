"""`payroll-sync demo`: what `make demo` runs (the local stack, loaded only when this command
runs)."""

from __future__ import annotations

import argparse
import asyncio

from payroll_sync.cli.arguments import Commands, positive


def add_command(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo", help="sync a generated company into the simulators, twice, and show the outcomes"
    )
    demo.add_argument("--employees", type=positive, default=200, help="generated company size")
    demo.set_defaults(func=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    from payroll_sync.demo import run_demo

    return asyncio.run(run_demo(employees=args.employees))

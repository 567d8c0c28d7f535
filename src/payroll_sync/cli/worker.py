"""`payroll-sync worker`: Dramatiq worker processes that sync records (this process becomes
`dramatiq payroll_sync.worker.actors`)."""

from __future__ import annotations

import argparse
import os
import sys

from payroll_sync import config
from payroll_sync.cli.arguments import Commands, positive
from payroll_sync.cli.exit_codes import EXIT_OK


def add_command(commands: Commands) -> None:
    worker = commands.add_parser("worker", help="run Dramatiq workers that sync records")
    worker.add_argument(
        "--processes", type=positive, default=os.cpu_count() or 1, help="default: the CPUs"
    )
    worker.add_argument("--threads", type=positive, default=8, help="per process (default 8)")
    worker.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    env = config.environment()
    config.load_settings(env.config_path)  # refuse a bad file here, not in every process
    command = [
        sys.executable,
        "-m",
        "dramatiq",
        "payroll_sync.worker.actors",
        "--processes",
        str(args.processes),
        "--threads",
        str(args.threads),
    ]
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return EXIT_OK  # not reached

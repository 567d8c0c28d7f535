"""The `payroll-sync` command: each command's module adds its parser (`add_command`) and the
function that runs it (`set_defaults(func=...)`); errors that end a command become exit codes
here, in one place.

Exit codes (cli/exit_codes.py): 0 success, 1 the work itself failed, 2 usage or configuration
error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Final

import msgspec
import redis

from payroll_sync.cli import (
    check_config,
    dashboard,
    demo,
    intake,
    schedule,
    scheduler,
    simulate,
    sync,
    worker,
)
from payroll_sync.cli.arguments import Commands
from payroll_sync.cli.exit_codes import EXIT_USAGE
from payroll_sync.errors import SyncError

#: In the order `payroll-sync --help` lists them.
COMMANDS: Final[tuple[Callable[[Commands], None], ...]] = (
    demo.add_command,
    simulate.add_command,
    check_config.add_command,
    worker.add_command,
    sync.add_command,
    scheduler.add_command,
    schedule.add_command,
    intake.add_command,
    dashboard.add_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="payroll-sync",
        description="Sync employees and absences from Simployer One to 24SevenOffice Lønn.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add_command in COMMANDS:
        add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.func
    try:
        return run(args)
    except SyncError as exc:
        # Configuration and credential problems: the reason names the setting to fix.
        return _refused(exc.reason)
    except redis.RedisError as exc:
        return _refused(f"Redis is not answering ({type(exc).__name__})")
    except (OSError, msgspec.DecodeError, ValueError) as exc:
        # A refused request, a missing or invalid data file, a port in use: what, not a
        # traceback.
        return _refused(str(exc))


def _refused(reason: str) -> int:
    print(f"payroll-sync: {reason}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

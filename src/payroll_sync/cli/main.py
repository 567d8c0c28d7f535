"""The `payroll-sync` command: each command's module adds its parser (`add_command`) and the
function that runs it (`set_defaults(func=...)`); errors that end a command become exit codes
here, in one place.

Exit codes (cli/exit_codes.py): 0 success, 1 the work itself failed, 2 a person must fix
something (usage, settings, a refused request), 75 try again later (an API kept failing, Redis is
not answering). With `--json` a command that fails prints one object: `{"error", "code"}`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable, Sequence
from typing import Final

import msgspec

from payroll_sync.cli import (
    check_config,
    dashboard,
    demo,
    intake,
    registry,
    schedule,
    scheduler,
    simulate,
    status,
    sync,
    worker,
)
from payroll_sync.cli.arguments import Commands
from payroll_sync.cli.exit_codes import EXIT_USAGE, USAGE, Failure, failure_of

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
    registry.add_command,
    status.add_command,
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
    given = list(sys.argv[1:] if argv is None else argv)
    # Known before parsing: a command line too wrong to parse still gets its one JSON object.
    as_json = "--json" in given
    args = _parse_json(given) if as_json else build_parser().parse_args(given)
    if args is None:
        return EXIT_USAGE
    run: Callable[[argparse.Namespace], int] = args.func
    try:
        return run(args)
    except Exception as exc:
        failure = failure_of(exc)
        if failure is None:
            if as_json:
                # A bug: still one JSON object on stdout; the traceback goes to stderr.
                _print_failure(Failure("internal_error", EXIT_USAGE, type(exc).__name__))
            raise
        if as_json:
            return _print_failure(failure)
        print(f"payroll-sync: {failure.reason}", file=sys.stderr)
        return failure.exit_code


def _parse_json(given: list[str]) -> argparse.Namespace | None:
    """The arguments; for a wrong command line, argparse's message as the one JSON object
    (and None). argparse writes its usage and message to stderr and exits 2: both are caught."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return build_parser().parse_args(given)
    except SystemExit as stop:
        if stop.code == 0:  # --help, printed on stdout
            raise
        lines = said.getvalue().strip().splitlines()
        _print_failure(Failure(USAGE, EXIT_USAGE, lines[-1] if lines else "invalid arguments"))
        return None


def _print_failure(failure: Failure) -> int:
    """The one JSON object `--json` promises, for a command that could not do its work."""
    print(msgspec.json.encode({"error": failure.reason, "code": failure.code}).decode())
    return failure.exit_code


if __name__ == "__main__":
    sys.exit(main())

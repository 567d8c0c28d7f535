"""`payroll-sync sync employees|absences`: queue a run of one integration now; with `--wait`,
follow it and print its outcomes.

Exit codes: 0 nothing failed, 1 records failed, 2 the request or the settings were wrong, 75 try
again later (cli/exit_codes.py); with `--json`, stdout holds exactly one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from collections.abc import Sequence
from typing import Final, TextIO

import msgspec
import redis.asyncio as aioredis

from payroll_sync import config
from payroll_sync.catalog import LiveCatalog
from payroll_sync.cli.arguments import Commands, absence_codes, employee_numbers, iso_date
from payroll_sync.cli.exit_codes import EXIT_FAILED, EXIT_OK
from payroll_sync.errors import RequestRefused, reword
from payroll_sync.logs import configure_logging
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.public import run_with_records
from payroll_sync.runs.store import RunStore
from payroll_sync.runs.summary import run_summary
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome, Run
from payroll_sync.schemas.words import SCHEMA_WORDING

POLL_SECONDS: Final = 0.5


def add_command(commands: Commands) -> None:
    sync = commands.add_parser("sync", help="sync one integration now")
    kinds = sync.add_subparsers(dest="kind", required=True)
    employees = _add_kind(kinds, "employees", "sync the integration's employees")
    absences = _add_kind(
        kinds, "absences", "export the integration's absences in a period to 24SevenOffice"
    )
    absences.add_argument(
        "--from", dest="period_from", type=iso_date, required=True, metavar="YYYY-MM-DD",
        help="first day",
    )  # fmt: skip
    absences.add_argument(
        "--to", dest="period_to", type=iso_date, required=True, metavar="YYYY-MM-DD",
        help="last day (included)",
    )  # fmt: skip
    absences.add_argument(
        "--codes",
        type=absence_codes,
        metavar="01,04",
        help="only these 24SevenOffice absence codes (default: the integration's setting)",
    )
    for kind in (employees, absences):
        kind.add_argument("--dry-run", action="store_true", help="everything but the writes")
        kind.add_argument("--wait", action="store_true", help="wait for the run to finish")
        kind.add_argument("--json", action="store_true", help="print the result as JSON")
    sync.set_defaults(func=run_sync_command)


def _add_kind(kinds: Commands, kind: str, description: str) -> argparse.ArgumentParser:
    parser = kinds.add_parser(kind, help=description)
    parser.add_argument("--integration", required=True, metavar="ID")
    parser.add_argument(
        "--employees", type=employee_numbers, metavar="12,40", help="only these employees"
    )
    return parser


def run_sync_command(args: argparse.Namespace) -> int:
    # Events go to stderr as JSON lines; stdout carries only the result (maybe JSON).
    configure_logging()
    return asyncio.run(run_sync(args))


def request_from_args(args: argparse.Namespace) -> SyncRequest:
    """The request the command line asks for; `RequestRefused` saying what is wrong."""
    body: dict[str, object] = {
        "integration": args.integration,
        "kind": args.kind,
        "employees": args.employees,
        "dry_run": args.dry_run,
    }
    if args.kind == "absences":
        body["period"] = {"from": args.period_from, "to": args.period_to}
        body["codes"] = args.codes
    try:
        return msgspec.convert(body, SyncRequest)
    except msgspec.ValidationError as error:
        raise RequestRefused(f"invalid request: {reword(str(error), _OPTIONS)}") from None


# msgspec names the request's fields; on the command line the options are what the user typed.
_OPTION_OF: Final = {
    "integration": "--integration",
    "employees": "--employees",
    "codes": "--codes",
    "period": "--from/--to",
    "period.from": "--from",
    "period.to": "--to",
}
_OPTIONS: Final = dataclasses.replace(
    SCHEMA_WORDING,
    name=lambda parts: _OPTION_OF.get(".".join(p for p in parts if not p.isdigit()), "request"),
)


#: Said of a run the mass-change brake holds (docs/brake.md).
HELD_NOTE: Final = (
    "held by the mass-change brake (awaiting_approval): nothing was written; approve or "
    "cancel it in the dashboard or with POST /api/v1/runs/<run_id>/approve|cancel"
)


async def run_sync(args: argparse.Namespace) -> int:
    env = config.environment()
    catalog = await LiveCatalog.open(env)
    request = request_from_args(args)
    redis = aioredis.Redis.from_url(env.redis_url)
    try:
        producer = Producer(redis, env.prefix, tokens=catalog)
        store = producer.store
        expansion = await producer.submit(request, catalog.settings)
        if not args.wait:
            note = " (joined the run in progress)" if expansion.joined else ""
            if args.json:
                print(msgspec.json.encode({"run_id": expansion.run_id}).decode())
            else:
                noun = "leaves" if request.kind == "absences" else "employees"
                if expansion.held:
                    print(f"run {expansion.run_id}: {HELD_NOTE}")
                else:
                    print(f"run {expansion.run_id}: {expansion.enqueued} {noun} queued{note}")
            return EXIT_OK
        run = await wait_for_run(
            store, expansion.run_id, progress=None if args.json else sys.stderr
        )
        outcomes = await store.outcomes(expansion.run_id)
    finally:
        await redis.aclose()
        await catalog.close()
    if args.json:
        print(run_json(run, outcomes))
    else:
        print(run_summary(run, outcomes))
    if run.status == "awaiting_approval":
        # Nothing was written, and nothing will be until a person decides.
        print(f"run {run.id}: {HELD_NOTE}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if run.counts.get("failed", 0) else EXIT_OK


async def wait_for_run(store: RunStore, run_id: str, *, progress: TextIO | None) -> Run:
    def show(run: Run) -> None:
        if progress is not None:
            progress.write("\r" + progress_bar(run.finished, run.total))
            progress.flush()

    try:
        run = await store.wait_done(run_id, poll_seconds=POLL_SECONDS, on_poll=show)
    except LookupError as missing:
        raise RequestRefused(str(missing)) from None
    if progress is not None:
        progress.write("\n")
    return run


def progress_bar(done: int, total: int, width: int = 30) -> str:
    share = done / total if total else 1.0
    filled = round(share * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def run_json(run: Run, outcomes: Sequence[RecordOutcome]) -> str:
    return msgspec.json.encode(run_with_records(run, outcomes)).decode()

"""The sync commands of `payroll-sync`: worker, sync employees, check-config.

Exit codes: 0 nothing failed, 1 records failed (or a connection check failed), 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime
import os
import sys
from collections.abc import Sequence
from typing import Final, TextIO

import aiohttp
import msgspec
import redis.asyncio as aioredis

from payroll_sync import config
from payroll_sync.cli.exit_codes import EXIT_FAILED, EXIT_OK
from payroll_sync.connectors.clients import integration_clients
from payroll_sync.errors import RequestRefused, SyncError, reword
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.public import run_with_records
from payroll_sync.runs.store import RunStore
from payroll_sync.runs.summary import format_table, run_summary
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.outcomes import RecordOutcome, Run
from payroll_sync.schemas.words import SCHEMA_WORDING

POLL_SECONDS: Final = 0.5


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def _employee_numbers(text: str) -> list[str]:
    numbers = [part.strip() for part in text.split(",") if part.strip()]
    if not numbers:
        raise argparse.ArgumentTypeError("give employee numbers separated by commas, e.g. 12,40")
    return numbers


def _date(text: str) -> str:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None
    return text


def _absence_codes(text: str) -> list[str]:
    codes = [part.strip() for part in text.split(",") if part.strip()]
    if not codes:
        raise argparse.ArgumentTypeError("give absence codes separated by commas, e.g. 01,04")
    return codes


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="everything but the writes")
    parser.add_argument("--wait", action="store_true", help="wait for the run to finish")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


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


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = commands.add_parser("worker", help="run Dramatiq workers that sync records")
    worker.add_argument("--processes", type=_positive_int, default=os.cpu_count() or 1)
    worker.add_argument("--threads", type=_positive_int, default=8)

    sync = commands.add_parser("sync", help="sync one integration now")
    kinds = sync.add_subparsers(dest="kind", required=True)
    employees = kinds.add_parser("employees", help="sync the integration's employees")
    employees.add_argument("--integration", required=True, metavar="ID")
    employees.add_argument(
        "--employees", type=_employee_numbers, metavar="12,40", help="only these employees"
    )
    _add_run_options(employees)

    absences = kinds.add_parser(
        "absences", help="export the integration's absences in a period to 24SevenOffice"
    )
    absences.add_argument("--integration", required=True, metavar="ID")
    absences.add_argument(
        "--from", dest="period_from", type=_date, required=True, metavar="YYYY-MM-DD",
        help="first day",
    )  # fmt: skip
    absences.add_argument(
        "--to", dest="period_to", type=_date, required=True, metavar="YYYY-MM-DD",
        help="last day (included)",
    )  # fmt: skip
    absences.add_argument(
        "--employees", type=_employee_numbers, metavar="12,40", help="only these employees"
    )
    absences.add_argument(
        "--codes",
        type=_absence_codes,
        metavar="01,04",
        help="only these 24SevenOffice absence codes (default: the integration's setting)",
    )
    _add_run_options(absences)

    commands.add_parser("check-config", help="test both connections of every integration")


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


async def run_sync(args: argparse.Namespace, *, out: TextIO = sys.stdout) -> int:
    env = config.environment()
    settings = config.load_settings(env.config_path)
    request = request_from_args(args)
    redis = aioredis.Redis.from_url(env.redis_url)
    try:
        producer = Producer(redis, env.prefix)
        store = producer.store
        expansion = await producer.submit(request, settings)
        if not args.wait:
            note = " (joined the run in progress)" if expansion.joined else ""
            if args.json:
                print(msgspec.json.encode({"run_id": expansion.run_id}).decode(), file=out)
            else:
                noun = "leaves" if request.kind == "absences" else "employees"
                print(
                    f"run {expansion.run_id}: {expansion.enqueued} {noun} queued{note}",
                    file=out,
                )
            return EXIT_OK
        run = await wait_for_run(
            store, expansion.run_id, progress=None if args.json else sys.stderr
        )
        outcomes = await store.outcomes(expansion.run_id)
    finally:
        await redis.aclose()
    if args.json:
        print(run_json(run, outcomes), file=out)
    else:
        print(run_summary(run, outcomes), file=out)
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


async def run_check_config(*, out: TextIO = sys.stdout) -> int:
    env = config.environment()
    settings = config.load_settings(env.config_path)
    if not settings.integrations:
        raise RequestRefused(f"{env.config_path}: no integrations configured")
    rows: list[list[str]] = []
    healthy = True
    timeout = aiohttp.ClientTimeout(total=settings.worker.request_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for name, chosen in sorted(settings.integrations.items()):
            try:
                tokens = config.credentials(chosen)
            except SyncError as error:
                rows.append([name, error.reason, error.reason])
                healthy = False
                continue
            clients = integration_clients(session, chosen, tokens, timeout=timeout)
            results = await asyncio.gather(
                clients.simployer.check(), clients.payroll.check(), return_exceptions=True
            )
            cells = []
            for result in results:
                if isinstance(result, SyncError):
                    cells.append(f"FAILED: {result.reason}")
                    healthy = False
                elif isinstance(result, BaseException):
                    cells.append(f"FAILED: {type(result).__name__}")
                    healthy = False
                else:
                    cells.append("ok")
            rows.append([name, *cells])
    print(format_table(["integration", "Simployer One", "24SevenOffice"], rows), file=out)
    return EXIT_OK if healthy else EXIT_FAILED

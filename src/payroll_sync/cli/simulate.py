"""`payroll-sync simulate`: serve the two simulators until stopped (the local stack, loaded only
when this command runs)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from payroll_sync.assumptions import (
    PAYROLL_POST_ANSWER,
    PAYROLL_POST_ANSWERS,
    PAYROLL_RATE_LIMIT_PER_SECOND,
    PAYROLL_UPDATE_MODE,
    PAYROLL_UPDATE_MODES,
)
from payroll_sync.cli.arguments import Commands, non_negative, port, positive, share
from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.cli.serving import stop_on_signals

if TYPE_CHECKING:
    from payroll_sync.simulators.serve import SimulatorOptions


def add_command(commands: Commands) -> None:
    sim = commands.add_parser(
        "simulate",
        help="serve simulators of Simployer One and 24SevenOffice Lønn until stopped",
    )
    sim.add_argument("--employees", type=positive, default=200, help="generated company size")
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
    sim.add_argument("--simployer-port", type=port, default=8081)
    sim.add_argument("--payroll-port", type=port, default=8082)
    sim.add_argument("--simployer-token", default="simployer-demo-token")
    sim.add_argument("--payroll-token", default="payroll-demo-token")
    sim.add_argument(
        "--rate-limit",
        type=non_negative,
        default=PAYROLL_RATE_LIMIT_PER_SECOND,
        metavar="PER_SECOND",
        help="24SevenOffice requests per second per token (0 = unlimited; burst = 2x)",
    )
    sim.add_argument(
        "--simployer-rate-limit",
        type=non_negative,
        metavar="PER_SECOND",
        help="Simployer One requests per second per token (default: see assumptions.py)",
    )
    sim.add_argument("--token-ttl", type=non_negative, help="24SevenOffice token lifetime, s")
    sim.add_argument("--latency-ms", type=non_negative, default=0.0, help="added to each call")
    sim.add_argument("--error-rate", type=share, default=0.0, help="share answered 500/503")
    sim.add_argument("--drop-rate", type=share, default=0.0, help="share of dropped connections")
    sim.add_argument(
        "--timeout-rate", type=share, default=0.0, help="share of calls that hang, then drop"
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
    sim.set_defaults(func=lambda args: asyncio.run(simulate(args)))


def _simulator_options(args: argparse.Namespace) -> SimulatorOptions:
    from payroll_sync.simulators.serve import SimulatorOptions

    burst = max(1, round(2 * args.rate_limit))
    extra: dict[str, object] = {}
    if args.simployer_rate_limit is not None:
        extra["simployer_rate_limit_per_second"] = args.simployer_rate_limit
        extra["simployer_rate_limit_burst"] = max(1, round(2 * args.simployer_rate_limit))
    if args.token_ttl is not None:
        extra["token_ttl_seconds"] = args.token_ttl
    return SimulatorOptions(
        employees=args.employees,
        seed=args.seed,
        simployer_data=args.simployer_data,
        payroll_data=args.payroll_data,
        host=args.host,
        simployer_port=args.simployer_port,
        payroll_port=args.payroll_port,
        simployer_token=args.simployer_token,
        payroll_token=args.payroll_token,
        rate_limit_per_second=args.rate_limit,
        rate_limit_burst=burst,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        timeout_rate=args.timeout_rate,
        leave_facts=args.leave_facts,
        payroll_post_answer=args.payroll_post_answer,
        payroll_update_mode=args.payroll_update_mode,
        **extra,  # type: ignore[arg-type]
    )


async def simulate(args: argparse.Namespace) -> int:
    from payroll_sync.simulators.serve import start_simulators

    running = await start_simulators(_simulator_options(args))
    print(f"Simployer One    {running.simployer_url}  token {running.simployer_token}")
    print(f"24SevenOffice    {running.payroll_url}  token {running.payroll_token}")
    print(f"admin            {running.simployer_admin}/  {running.payroll_admin}/")
    print("Serving until stopped (Ctrl-C).", flush=True)
    await stop_on_signals().wait()
    await running.close()
    return EXIT_OK

"""`payroll-sync simulate`: serve the two simulators until stopped (the local stack, loaded only
for this command)."""

from __future__ import annotations

import argparse
import asyncio
import signal

from payroll_sync.cli.exit_codes import EXIT_OK
from payroll_sync.simulators.serve import SimulatorOptions, start_simulators


def _simulator_options(args: argparse.Namespace) -> SimulatorOptions:
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
    running = await start_simulators(_simulator_options(args))
    print(f"Simployer One    {running.simployer_url}  token {running.simployer_token}")
    print(f"24SevenOffice    {running.payroll_url}  token {running.payroll_token}")
    print(f"admin            {running.simployer_admin}/  {running.payroll_admin}/")
    print("Serving until stopped (Ctrl-C).", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.close()
    return EXIT_OK

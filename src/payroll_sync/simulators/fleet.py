"""Many simulated companies in one process: the wave benchmark's counterpart of `simulate`.

Each company is a pair of simulators as `serve.start_simulators` starts them, on ports of its
own (the port range is whatever the OS hands out): its own generated data (seed = the fleet's
seed + its index), its own tokens and its own 24SevenOffice rate limit (burst twice the rate,
as `payroll-sync simulate` sets it). One more port serves the fleet's admin routes:

- `GET /fleet` — the manifest: every company's URLs, tokens, size and rate limit;
- `GET /fleet/requests`, `DELETE /fleet/requests` — per company: 24SevenOffice requests (by
  status, with the wall-clock times of the first and the last), Simployer One requests;
- `PATCH /fleet/settings` — one `/_admin/settings` patch (faults, latency ...) for both
  simulators of every company.

    python -m payroll_sync.simulators.fleet --mix 45x50@5,5x500@50 --manifest fleet.json

writes the manifest to the file once every port listens, prints one line, and serves until
SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from aiohttp import web

from payroll_sync.simulators import payroll, simployer
from payroll_sync.simulators.admin import json_response
from payroll_sync.simulators.controls import ADMIN_PREFIX, Controls, RequestStats, SettingsPatch
from payroll_sync.simulators.serve import RunningSimulators, SimulatorOptions, start_simulators

#: One group of a mix: `45x50@5` = 45 companies of 50 employees, 5 requests/s each.
_GROUP = re.compile(r"^(?P<count>\d+)x(?P<employees>\d+)@(?P<rate>\d+(\.\d+)?)$")


class CompanyGroup(msgspec.Struct, frozen=True, kw_only=True):
    count: int
    employees: int
    rate_limit_per_second: float


def parse_mix(text: str) -> list[CompanyGroup]:
    """`45x50@5,5x500@50` -> two groups; ValueError saying which part is wrong."""
    groups: list[CompanyGroup] = []
    for part in (p.strip() for p in text.split(",")):
        match = _GROUP.match(part)
        if match is None:
            raise ValueError(f"mix part {part!r} is not COUNTxEMPLOYEES@RATE (e.g. 45x50@5)")
        group = CompanyGroup(
            count=int(match["count"]),
            employees=int(match["employees"]),
            rate_limit_per_second=float(match["rate"]),
        )
        if group.count < 1 or group.employees < 1 or group.rate_limit_per_second <= 0:
            raise ValueError(f"mix part {part!r}: count, employees and rate must be above 0")
        groups.append(group)
    return groups


class FleetCompany(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    employees: int
    rate_limit_per_second: float
    simployer_url: str
    payroll_url: str
    simployer_token: str
    payroll_token: str


class FleetManifest(msgspec.Struct, frozen=True, kw_only=True):
    admin_url: str
    pid: int
    companies: list[FleetCompany]


class CompanyRequests(msgspec.Struct, kw_only=True):
    """One company's API requests since the last reset (admin routes not counted)."""

    name: str
    payroll: int = 0
    payroll_writes: int = 0
    payroll_by_status: dict[str, int] = msgspec.field(default_factory=dict)
    # Wall-clock (time.time()) arrival of the first and the last 24SevenOffice request; 0 = none.
    payroll_first_at: float = 0.0
    payroll_last_at: float = 0.0
    simployer: int = 0


@dataclass
class RequestClock:
    """When an app's API requests arrived: the first, the last, how many (outermost, so
    before the simulator's latency and rate limit)."""

    count: int = 0
    first_at: float = 0.0
    last_at: float = 0.0

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        @web.middleware
        async def clock(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            if not request.path.startswith(ADMIN_PREFIX):
                now = time.time()
                self.first_at = self.first_at or now
                self.last_at = now
                self.count += 1
            return await handler(request)

        return clock


@dataclass
class FleetMember:
    company: FleetCompany
    running: RunningSimulators
    payroll_clock: RequestClock

    def requests(self) -> CompanyRequests:
        stats = payroll.controls_of(self.running.payroll_app).stats
        report = stats.report(with_log=False)
        return CompanyRequests(
            name=self.company.name,
            payroll=self.payroll_clock.count,
            payroll_writes=int(report["writes"]),  # type: ignore[call-overload]
            payroll_by_status=dict(stats.by_status),
            payroll_first_at=self.payroll_clock.first_at,
            payroll_last_at=self.payroll_clock.last_at,
            simployer=sum(
                simployer.controls_of(self.running.simployer_app).stats.by_route.values()
            ),
        )

    def reset(self) -> None:
        self.payroll_clock = _reset_clock(self.payroll_clock)
        for controls in self._controls():
            controls.stats = RequestStats()

    def update(self, patch: SettingsPatch) -> None:
        for controls in self._controls():
            controls.update(patch)

    def _controls(self) -> list[Controls]:
        return [
            simployer.controls_of(self.running.simployer_app),
            payroll.controls_of(self.running.payroll_app),
        ]


def _reset_clock(clock: RequestClock) -> RequestClock:
    # The middleware holds the object: reset it in place.
    clock.count, clock.first_at, clock.last_at = 0, 0.0, 0.0
    return clock


@dataclass(frozen=True)
class FleetOptions:
    groups: Sequence[CompanyGroup]
    seed: int = 1
    host: str = "127.0.0.1"
    admin_port: int = 0
    latency_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    timeout_rate: float = 0.0
    simployer_rate_limit_per_second: float = 0.0  # 0 = none: the wave is about 24SevenOffice


@dataclass
class RunningFleet:
    members: list[FleetMember]
    admin_url: str
    runners: list[web.AppRunner] = field(default_factory=list)

    def manifest(self) -> FleetManifest:
        return FleetManifest(
            admin_url=self.admin_url,
            pid=os.getpid(),
            companies=[member.company for member in self.members],
        )

    async def close(self) -> None:
        for member in self.members:
            await member.running.close()
        for runner in self.runners:
            await runner.cleanup()


def company_names(count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"c{index:0{width}d}" for index in range(1, count + 1)]


async def _start_member(
    options: FleetOptions, name: str, index: int, group: CompanyGroup
) -> FleetMember:
    clock = RequestClock()

    def prepare(_: web.Application, payroll_app: web.Application) -> None:
        payroll_app.middlewares.insert(0, clock.middleware())

    sim_options = SimulatorOptions(
        employees=group.employees,
        seed=options.seed + index,
        host=options.host,
        simployer_token=f"{name}-simployer-{secrets.token_urlsafe(12)}",
        payroll_token=f"{name}-payroll-{secrets.token_urlsafe(12)}",
        rate_limit_per_second=group.rate_limit_per_second,
        rate_limit_burst=max(1, round(2 * group.rate_limit_per_second)),
        simployer_rate_limit_per_second=options.simployer_rate_limit_per_second,
        simployer_rate_limit_burst=max(1, round(2 * options.simployer_rate_limit_per_second)),
        latency_ms=options.latency_ms,
        error_rate=options.error_rate,
        drop_rate=options.drop_rate,
        timeout_rate=options.timeout_rate,
    )
    running = await start_simulators(sim_options, prepare=prepare)
    company = FleetCompany(
        name=name,
        employees=group.employees,
        rate_limit_per_second=group.rate_limit_per_second,
        simployer_url=running.simployer_url,
        payroll_url=running.payroll_url,
        simployer_token=running.simployer_token,
        payroll_token=running.payroll_token,
    )
    return FleetMember(company=company, running=running, payroll_clock=clock)


_patch_decoder = msgspec.json.Decoder(SettingsPatch)


def fleet_admin_app(fleet: RunningFleet) -> web.Application:
    async def manifest(_: web.Request) -> web.Response:
        return json_response(fleet.manifest())

    async def requests(_: web.Request) -> web.Response:
        return json_response([member.requests() for member in fleet.members])

    async def reset(_: web.Request) -> web.Response:
        for member in fleet.members:
            member.reset()
        return web.Response(status=204)

    async def settings(request: web.Request) -> web.Response:
        try:
            patch = _patch_decoder.decode(await request.read())
            for member in fleet.members:
                member.update(patch)
        except (msgspec.DecodeError, ValueError) as exc:
            return json_response({"error": "Bad Request", "message": str(exc)}, status=400)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/fleet", manifest)
    app.router.add_get("/fleet/requests", requests)
    app.router.add_delete("/fleet/requests", reset)
    app.router.add_patch("/fleet/settings", settings)
    return app


async def start_fleet(options: FleetOptions) -> RunningFleet:
    total = sum(group.count for group in options.groups)
    names = iter(company_names(total))
    members: list[FleetMember] = []
    fleet = RunningFleet(members=members, admin_url="")
    try:
        for group in options.groups:
            for _ in range(group.count):
                members.append(await _start_member(options, next(names), len(members), group))
        runner = web.AppRunner(fleet_admin_app(fleet), access_log=None)
        await runner.setup()
        fleet.runners.append(runner)
        await web.TCPSite(runner, options.host, options.admin_port).start()
    except BaseException:
        await fleet.close()
        raise
    fleet.admin_url = f"http://{options.host}:{runner.addresses[0][1]}"
    return fleet


# ------------------------------------------------------------------ the process


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m payroll_sync.simulators.fleet",
        description="Serve many simulated companies from one process until stopped.",
    )
    parser.add_argument(
        "--mix",
        required=True,
        help="groups COUNTxEMPLOYEES@RATE, comma-separated (e.g. 45x50@5,5x500@50)",
    )
    parser.add_argument("--seed", type=int, default=1, help="company i gets seed + i")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--admin-port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to each call")
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument(
        "--simployer-rate-limit", type=float, default=0.0, help="per token per s (0 = none)"
    )
    parser.add_argument("--manifest", type=Path, help="write the manifest (JSON) here when ready")
    args = parser.parse_args(argv)
    try:
        args.groups = parse_mix(args.mix)
    except ValueError as exc:
        parser.error(str(exc))
    return args


async def _serve(args: argparse.Namespace) -> None:
    fleet = await start_fleet(
        FleetOptions(
            groups=args.groups,
            seed=args.seed,
            host=args.host,
            admin_port=args.admin_port,
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            timeout_rate=args.timeout_rate,
            simployer_rate_limit_per_second=args.simployer_rate_limit,
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        if args.manifest is not None:
            # Written whole, then renamed: a reader never sees half a file.
            partial = args.manifest.with_name(args.manifest.name + ".partial")
            partial.write_bytes(msgspec.json.encode(fleet.manifest()))
            partial.replace(args.manifest)
        print(f"fleet of {len(fleet.members)} companies; admin {fleet.admin_url}/fleet", flush=True)
        await stop.wait()
    finally:
        await fleet.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

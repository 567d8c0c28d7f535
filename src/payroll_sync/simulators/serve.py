"""Start both simulators on real sockets: in the current event loop or in a thread of their own.

The thread form serves tests, the demo and the benchmarks, whose own code may block (a
subprocess, a Dramatiq worker) while the simulators must keep answering.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
from aiohttp import web

from payroll_sync.assumptions import (
    PAYROLL_POST_ANSWER,
    PAYROLL_RATE_LIMIT_BURST,
    PAYROLL_RATE_LIMIT_PER_SECOND,
    PAYROLL_TOKEN_TTL_SECONDS,
    PAYROLL_UPDATE_MODE,
    SIMPLOYER_RATE_LIMIT_BURST,
    SIMPLOYER_RATE_LIMIT_PER_SECOND,
)
from payroll_sync.schemas import payroll as payroll_schema
from payroll_sync.simulators import payroll, simployer
from payroll_sync.simulators.controls import PostAnswer, SettingsPatch, UpdateMode
from payroll_sync.simulators.generator import company_rows, generate_company
from payroll_sync.simulators.payroll_store import default_absence_types


@dataclass(frozen=True)
class SimulatorOptions:
    employees: int = 200
    seed: int = 1
    simployer_data: Path | None = None
    payroll_data: Path | None = None
    host: str = "127.0.0.1"
    simployer_port: int = 0  # 0 = any free port
    payroll_port: int = 0
    simployer_token: str = "simployer-demo-token"
    payroll_token: str = "payroll-demo-token"
    rate_limit_per_second: float = PAYROLL_RATE_LIMIT_PER_SECOND
    rate_limit_burst: int = PAYROLL_RATE_LIMIT_BURST
    simployer_rate_limit_per_second: float = SIMPLOYER_RATE_LIMIT_PER_SECOND
    simployer_rate_limit_burst: int = SIMPLOYER_RATE_LIMIT_BURST
    token_ttl_seconds: float = PAYROLL_TOKEN_TTL_SECONDS
    latency_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    timeout_rate: float = 0.0
    # Generated leaves also carry `childId` and `gradePercentage`, which the published API
    # does not have (the sync uses them when present).
    leave_facts: bool = False
    # 24SevenOffice only: the body of a successful POST and how an update applies
    # (assumptions.PAYROLL_POST_ANSWER, PAYROLL_UPDATE_MODE).
    payroll_post_answer: PostAnswer = PAYROLL_POST_ANSWER
    payroll_update_mode: UpdateMode = PAYROLL_UPDATE_MODE


@dataclass
class RunningSimulators:
    simployer_url: str  # API base, e.g. http://127.0.0.1:8081/v1
    payroll_url: str  # API base, e.g. http://127.0.0.1:8082/api
    simployer_token: str
    payroll_token: str
    simployer_app: web.Application
    payroll_app: web.Application
    runners: list[web.AppRunner] = field(default_factory=list)

    @property
    def simployer_admin(self) -> str:
        return self.simployer_url.removesuffix(simployer.API_PREFIX) + "/_admin"

    @property
    def payroll_admin(self) -> str:
        return self.payroll_url.removesuffix(payroll.API_PREFIX) + "/_admin"

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


def load_simployer_tables(options: SimulatorOptions) -> dict[str, object]:
    """The company's rows in the API's own format: the data file's, else a generated one."""
    if options.simployer_data is not None:
        tables: dict[str, object] = msgspec.json.decode(options.simployer_data.read_bytes())
        return tables
    company = generate_company(options.employees, options.seed)
    return company_rows(company, leave_facts=options.leave_facts)


def load_payroll_dataset(options: SimulatorOptions) -> payroll_schema.Dataset:
    if options.payroll_data is None:
        return payroll_schema.Dataset(absencetypes=default_absence_types())
    dataset = msgspec.json.decode(options.payroll_data.read_bytes(), type=payroll_schema.Dataset)
    if not dataset.absencetypes:  # a company always has the default types
        dataset.absencetypes = default_absence_types()
    return dataset


async def _serve(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_port: int = runner.addresses[0][1]
    return runner, bound_port


def _faults(options: SimulatorOptions) -> SettingsPatch:
    return SettingsPatch(
        latency_ms=options.latency_ms,
        error_rate=options.error_rate,
        drop_rate=options.drop_rate,
        timeout_rate=options.timeout_rate,
    )


#: Called with (Simployer One app, 24SevenOffice app) before they are served, while their
#: middlewares and signals can still change (the fleet adds its request clock this way).
Prepare = Callable[[web.Application, web.Application], None]


async def start_simulators(
    options: SimulatorOptions, *, prepare: Prepare | None = None
) -> RunningSimulators:
    simployer_app = simployer.create_app(
        load_simployer_tables(options),
        tokens=[options.simployer_token],
        rate_limit_per_second=options.simployer_rate_limit_per_second,
        rate_limit_burst=options.simployer_rate_limit_burst,
        seed=options.seed,
    )
    payroll_app = payroll.create_app(
        load_payroll_dataset(options),
        tokens=[options.payroll_token],
        rate_limit_per_second=options.rate_limit_per_second,
        rate_limit_burst=options.rate_limit_burst,
        token_ttl_seconds=options.token_ttl_seconds,
        post_answer=options.payroll_post_answer,
        update_mode=options.payroll_update_mode,
        seed=options.seed + 1,
    )
    for controls in (simployer.controls_of(simployer_app), payroll.controls_of(payroll_app)):
        controls.update(_faults(options))
    if prepare is not None:
        prepare(simployer_app, payroll_app)
    s_runner, s_port = await _serve(simployer_app, options.host, options.simployer_port)
    p_runner, p_port = await _serve(payroll_app, options.host, options.payroll_port)
    return RunningSimulators(
        simployer_url=f"http://{options.host}:{s_port}{simployer.API_PREFIX}",
        payroll_url=f"http://{options.host}:{p_port}{payroll.API_PREFIX}",
        simployer_token=options.simployer_token,
        payroll_token=options.payroll_token,
        simployer_app=simployer_app,
        payroll_app=payroll_app,
        runners=[s_runner, p_runner],
    )


class SimulatorThread:
    """Both simulators in a daemon thread with its own event loop; a context manager."""

    def __init__(self, options: SimulatorOptions) -> None:
        self.options = options
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.running: RunningSimulators | None = None

    def __enter__(self) -> RunningSimulators:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(start_simulators(self.options), self.loop)
        self.running = future.result(timeout=60)
        return self.running

    def __exit__(self, *exc: object) -> None:
        if self.running is not None:
            asyncio.run_coroutine_threadsafe(self.running.close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.loop.close()

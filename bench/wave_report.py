"""The wave benchmark's figures, and the tables it prints (pure: no I/O but print)."""

from __future__ import annotations

import msgspec

#: The whole wave's bound is this times the slowest integration's (issue 14: room for the
#: bulk reads and the start of the wave).
WHOLE_BOUND_FACTOR = 1.2


class IntegrationFigures(msgspec.Struct, kw_only=True):
    name: str
    rate_limit_per_second: float
    records: int = 0  # in scope (the run's total)
    outcomes: dict[str, int] = msgspec.field(default_factory=dict)
    payroll_requests: int = 0
    throttled: int = 0  # answered 429 by the simulator
    # 24SevenOffice requests per second, from the integration's first request to its last.
    payroll_per_second: float = 0.0
    # Seconds from the start of the wave (the first submission).
    submitted_s: float = 0.0
    first_outcome_s: float = 0.0
    last_outcome_s: float = 0.0
    error: str = ""  # the submission's failure, when it failed

    @property
    def bound_s(self) -> float:
        """Its records at its rate: no integration can be done sooner."""
        return self.records / self.rate_limit_per_second


class WaveFigures(msgspec.Struct, kw_only=True):
    label: str
    integrations: list[IntegrationFigures]
    wall_s: float = 0.0  # first submission to last outcome
    submit_s: float = 0.0  # first submission to last submission returned
    records: int = 0
    outcomes: dict[str, int] = msgspec.field(default_factory=dict)
    cpu_s: dict[str, float] = msgspec.field(default_factory=dict)  # worker, producer, ...
    payroll_requests: int = 0
    simployer_requests: int = 0
    throttled: int = 0
    events: dict[str, int] = msgspec.field(default_factory=dict)  # record.deferred, ...
    redis_used_peak_sampled: int = 0
    redis_used_before: int = 0
    redis_peak_since_start: int = 0
    unfinished: list[str] = msgspec.field(default_factory=list)  # runs not done in time

    @property
    def bound_s(self) -> float:
        slowest = max((i.bound_s for i in self.integrations), default=0.0)
        return WHOLE_BOUND_FACTOR * slowest

    @property
    def request_bound_s(self) -> float:
        """The same from the 24SevenOffice requests actually made, not one per record (a
        first sync writes the employee and its employment: about 3 per record)."""
        slowest = max(
            (i.payroll_requests / i.rate_limit_per_second for i in self.integrations),
            default=0.0,
        )
        return WHOLE_BOUND_FACTOR * slowest

    @property
    def records_per_s(self) -> float:
        return self.records / self.wall_s if self.wall_s else 0.0

    def cpu_ms_per_record(self, part: str) -> float:
        return 1000 * self.cpu_s.get(part, 0.0) / max(1, self.records)

    def summary(self) -> dict[str, object]:
        """The figures as JSON-ready data (the derived ones included)."""
        out: dict[str, object] = msgspec.to_builtins(self)
        out["bound_s"] = round(self.bound_s, 2)
        out["request_bound_s"] = round(self.request_bound_s, 2)
        out["records_per_s"] = round(self.records_per_s, 2)
        out["wall_over_bound"] = round(self.wall_s / self.bound_s, 2) if self.bound_s else None
        out["payroll_requests_per_record"] = round(self.payroll_requests / max(1, self.records), 3)
        out["cpu_ms_per_record"] = {
            part: round(self.cpu_ms_per_record(part), 3) for part in self.cpu_s
        }
        for item, figures in zip(out["integrations"], self.integrations, strict=True):  # type: ignore[call-overload]
            item["bound_s"] = round(figures.bound_s, 2)
        return out


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def integration_rows(wave: WaveFigures) -> list[str]:
    head = (
        f"  {'integration':<11} {'records':>7} {'limit/s':>7} {'pay req/s':>9} {'/limit':>6} "
        f"{'pay req':>7} {'429s':>5} {'submit s':>8} {'first s':>7} {'last s':>7} "
        f"{'bound s':>7} {'last/bound':>10}  outcomes"
    )
    rows = [head]
    for i in wave.integrations:
        if i.error:
            rows.append(f"  {i.name:<11} submission failed: {i.error}")
            continue
        share = i.payroll_per_second / i.rate_limit_per_second
        ratio = i.last_outcome_s / i.bound_s if i.bound_s else 0.0
        counts = ", ".join(f"{k} {v}" for k, v in sorted(i.outcomes.items()))
        rows.append(
            f"  {i.name:<11} {i.records:7d} {i.rate_limit_per_second:7g} "
            f"{i.payroll_per_second:9.2f} {share:6.2f} {i.payroll_requests:7d} "
            f"{i.throttled:5d} {i.submitted_s:8.1f} {i.first_outcome_s:7.1f} "
            f"{i.last_outcome_s:7.1f} {i.bound_s:7.1f} {ratio:10.2f}  {counts}"
        )
    return rows


def group_rows(wave: WaveFigures) -> list[str]:
    """The same per limit (a mix of 45 small and 5 large companies reads better this way)."""
    rows = [
        f"  {'limit/s':>7} {'n':>4} {'records':>8} {'pay req/s /limit (min-median-max)':>34} "
        f"{'first s (min-max)':>18} {'last s (min-max)':>17} {'bound s':>8}"
    ]
    rates = sorted({i.rate_limit_per_second for i in wave.integrations if not i.error})
    for rate in rates:
        group = [i for i in wave.integrations if i.rate_limit_per_second == rate and not i.error]
        shares = sorted(i.payroll_per_second / rate for i in group)
        firsts = [i.first_outcome_s for i in group]
        lasts = [i.last_outcome_s for i in group]
        records = sum(i.records for i in group)
        rows.append(
            f"  {rate:7g} {len(group):4d} {records:8d} "
            f"{shares[0]:>14.2f} {shares[len(shares) // 2]:6.2f} {shares[-1]:6.2f}      "
            f"{min(firsts):8.1f}-{max(firsts):<8.1f} {min(lasts):8.1f}-{max(lasts):<8.1f} "
            f"{max(i.bound_s for i in group):8.1f}"
        )
    return rows


def overall_rows(wave: WaveFigures) -> list[str]:
    per_record = wave.payroll_requests / max(1, wave.records)
    ratio = f"{wave.wall_s / wave.bound_s:.2f}x" if wave.bound_s else "-"
    cpu = ", ".join(
        f"{part} {wave.cpu_ms_per_record(part):.2f}"
        for part in ("worker", "producer", "redis", "simulators")
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(wave.outcomes.items()))
    events = ", ".join(f"{k} {v}" for k, v in sorted(wave.events.items()))
    rows = [
        f"  records {wave.records} in {wave.wall_s:.1f} s = {wave.records_per_s:.1f} records/s; "
        f"bound {wave.bound_s:.1f} s (1.2 x slowest integration); wall / bound {ratio}",
        f"  bound by the 24SevenOffice requests made: {wave.request_bound_s:.1f} s; "
        f"submissions done after {wave.submit_s:.1f} s",
        f"  outcomes: {counts}",
        f"  CPU ms per record: {cpu}",
        f"  24SevenOffice requests {wave.payroll_requests} = {per_record:.3f} per record "
        f"(429s {wave.throttled}); Simployer One requests {wave.simployer_requests}",
        f"  worker events: {events}",
        f"  Redis memory: {_mib(wave.redis_used_before)} before, "
        f"peak {_mib(wave.redis_used_peak_sampled)} sampled during the wave"
        + (
            f", {_mib(wave.redis_peak_since_start)} peak since the server started"
            if wave.redis_peak_since_start
            else ""
        ),
    ]
    if wave.unfinished:
        rows.append(
            f"  NOT DONE in time: {len(wave.unfinished)} runs "
            f"({', '.join(wave.unfinished[:5])} ...)"
        )
    return rows


def print_wave(wave: WaveFigures, *, per_integration: bool) -> None:
    print(f"\n== {wave.label}")
    if per_integration:
        print("\n".join(integration_rows(wave)))
    print("\nby rate limit:")
    print("\n".join(group_rows(wave)))
    print("\noverall:")
    print("\n".join(overall_rows(wave)), flush=True)


LEGEND = """\
pay req/s: the integration's 24SevenOffice requests (token exchange and bulk read included) per
second from its first to its last (a short run is mostly the bursts: ours one second's
worth, the simulator's two); /limit: that over its rate limit; submit s: when its
submission returned; first s / last s: its first and last record outcome; all seconds from the
wave's first submission. bound s: its records / its limit. CPU ms per record: worker (every
Dramatiq process), producer (this process while submitting), redis (the server's own CPU; with
--shared-redis INFO cpu, so every client of that server), simulators (the fleet process)."""

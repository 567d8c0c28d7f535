"""What both simulators share: fault injection, a per-token rate limit, request counts.

These are the knobs tests and benchmarks turn. `Controls` holds them; `control_middleware`
applies them to every API request (admin routes under `/_admin/` are exempt).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import msgspec
from aiohttp import web

from payroll_sync.assumptions import (
    PAYROLL_POST_ANSWER,
    PAYROLL_TOKEN_TTL_SECONDS,
    PAYROLL_UPDATE_MODE,
)

ADMIN_PREFIX = "/_admin/"
PostAnswer = Literal["empty", "array"]
UpdateMode = Literal["merge", "replace"]
#: Bounded: a long benchmark must not grow the simulator without limit.
REQUEST_LOG_SIZE = 20_000


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Run-time settings of one simulator (`GET`/`PATCH /_admin/settings`)."""

    tokens: list[str]
    rate_limit_per_second: float = 0.0  # 0 = no limit
    rate_limit_burst: int = 1
    latency_ms: float = 0.0
    error_rate: float = 0.0  # share of requests answered with one of error_statuses
    error_statuses: list[int] = msgspec.field(default_factory=lambda: [500, 503])
    drop_rate: float = 0.0  # share of connections closed without an answer
    timeout_rate: float = 0.0  # share of requests that hang for hang_seconds, then drop
    hang_seconds: float = 30.0
    #: Of the dropped and hung requests, the share whose work is done before the answer is
    #: lost (the client cannot tell whether its write happened).
    lost_after_handling_share: float = 0.5
    token_ttl_seconds: float = PAYROLL_TOKEN_TTL_SECONDS  # 24SevenOffice bearer tokens only
    # 24SevenOffice only (assumptions.py): the body of a successful POST, and whether an
    # update merges the fields sent or replaces the record.
    post_answer: PostAnswer = PAYROLL_POST_ANSWER
    update_mode: UpdateMode = PAYROLL_UPDATE_MODE


class SettingsPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    tokens: list[str] | None = None
    rate_limit_per_second: float | None = None
    rate_limit_burst: int | None = None
    latency_ms: float | None = None
    error_rate: float | None = None
    error_statuses: list[int] | None = None
    drop_rate: float | None = None
    timeout_rate: float | None = None
    hang_seconds: float | None = None
    lost_after_handling_share: float | None = None
    token_ttl_seconds: float | None = None
    post_answer: PostAnswer | None = None
    update_mode: UpdateMode | None = None


def apply_patch(settings: Settings, patch: SettingsPatch) -> Settings:
    """Return settings with every field the patch sets replaced; refuse nonsense values."""
    changes = {
        name: value
        for name in patch.__struct_fields__
        if (value := getattr(patch, name)) is not None
    }
    merged = msgspec.structs.replace(settings, **changes)
    for share in ("error_rate", "drop_rate", "timeout_rate", "lost_after_handling_share"):
        value = getattr(merged, share)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{share} must be between 0 and 1, got {value}")
    if merged.error_rate + merged.drop_rate + merged.timeout_rate > 1.0:
        raise ValueError("error_rate + drop_rate + timeout_rate must not exceed 1")
    if merged.rate_limit_per_second < 0 or merged.rate_limit_burst < 1:
        raise ValueError("rate_limit_per_second must be >= 0 and rate_limit_burst >= 1")
    if any(not 500 <= status <= 599 for status in merged.error_statuses):
        raise ValueError("error_statuses must be 5xx codes")
    if not merged.error_statuses:
        raise ValueError("error_statuses must not be empty")
    return merged


@dataclass
class TokenBucket:
    """Classic token bucket; `take` answers how long to wait (0 = allowed now)."""

    rate: float
    burst: int
    tokens: float = -1.0
    stamp: float = 0.0

    def take(self, now: float) -> float:
        if self.tokens < 0:
            self.tokens, self.stamp = float(self.burst), now
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def retry_after_header(wait_seconds: float) -> str:
    # HTTP delay-seconds are whole numbers; rounding down would invite an early retry.
    return str(max(1, math.ceil(wait_seconds)))


class RequestLogEntry(msgspec.Struct, kw_only=True):
    method: str
    route: str
    path: str
    status: str
    body: object = None


@dataclass
class RequestStats:
    by_route: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    by_route_status: Counter[str] = field(default_factory=Counter)
    log: deque[RequestLogEntry] = field(default_factory=lambda: deque(maxlen=REQUEST_LOG_SIZE))

    def record(self, entry: RequestLogEntry) -> None:
        route = f"{entry.method} {entry.route}"
        self.by_route[route] += 1
        self.by_status[entry.status] += 1
        self.by_route_status[f"{route} {entry.status}"] += 1
        self.log.append(entry)

    def report(self, with_log: bool) -> dict[str, object]:
        writes = sum(n for route, n in self.by_route.items() if not route.startswith("GET "))
        report: dict[str, object] = {
            "total": sum(self.by_route.values()),
            "writes": writes,
            "by_route": dict(self.by_route),
            "by_status": dict(self.by_status),
            "by_route_status": dict(self.by_route_status),
        }
        if with_log:
            report["log"] = list(self.log)
        return report


@dataclass
class Controls:
    """Mutable run-time state of one simulator's knobs."""

    settings: Settings
    api_prefix: str
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    stats: RequestStats = field(default_factory=RequestStats)

    @classmethod
    def start(cls, api_prefix: str, seed: int, settings: Settings) -> Controls:
        controls = cls(settings=apply_patch(settings, SettingsPatch()), api_prefix=api_prefix)
        controls.rng.seed(seed)
        return controls

    def update(self, patch: SettingsPatch) -> None:
        self.settings = apply_patch(self.settings, patch)
        self.buckets.clear()  # a new limit starts with full buckets

    def wait_for(self, key: str) -> float:
        if self.settings.rate_limit_per_second <= 0:
            return 0.0
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(
                self.settings.rate_limit_per_second, self.settings.rate_limit_burst
            )
        return bucket.take(time.monotonic())

    def draw_fault(self) -> str | None:
        """One draw per request: "error", "drop", "timeout" or None."""
        s = self.settings
        roll = self.rng.random()
        if roll < s.error_rate:
            return "error"
        if roll < s.error_rate + s.drop_rate:
            return "drop"
        if roll < s.error_rate + s.drop_rate + s.timeout_rate:
            return "timeout"
        return None


class RateLimited(Exception):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: Builds the API's own error answer: (status, message, extra headers) -> response.
ErrorResponder = Callable[[int, str, dict[str, str]], web.Response]
#: The rate-limit key of a request (its caller's token), or None when it has none.
RateKey = Callable[[web.Request], str | None]


def route_of(request: web.Request, api_prefix: str) -> str:
    info = request.match_info
    route = info.route.resource.canonical if info.route.resource is not None else "unmatched"
    return route.removeprefix(api_prefix) or "/"


async def _lose_answer(request: web.Request, hang_seconds: float | None) -> None:
    if hang_seconds is not None:
        await asyncio.sleep(hang_seconds)
    if request.transport is not None:
        request.transport.close()


def control_middleware(controls: Controls, rate_key: RateKey, respond: ErrorResponder) -> object:
    """Latency, rate limit, injected faults and request counting, in that order."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(ADMIN_PREFIX):
            return await handler(request)
        body = await _json_or_text(request) if request.method != "GET" else None
        entry = RequestLogEntry(
            method=request.method,
            route=route_of(request, controls.api_prefix),
            path=request.path,
            status="?",
            body=body,
        )
        try:
            response = await _controlled(controls, rate_key, respond, request, handler, entry)
            if entry.status == "?":  # else it holds the injected fault's name
                entry.status = str(response.status)
            return response
        except web.HTTPException as exc:
            entry.status = str(exc.status)
            raise
        finally:
            controls.stats.record(entry)

    return middleware


async def _controlled(
    controls: Controls,
    rate_key: RateKey,
    respond: ErrorResponder,
    request: web.Request,
    handler: Handler,
    entry: RequestLogEntry,
) -> web.StreamResponse:
    s = controls.settings
    if s.latency_ms > 0:
        await asyncio.sleep(s.latency_ms / 1000.0)
    key = rate_key(request)
    if key is not None:
        wait = controls.wait_for(key)
        if wait > 0:
            return respond(429, "Too many requests", {"Retry-After": retry_after_header(wait)})
    fault = controls.draw_fault()
    if fault == "error":
        status = controls.rng.choice(s.error_statuses)
        return respond(status, "Injected fault", {})
    if fault is None:
        return await handler(request)
    hang = s.hang_seconds if fault == "timeout" else None
    if controls.rng.random() < s.lost_after_handling_share:
        await handler(request)
    entry.status = fault
    await _lose_answer(request, hang)
    # The transport is closed, so this answer never leaves: the client sees the drop.
    return web.Response(status=499)


async def _json_or_text(request: web.Request) -> object:
    raw = await request.read()  # cached by aiohttp, so the handler can read it again
    if not raw:
        return None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return raw.decode("utf-8", "replace")

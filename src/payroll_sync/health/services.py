"""Asking a running service whether it is ready: its `/readyz`, as `payroll-sync status
--service URL` does.

The check is named by the URL without any `user:password@`; its reason is the service's own
failed checks (their reasons hold no address, checks.py) or the kind of fault reaching it.
"""

from __future__ import annotations

import time
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from payroll_sync.health.checks import CheckResult
from payroll_sync.health.routes import READYZ_PATH

#: The service's own checks take up to 1 s each, at once: this leaves room for them.
SERVICE_TIMEOUT_SECONDS: Final = 3.0


def readyz_url(url: str) -> str:
    """`url`'s `/readyz` (a base URL gets it appended; one ending in `/readyz` is kept)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {shown(url)!r}")
    path = parts.path.rstrip("/")
    if not path.endswith(READYZ_PATH):
        path += READYZ_PATH
    return urlunsplit(parts._replace(path=path, query="", fragment=""))


def shown(url: str) -> str:
    """`url` without the `user:password@` it may hold."""
    parts = urlsplit(url.strip())
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=host))


def service_reason(status: int, body: Any) -> str:
    """Why a service answering `status` with `body` (its `/readyz` JSON, or anything) is not
    ready: the reasons of its failed checks, else the status."""
    checks = body.get("checks") if isinstance(body, dict) else None
    failed = []
    if isinstance(checks, dict):
        for name, check in sorted(checks.items()):
            if isinstance(check, dict) and check.get("ok") is False:
                failed.append(str(check.get("reason") or name))
    if failed:
        return f"not ready (HTTP {status}): {'; '.join(failed)}"
    return f"not ready (HTTP {status})"


async def check_service(
    session: aiohttp.ClientSession, url: str, *, within: float = SERVICE_TIMEOUT_SECONDS
) -> CheckResult:
    """GET the service's `/readyz`: passed on 200."""
    name = shown(url)
    started = time.perf_counter()
    try:
        target = readyz_url(url)
        async with session.get(
            target, timeout=aiohttp.ClientTimeout(total=within), allow_redirects=False
        ) as answer:
            status = answer.status
            try:
                body: Any = await answer.json(content_type=None)
            except ValueError:
                body = None
    except TimeoutError:
        reason = f"no answer within {within:g} s"
        return CheckResult(name=name, ok=False, ms=_ms_since(started), reason=reason)
    except ValueError as error:
        return CheckResult(name=name, ok=False, ms=_ms_since(started), reason=str(error))
    except aiohttp.ClientError as error:
        reason = f"not answering ({type(error).__name__})"
        return CheckResult(name=name, ok=False, ms=_ms_since(started), reason=reason)
    ms = _ms_since(started)
    if status == 200:
        return CheckResult(name=name, ok=True, ms=ms)
    return CheckResult(name=name, ok=False, ms=ms, reason=service_reason(status, body))


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)

"""What the dashboard answers when Redis is down or the client has hung up.

- Redis not answering: 503 with `Retry-After`; a page that says so and reloads itself (so it
  shows the dashboard again once Redis is back), or for `/api/…` a JSON error. Nothing to
  reset: redis-py opens a new connection on the next request.
- The client hung up (aiohttp fails reading the form or writing the page with a
  ConnectionResetError): not an error of ours; `dashboard.client_gone`, and a response nobody
  receives instead of aiohttp's "Error handling request" and a 500.
"""

from __future__ import annotations

from typing import Final

import msgspec
import redis.asyncio as aioredis
import structlog
from aiohttp import web

from payroll_sync.dashboard.guard import Handler
from payroll_sync.dashboard.state import render

log = structlog.get_logger("payroll_sync.dashboard")

REDIS_DOWN: Final = "Redis is not answering"
RETRY_SECONDS: Final = 10
#: nginx's "client closed request".
CLIENT_GONE: Final = 499


@web.middleware
async def answer_trouble(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except aioredis.RedisError as error:
        log.error(
            "dashboard.redis_unavailable", error_type=type(error).__name__, route=_route(request)
        )
        return redis_down(request)
    except ConnectionResetError:  # aiohttp's ClientConnectionResetError is one
        log.info("dashboard.client_gone", method=request.method, route=_route(request))
        return web.Response(status=CLIENT_GONE)


def redis_down(request: web.Request) -> web.Response:
    headers = {"Retry-After": str(RETRY_SECONDS)}
    if request.path.startswith("/api/"):
        return web.Response(
            body=msgspec.json.encode(
                {
                    "error": "Service Unavailable",
                    "message": f"{REDIS_DOWN}: the run store is unreachable; try again shortly",
                }
            ),
            status=503,
            content_type="application/json",
            headers=headers,
        )
    response = render(
        request,
        "error.html",
        status=503,
        title=REDIS_DOWN,
        message=(
            f"{REDIS_DOWN}, so runs and failures cannot be read just now. This page tries "
            f"again every {RETRY_SECONDS} seconds and shows the dashboard once Redis is back."
        ),
        refresh=RETRY_SECONDS,
    )
    response.headers.update(headers)
    return response


def _route(request: web.Request) -> str:
    # The route's pattern, not the path: a path may hold a failure id.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"

"""One HTTP exchange with either API: the hook before it, the timeout, and no-answer errors.

Both clients send every request through `send`, so the rate-limit hook and the rule "a request
that got no answer is `Retryable`" live in one place. Interpreting the status is the caller's
(it knows which statuses mean something for that call) with `errors.classify` for the rest.
Each request is counted here by its integration and answer's class
(`payroll_sync_api_requests_total`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final, NamedTuple

import aiohttp
from multidict import CIMultiDictProxy

from payroll_sync.connectors.answers import Api, network_error
from payroll_sync.metrics.classes import answer_class, no_answer_class
from payroll_sync.metrics.definitions import API_REQUESTS

#: Awaited before every request; the worker passes the shared rate limiter's `acquire` here.
BeforeRequest = Callable[[], Awaitable[None]]
Params = Sequence[tuple[str, str]] | Mapping[str, str]

#: Per request, including reading the body. No single call of either API should take longer;
#: a hung connection is then a `Retryable` instead of a stuck worker.
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=30.0, sock_connect=10.0)


class Answer(NamedTuple):
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    api: Api,
    what: str,
    client_timeout: aiohttp.ClientTimeout,
    before_request: BeforeRequest | None,
    params: Params | None = None,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    integration: str = "",
) -> Answer:
    """Send one request and read the whole answer; raise `Retryable` if none came.
    `integration`: the id it is counted under ("" for a check of one not saved yet)."""
    if before_request is not None:
        await before_request()
    send_headers = dict(headers or {})
    if body is not None:
        send_headers["Content-Type"] = "application/json"
    try:
        async with session.request(
            method, url, params=params, headers=send_headers, data=body, timeout=client_timeout
        ) as response:
            answer = Answer(response.status, response.headers, await response.read())
    except (aiohttp.ClientError, TimeoutError) as exc:
        API_REQUESTS.labels(integration, api, no_answer_class(exc)).inc()
        # `from None`: the original's text can contain the URL (and /auth's carries the token).
        raise network_error(exc, api=api, what=what) from None
    API_REQUESTS.labels(integration, api, answer_class(answer.status)).inc()
    return answer

"""How every intake route answers: a JSON body, or a `Refusal` that the app's middleware
(`app.answer_errors`) turns into `{"error": reason}` with one `intake.refused` event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec
from aiohttp import web

from payroll_sync.intake.body import MAX_BODY_BYTES

_ENCODER: Final = msgspec.json.Encoder()
# Who is asking, once known (for `intake.refused`).
CALLER: Final = web.RequestKey("caller", str)


class Refusal(Exception):
    """Answer with this status and a JSON error; `reason` is safe to show and log."""

    def __init__(self, status: int, reason: str, *, headers: Mapping[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = dict(headers or {})


def json_response(
    payload: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_ENCODER.encode(payload),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def read_body(request: web.Request) -> bytes:
    """The request's body, or 413 when it is larger than MAX_BODY_BYTES (refused unread when
    the client says so up front)."""
    too_large = f"body: larger than {MAX_BODY_BYTES // 1024} KiB"
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise Refusal(413, too_large)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refusal(413, too_large) from None

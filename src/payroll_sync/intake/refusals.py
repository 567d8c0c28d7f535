"""How every intake route answers: a JSON body, or a `Refusal` that the app's middleware
(`app.answer_errors`) turns into `{"error": reason}` with one `intake.refused` event."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import msgspec
from aiohttp import web

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

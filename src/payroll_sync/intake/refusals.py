"""How every intake route answers: a JSON body, or a `Refusal` that the app's middleware
(`app.answer_errors`) turns into `{"error": reason}` with one `intake.refused` event."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, get_args

import msgspec
from aiohttp import web

from payroll_sync.intake.body import MAX_BODY_BYTES
from payroll_sync.schemas.messages import IntegrationId
from payroll_sync.schemas.settings import Intake
from payroll_sync.schemas.words import SCHEMA_WORDING

_ENCODER: Final = msgspec.json.Encoder()
# Who is asking, once known (for `intake.refused`).
CALLER: Final = web.RequestKey("caller", str)


_ID_PATTERN: Final = re.compile(str(get_args(IntegrationId)[1].pattern))


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


def integration_asked(request: web.Request, caller: str, intake: Intake, *, doing: str) -> str:
    """The integration id in the request's path: refused with 400 when it is no id, 403 when
    `[intake.allow]` does not let `caller` `doing` ("read", "manage") it."""
    integration_id = request.match_info["integration_id"]
    if not _ID_PATTERN.fullmatch(integration_id):
        raise Refusal(400, f"id: expected {SCHEMA_WORDING.patterns[_ID_PATTERN.pattern]}")
    allowed = intake.allowed(caller)
    if allowed is not None and integration_id not in allowed:
        raise Refusal(
            403,
            f"caller {caller!r} may not {doing} integration {integration_id!r} "
            f"(allowed: {', '.join(sorted(allowed)) or 'none'})",
        )
    return integration_id

"""The JSON body of `POST /api/v1/sync-requests`, decoded and checked into a `SyncRequest`.

Pure: bytes in, a `SyncRequest` or a `BadBody` out. Every message names the field at fault in
the caller's JSON words and never repeats a value the caller sent (it may be logged).
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Final

import msgspec
from msgspec import Meta

from payroll_sync.errors import json_path, lower_first, reword
from payroll_sync.schemas.messages import (
    AbsenceCodeText,
    EmployeeNumber,
    IntegrationId,
    Period,
    SyncKind,
    SyncRequest,
)
from payroll_sync.schemas.words import SCHEMA_WORDING

#: Larger bodies are refused unread; a request for every employee needs no list at all.
MAX_BODY_BYTES: Final = 64 * 1024


class BadBody(ValueError):
    """The body cannot be a sync request; the message says why, naming the field."""


class SyncRequestBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a caller may send. `trigger` is not here: the intake sets it to "upstream"."""

    integration: IntegrationId
    kind: SyncKind
    # An empty list would read as "the whole scope": a caller with nothing to sync sends nothing.
    employees: Annotated[list[EmployeeNumber], Meta(min_length=1)] | None = None
    period: Period | None = None
    codes: list[AbsenceCodeText] | None = None
    dry_run: bool = False


FIELDS: Final = tuple(f.encode_name for f in msgspec.structs.fields(SyncRequestBody))
_DECODER: Final = msgspec.json.Decoder(SyncRequestBody)


def decode_sync_request(raw: bytes) -> SyncRequest:
    """The upstream `SyncRequest` the body asks for; `BadBody` when it is not one."""
    try:
        body = _DECODER.decode(raw)
    except msgspec.ValidationError as error:
        raise BadBody(explain(str(error))) from None
    except msgspec.DecodeError as error:
        raise BadBody(f"body is not valid JSON ({lower_first(str(error))})") from None
    try:
        # Direct construction runs SyncRequest's checks across fields (period, codes).
        return SyncRequest(
            integration=body.integration,
            kind=body.kind,
            trigger="upstream",
            employees=body.employees,
            dry_run=body.dry_run,
            period=body.period,
            codes=body.codes,
        )
    except ValueError as error:
        raise BadBody(str(error)) from None


# ------------------------------------------------------------------ places in JSON words

_ALLOWED: Final[dict[tuple[str, ...], str]] = {(): ", ".join(FIELDS), ("period",): "'from', 'to'"}
_JSON: Final = dataclasses.replace(
    SCHEMA_WORDING,
    name=lambda parts: json_path(parts) or "body",
    unknown=lambda parent: f"unknown field (allowed: {_ALLOWED.get(tuple(parent), '')})",
)


def explain(message: str) -> str:
    """'Expected `str`, got `int` - at `$.employees[0]`' -> 'employees[0]: expected a string,
    got a whole number'. Values the caller sent are left out."""
    return reword(message, _JSON)

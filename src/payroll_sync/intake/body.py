"""The JSON body of `POST /api/v1/sync-requests`, decoded and checked into a `SyncRequest`.

Pure: bytes in, a `SyncRequest` or a `BadBody` out. Every message names the field at fault in
the caller's JSON words and never repeats a value the caller sent (it may be logged).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, get_args

import msgspec
from msgspec import Meta

from payroll_sync.schemas.messages import (
    AbsenceCodeText,
    EmployeeNumber,
    IntegrationId,
    Period,
    SyncKind,
    SyncRequest,
)

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
        raise BadBody(f"body is not valid JSON ({_lower_first(str(error))})") from None
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


# ------------------------------------------------------------------ msgspec's words -> ours

_AT: Final = re.compile(r"(?P<what>.*) - at `\$(?P<path>[^`]*)`", re.DOTALL)
_TYPE_WORDS: Final = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "array": "an array",
    "object": "an object",
    "null": "null",
    "date": "a date (YYYY-MM-DD)",
}


def _pattern_of(annotated: Any) -> str:
    return str(get_args(annotated)[1].pattern)


# msgspec quotes a failed pattern; these say what the pattern means.
_PATTERN_WORDS: Final = {
    _pattern_of(IntegrationId): (
        "an integration id (1-64 letters, digits, _ or -, starting with a letter or digit)"
    ),
    _pattern_of(AbsenceCodeText): 'a two-digit absence code such as "01"',
}
_KINDS: Final = " or ".join(f'"{kind}"' for kind in get_args(SyncKind))


def explain(message: str) -> str:
    """'Expected `str`, got `int` - at `$.employees[0]`' -> 'employees[0]: expected a string,
    got an integer'. Values the caller sent are left out."""
    match = _AT.fullmatch(message)
    what, path = (match["what"], match["path"].removeprefix(".")) if match else (message, "")
    field = re.fullmatch(r"Object (contains unknown|missing required) field `([^`]*)`", what)
    if field is not None:
        name = f"{path}.{field[2]}" if path else field[2]
        if field[1] == "missing required":
            return f"{name}: missing (required)"
        allowed = "'from', 'to'" if path == "period" else ", ".join(FIELDS)
        return f"{name}: unknown field (allowed: {allowed})"
    if what.startswith(f"{path}:") and path:
        return what  # SyncRequest's and Period's own checks already name the field
    return f"{path or 'body'}: {_problem(what, path)}"


def _problem(what: str, path: str) -> str:
    if what.startswith("Invalid enum value"):
        return f"expected {_KINDS}" if path == "kind" else "not one of the allowed values"
    if what.startswith("Invalid RFC3339 encoded date"):
        return "expected a date as YYYY-MM-DD"
    match = re.fullmatch(r"Expected `([^`]*)`(.*)", what, re.DOTALL)
    if match is None:
        return _lower_first(what)
    expected, rest = _types(match[1]), match[2]
    got = re.fullmatch(r", got `([^`]*)`", rest)
    if got is not None:
        return f"expected {expected}, got {_types(got[1])}"
    regex = re.fullmatch(r" matching regex '(.*)'", rest, re.DOTALL)
    if regex is not None:
        return f"expected {_PATTERN_WORDS.get(regex[1], 'a string of another form')}"
    length = re.fullmatch(r" of length (>=|<=) (\d+)", rest)
    if length is not None:
        noun = expected.split(" ", 1)[-1]
        if length[1] == ">=" and length[2] == "1":
            return f"expected a non-empty {noun}"
        limit = "at least" if length[1] == ">=" else "at most"
        unit = "characters" if noun == "string" else "items"
        return f"expected {expected} of {limit} {length[2]} {unit}"
    return f"expected {expected}{rest}"


def _types(spec: str) -> str:
    # `array | null` is an optional field: null is never what the caller should send instead.
    names = [name.strip() for name in spec.split("|")]
    shown = [name for name in names if name != "null"] or names
    return " or ".join(_TYPE_WORDS.get(name, name) for name in shown)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]

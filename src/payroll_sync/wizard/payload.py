"""The wizard API's body for `PUT /api/v1/integrations/{id}`: the settings of
`[integrations.ID]` with the two tokens in place of their environment variables' names; and the
JSON view of a stored integration, which never holds a token.

Pure: bytes in, an `Integration` and its `TokensUpdate` (or a `BadIntegration`) out. Every
message names the field at fault the way the settings file's errors do (`scope.offices[1]: ...`,
through `errors.reword`), and none repeats a token: the tokens are taken out of the body before
anything else reads it.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from payroll_sync.errors import json_path, lower_first, reword
from payroll_sync.registry.records import StoredIntegration, TokensUpdate
from payroll_sync.schemas.brake import Brake
from payroll_sync.schemas.messages import AbsenceCodeText
from payroll_sync.schemas.settings import Absences, Integration, Schedule, Scope
from payroll_sync.schemas.words import SCHEMA_WORDING

#: The body's token fields -> the settings field they stand in for (refused in a body).
TOKEN_FIELDS: Final = {
    "simployer_token": "simployer_token_env",
    "payroll_token": "payroll_token_env",
}
#: Longer than any real token, short enough that a pasted file is refused.
MAX_TOKEN_CHARS: Final = 4096
# Printable ASCII without spaces: a token goes into a header and a query string as it is.
_TOKEN: Final = re.compile(r"[\x21-\x7e]+")
_BARE_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class BadIntegration(ValueError):
    """The body is wrong; the message names the field (`scope.offices[1]`), never a token."""


def decode_integration(raw: bytes) -> tuple[Integration, TokensUpdate]:
    """Decode and check a PUT body (unknown fields refused; `simployer_token_env` and
    `payroll_token_env` refused: tokens are given, not named)."""
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise BadIntegration(f"body is not valid JSON ({_sentence_part(str(error))})") from None
    if not isinstance(body, dict):
        raise BadIntegration("body: expected an object")
    # Taken out first: nothing below (msgspec's messages included) ever sees a token.
    tokens = {name: _token(name, body.pop(name, None)) for name in TOKEN_FIELDS}
    for given, named in TOKEN_FIELDS.items():
        if named in body:
            raise BadIntegration(
                f"{named}: not taken here; send the token itself as {given} (it is stored "
                "encrypted, never shown again)"
            )
    try:
        settings = msgspec.convert(body, Integration)
    except msgspec.ValidationError as error:
        raise BadIntegration(_explain(body, error)) from None
    return settings, TokensUpdate(**tokens)


def _sentence_part(text: str) -> str:
    # "Input data was truncated" -> "input data ...", but "JSON is malformed" stays.
    return text if text[1:2].isupper() else lower_first(text)


def _token(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadIntegration(f"{name}: expected a string")
    token = value.strip()  # a trailing newline pasted with it is never part of a token
    if not token:
        raise BadIntegration(f"{name}: expected a non-empty string (leave it out to keep it)")
    if len(token) > MAX_TOKEN_CHARS:
        raise BadIntegration(f"{name}: longer than {MAX_TOKEN_CHARS} characters")
    if not _TOKEN.fullmatch(token):
        raise BadIntegration(f"{name}: expected printable characters without spaces")
    return token


# ------------------------------------------------------------------ places in JSON words


def _names(struct: type[msgspec.Struct]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(struct)]


_TOP: Final = [
    *(name for name in _names(Integration) if name not in TOKEN_FIELDS.values()),
    *TOKEN_FIELDS,
]
_ALLOWED: Final[dict[tuple[str, ...], str]] = {
    (): ", ".join(_TOP),
    ("scope",): ", ".join(_names(Scope)),
    ("absences",): ", ".join(_names(Absences)),
    ("schedule",): ", ".join(_names(Schedule)),
    ("brake",): ", ".join(_names(Brake)),
}
_JSON: Final = dataclasses.replace(
    SCHEMA_WORDING,
    name=lambda parts: json_path(parts) or "body",
    unknown=lambda parent: f"unknown field (allowed: {_ALLOWED.get(tuple(parent), '')})",
)


def _explain(body: Mapping[str, Any], error: msgspec.ValidationError) -> str:
    """msgspec's message in the caller's words. msgspec names a dict's key `[...]`: the one
    keyed table of the settings (`absences.overrides`) is read entry by entry to name it."""
    message = str(error)
    if "`$.absences.overrides[...]`" in message:
        absences = body.get("absences")
        overrides = absences.get("overrides") if isinstance(absences, dict) else None
        for key, value in overrides.items() if isinstance(overrides, dict) else ():
            try:
                msgspec.convert(value, AbsenceCodeText)
            except msgspec.ValidationError as wrong:
                at = ("absences", "overrides", _key(str(key)))
                return reword(str(wrong), _JSON, at=at)
    return reword(message, _JSON)


def _key(key: str) -> str:
    # A leave type's name may hold dots or spaces: quoted as JSON, it stays one part.
    return key if _BARE_KEY.fullmatch(key) else msgspec.json.encode(key).decode()


# ------------------------------------------------------------------ the view


def settings_view(settings: Integration) -> dict[str, Any]:
    """The settings as the PUT body has them, without tokens (nor, when stored in the registry,
    the token variables' names, which are None there)."""
    view: dict[str, Any] = msgspec.to_builtins(settings)
    for named in TOKEN_FIELDS.values():
        if view.get(named) is None:
            view.pop(named, None)
    return view


def tokens_view(*, simployer: bool, payroll: bool) -> dict[str, str]:
    """Whether each token is there; never the token."""
    return {
        "simployer": "set" if simployer else "missing",
        "payroll": "set" if payroll else "missing",
    }


def integration_view(stored: StoredIntegration) -> dict[str, Any]:
    """A stored integration as the API shows it: settings, which tokens are set, its version
    and when it was created and last changed (ISO 8601, UTC)."""
    return {
        "id": stored.id,
        "settings": settings_view(stored.settings),
        "tokens": tokens_view(
            simployer=stored.has_simployer_token, payroll=stored.has_payroll_token
        ),
        "version": stored.version,
        "created_at": iso_utc(stored.created_at),
        "updated_at": iso_utc(stored.updated_at),
    }


def iso_utc(unix: float) -> str:
    return datetime.datetime.fromtimestamp(unix, datetime.UTC).isoformat(timespec="seconds")

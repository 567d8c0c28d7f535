"""What an HTTP answer of either API means, as one of the errors in `payroll_sync.errors`.

Every message here is shown to HR administrators and logged, so it names the API field to fix
and never contains personal data, tokens or an API's error body verbatim.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Collection, Mapping
from typing import Final, Literal

import msgspec

from payroll_sync.errors import (
    ConfigError,
    Conflict,
    Permanent,
    RateLimited,
    Retryable,
    SyncError,
    field_path,
)
from payroll_sync.schemas import payroll, simployer

Api = Literal["simployer", "payroll"]

API_NAMES: Final[dict[Api, str]] = {"simployer": "Simployer One", "payroll": "24SevenOffice"}
# What an administrator must fix when a token is refused: the token itself (the registry's
# field, registry/records.py), or the variable the settings file names for it.
_TOKEN_SETTINGS: Final[dict[Api, str]] = {
    "simployer": "the integration's simployer_token (or its simployer_token_env variable)",
    "payroll": "the integration's payroll_token (or its payroll_token_env variable)",
}


def _api_field_names(*structs: type[msgspec.Struct]) -> frozenset[str]:
    """API names of the Structs' fields, and `outer.inner` for one level of nesting."""
    names: set[str] = set()
    for struct in structs:
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        for f in info.fields:
            names.add(f.encode_name)
            inner = f.type
            if isinstance(inner, msgspec.inspect.UnionType):
                inner = next(
                    (t for t in inner.types if isinstance(t, msgspec.inspect.StructType)), inner
                )
            if isinstance(inner, msgspec.inspect.StructType):
                names.update(f"{f.encode_name}.{sub.encode_name}" for sub in inner.fields)
    return frozenset(names)


#: Field names an API's error message may mention. The payroll set is what we write; for
#: Simployer One (read only) the names of the resources we read, e.g. in a refused filter.
KNOWN_FIELDS: Final[dict[Api, frozenset[str]]] = {
    "payroll": _api_field_names(
        payroll.EmployeeWrite,
        payroll.EmploymentWrite,
        payroll.AbsenceWrite,
        payroll.ChildWrite,
    ),
    "simployer": _api_field_names(*simployer.RESOURCES.values()),
}

# Quoted text in an error message is an echoed value (Python repr or JSON): never a field name
# we may repeat. Backticks are msgspec's path quotes and are kept.
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def mentioned_fields(message: str, known: Collection[str]) -> list[str]:
    """The known field names `message` mentions, in order of first mention, never values."""
    found: list[str] = []
    for word in _WORD.findall(_QUOTED.sub(" ", message)):
        candidates = [word] if word in known else [w for w in word.split(".") if w in known]
        for name in candidates:
            if name not in found:
                found.append(name)
    return found


def _error_message_text(body: bytes) -> str:
    """The free text of an error body (`message`, `error`), or "" when it has none."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return ""
    if not isinstance(decoded, dict):
        return ""
    parts: list[str] = []
    for key in ("message", "error"):
        value = decoded.get(key)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, str))
    return "\n".join(parts)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    # A plain dict is case-sensitive; aiohttp's headers are not.
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Retry-After as seconds to wait: delay-seconds or an HTTP date; None if absent or bad."""
    raw = _header(headers, "Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def classify(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    api: Api,
    what: str,
) -> SyncError | None:
    """The error an HTTP answer means, or None for 2xx. Pure.

    The message names the API, what we tried and the API field names the error body mentions,
    but never repeats the body itself: the payroll API echoes submitted values (personal data).
    """
    if 200 <= status < 300:
        return None
    error = _error_of(status, headers, body, api=api, what=what)
    error.status = status
    return error


def _error_of(
    status: int, headers: Mapping[str, str], body: bytes, *, api: Api, what: str
) -> SyncError:
    name = API_NAMES[api]
    if status == 429:
        return RateLimited(
            f"{name} rate limit hit on {what}", delay=retry_after_seconds(headers), api=api
        )
    if status >= 500 or status == 408:
        return Retryable(
            f"{name} answered HTTP {status} to {what}", delay=retry_after_seconds(headers)
        )
    if status in (401, 403):
        return ConfigError(
            f"{name} rejected the access token (HTTP {status}) on {what}; "
            f"check {_TOKEN_SETTINGS[api]}"
        )
    if status == 409:
        return Conflict(f"{name} refused {what}: it already exists (HTTP 409)")
    fields = mentioned_fields(_error_message_text(body), KNOWN_FIELDS[api])
    if fields:
        label = "field" if len(fields) == 1 else "fields"
        return Permanent(f"{name} refused {what}: {label} {', '.join(fields)} (HTTP {status})")
    return Permanent(f"{name} refused {what} (HTTP {status})")


def network_error(exc: BaseException, *, api: Api, what: str) -> Retryable:
    """A request that got no answer. Only the exception's type is kept: aiohttp's messages can
    contain the URL, and the token exchange URL carries the persistent token."""
    kind = "timed out" if isinstance(exc, TimeoutError) else f"failed ({type(exc).__name__})"
    return Retryable(f"{API_NAMES[api]}: {what} {kind}")


def unexpected_answer(exc: msgspec.MsgspecError, *, api: Api, what: str) -> SyncError:
    """A 2xx answer we cannot decode. Malformed JSON is likely a proxy's page (retry); valid JSON
    of the wrong shape means the API changed (permanent). Only msgspec's path is kept: its
    messages can include the offending value."""
    name = API_NAMES[api]
    if isinstance(exc, msgspec.ValidationError):
        return Permanent(f"{name} answered {what} in an unexpected shape at {field_path(exc)}")
    return Retryable(f"{name} answered {what} with malformed JSON")

"""One error tree for everything that can stop a record or a request.

`Retryable` errors (network, 5xx, 429) are tried again later; `Permanent` ones end the record at
once as `failed`; `RecordSkipped` waits for data; `Deferred` puts a record back for the rate
limit. Every message is shown to HR administrators and logged, so it names the field to fix and
never contains personal data, tokens or an API's error body verbatim. What an HTTP answer means
is decided in `connectors/answers.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import msgspec


class SyncError(Exception):
    """Base of every expected failure. `reason` is safe to log and show."""

    #: The HTTP status of the answer it stands for (set by `connectors.answers.classify`), None
    #: when no answer came or none is behind it. The wizard's connection check words it.
    status: int | None = None

    def __init__(self, reason: str, *, field: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        # The Simployer One field to fix, when the reason is about one.
        self.field = field


class Retryable(SyncError):
    """Try again later: network error, timeout, 5xx, 429."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        # Seconds the server asked us to wait (Retry-After), if it said.
        self.delay = delay


class Permanent(SyncError):
    """Retrying cannot help until someone changes data or settings."""


class ConfigError(Permanent):
    """The integration's settings or credentials are wrong (e.g. a token that answers 401)."""


class Conflict(Permanent):
    """The payroll API answered 409: the object already exists."""


class RecordSkipped(SyncError):
    """The record is incomplete and waits for its data (outcome `skipped`, not `failed`)."""


class Deferred(SyncError):
    """The shared rate limit would hold this record too long: put it back, do not fail it."""

    def __init__(self, delay: float) -> None:
        super().__init__(f"rate limit: deferred for {delay:.1f} s")
        self.delay = delay


class RateLimited(Retryable):
    """A 429: the API's own rate limit. Waiting for it never counts as a failed attempt.

    The caller also pushes the shared limiter back by `delay` (`SharedRateLimiter.penalise`),
    so that no other worker process sends before then. `api` says whose limit it was: only
    24SevenOffice's is shared through our limiter.
    """

    def __init__(self, reason: str, *, delay: float | None = None, api: str = "payroll") -> None:
        super().__init__(reason, delay=delay)
        self.api = api


class RequestRefused(ValueError):
    """The request cannot be carried out as asked; the message says what is wrong."""


# ------------------------------------------------------------------ msgspec's messages

_MSGSPEC_PATH: Final = re.compile(r"`\$([^`]*)`")
_MISSING_FIELD: Final = re.compile(r"missing required field `([^`]*)`")


def field_path(exc: msgspec.ValidationError) -> str:
    """msgspec's path of the invalid value (`$.data[3].employeeNumber`), or `$`. For a missing
    field, the path it should be at (`$.bankAccount.number`): msgspec's own path stops at the
    object that lacks it. Never the value, which other words of the message may quote."""
    message = str(exc)
    match = _MSGSPEC_PATH.search(message)
    path = f"${match.group(1)}" if match else "$"
    missing = _MISSING_FIELD.search(message)
    return f"{path}.{missing.group(1)}" if missing else path


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def json_path(parts: Sequence[str]) -> str:
    """Path parts as JSON callers write them: `employees[0]`, `period.from` ("" for none)."""
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else f".{part}" if out else part
    return out


def _unknown_field(parent: Sequence[str]) -> str:
    return "unknown field"


#: msgspec's type names in words; an audience may name some otherwise (TOML says "a table").
TYPE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "str": "a string",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "array": "an array",
        "object": "an object",
        "null": "null",
        "date": "a date (YYYY-MM-DD)",
        "datetime": "a date-time",
        "time": "a time",
    }
)
# What was sent instead needs no format ("got a date"), and "got a number" where a whole number
# was expected would read as no error at all.
_GOT_WORDS: Final = {"float": "a decimal number", "date": "a date"}


@dataclass(frozen=True, kw_only=True)
class Wording:
    """What `reword` needs to know of one audience (the settings file, the intake's JSON, the
    command line) and of the schemas (whose words live in `schemas.words`)."""

    #: Path parts (keys, list indexes as digits) -> the place as the audience names it; no
    #: parts is the whole input.
    name: Callable[[Sequence[str]], str] = json_path
    #: The object's path -> what to say after an unknown field's name.
    unknown: Callable[[Sequence[str]], str] = _unknown_field
    #: Type words that differ from TYPE_WORDS.
    types: Mapping[str, str] = field(default_factory=dict)
    #: A constrained string's regex -> what it means (msgspec quotes only the regex).
    patterns: Mapping[str, str] = field(default_factory=dict)
    #: A field's name -> its allowed values (msgspec names none when an enum value is wrong).
    choices: Mapping[str, Sequence[str]] = field(default_factory=dict)


_AT: Final = re.compile(r"(?P<what>.*?) - at `(?P<path>[^`]*)`(?: in `(?P<within>[^`]*)`)?", re.S)
_PATH_PART: Final = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_FIELD: Final = re.compile(r"Object (contains unknown|missing required) field `([^`]*)`")
# Our own checks (a Struct's __post_init__) start with the field they are about.
# A Struct's own check names its field, and may name one key of it (`overrides."Long leave"`).
_OWN_CHECK: Final = re.compile(
    r'(?P<field>[A-Za-z_]\w*)(?:\.(?P<key>"(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+))?: (?P<rest>.*)', re.S
)


def reword(message: str, wording: Wording, *, at: Sequence[str] = ()) -> str:
    """A msgspec ValidationError's message in the audience's words: 'Expected `int`, got `str` -
    at `$.a[0]`' -> '<a[0] as named>: expected a whole number, got a string'. `at`: the path of
    the value that was converted. Leaves out what msgspec quotes of the input (enum values)."""
    path, what, of_key = list(at), message, False
    match = _AT.fullmatch(message)
    if match is not None:
        what = match["what"]
        # "at `key` in `$.x`": one of table x's keys is wrong.
        of_key = match["within"] is not None
        path += _path_parts(match["within"] if of_key else match["path"])
    named = _FIELD.fullmatch(what)
    if named is not None:
        place = wording.name([*path, named[2]])
        if named[1] == "missing required":
            return f"{place}: missing (required)"
        return f"{place}: {wording.unknown(path)}"
    own = _OWN_CHECK.fullmatch(what)
    if own is not None:
        # Named after the Struct that checks (`period: ...` at `$.period`) or one of its fields.
        checked = path if path[-1:] == [own["field"]] else [*path, own["field"]]
        # The key as the check wrote it, quoted where a settings file would quote it.
        key = f".{own['key']}" if own["key"] is not None else ""
        return f"{wording.name(checked)}{key}: {own['rest']}"
    place = wording.name(path) + (" (a key)" if of_key else "")
    return f"{place}: {_problem(what, path, wording)}"


def _path_parts(path: str) -> list[str]:
    return [name or index for name, index in _PATH_PART.findall(path.removeprefix("$"))]


def _problem(what: str, path: Sequence[str], wording: Wording) -> str:
    if what.startswith("Invalid enum value"):
        names = [part for part in path if not part.isdigit()]
        allowed = wording.choices.get(names[-1]) if names else None
        return f"expected {_one_of(allowed)}" if allowed else "not one of the allowed values"
    if what.startswith("Invalid RFC3339 encoded date"):
        return "expected a date as YYYY-MM-DD"
    match = re.fullmatch(r"Expected `([^`]*)`(.*)", what, re.S)
    if match is None:
        return lower_first(what)
    words = {**TYPE_WORDS, **wording.types}
    expected, rest = _types(match[1], words), match[2]
    got = re.fullmatch(r", got `([^`]*)`", rest)
    if got is not None:
        return f"expected {expected}, got {_types(got[1], {**words, **_GOT_WORDS})}"
    regex = re.fullmatch(r" matching regex (.*)", rest, re.S)
    if regex is not None:
        meanings = {repr(pattern): text for pattern, text in wording.patterns.items()}
        return f"expected {meanings.get(regex[1], 'a string matching ' + regex[1])}"
    length = re.fullmatch(r" of length (>=|<=) (\d+)", rest)
    if length is not None:
        noun = expected.split(" ", 1)[-1]  # "a string" -> "string"
        if length[1] == ">=" and length[2] == "1":
            return f"expected a non-empty {noun}"
        limit = "at least" if length[1] == ">=" else "at most"
        unit = "characters" if match[1] == "str" else "items"
        return f"expected {expected} of {limit} {length[2]} {unit}"
    bound = re.fullmatch(r" (>=|<=|>|<) (.*)", rest)
    if bound is not None:
        return f"expected {expected} {bound[1]} {bound[2].removesuffix('.0')}"
    return f"expected {expected}{rest}"


def _types(spec: str, words: Mapping[str, str]) -> str:
    # `array | null` is an optional field: null is never what should be sent instead.
    names = [name.strip() for name in spec.split("|")]
    shown = [name for name in names if name != "null"] or names
    return " or ".join(words.get(name, name) for name in shown)


def _one_of(values: Sequence[str]) -> str:
    quoted = [f'"{value}"' for value in values]
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return f"one of {', '.join(quoted)}"

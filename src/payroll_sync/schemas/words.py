"""What the schemas' constrained values mean, for error messages: msgspec quotes only a failed
regex, and names no allowed value of an enum. Every audience (the settings file, the intake's
JSON, the command line) starts from `SCHEMA_WORDING` and says how it names a place."""

from __future__ import annotations

from typing import Any, Final, get_args

from payroll_sync.errors import Wording
from payroll_sync.schemas.messages import AbsenceCodeText, IntegrationId, SyncKind, Trigger
from payroll_sync.schemas.settings import CallerName, ClockTime, EnvName, HttpUrl, Weekday


def _pattern_of(annotated: Any) -> str:
    return str(get_args(annotated)[1].pattern)


SCHEMA_WORDING: Final = Wording(
    patterns={
        _pattern_of(IntegrationId): (
            "an integration id (1-64 letters, digits, _ or -, starting with a letter or digit)"
        ),
        _pattern_of(AbsenceCodeText): 'a two-digit absence code such as "01"',
        _pattern_of(HttpUrl): "an http:// or https:// URL",
        _pattern_of(EnvName): (
            "an environment variable name (letters, digits and _, not starting with a digit)"
        ),
        _pattern_of(ClockTime): "a time of day as HH:MM (00:00-23:59)",
        _pattern_of(CallerName): (
            "a caller name (1-64 lower-case letters, digits, _ or -, starting with a letter or "
            "digit)"
        ),
    },
    choices={
        "kind": get_args(SyncKind),
        "trigger": get_args(Trigger),
        "weekdays": get_args(Weekday),
    },
)

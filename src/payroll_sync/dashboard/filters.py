"""Which failures a page or an API call is about, and how they are grouped. Pure.

A filter has three optional parts, the same on the Failures page (query string), in the JSON
API (query string, or the body of `POST failures/retry`): `integration` (exact),
`reason` (case-insensitive "contains") and `employee_number` (exact). None of them is personal
data, so they may appear in URLs.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

import msgspec

FILTER_FIELDS: Final = ("integration", "reason", "employee_number")
MAX_FILTER_LENGTH: Final = 200


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the field."""


class Filterable(Protocol):
    @property
    def integration(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def employee_number(self) -> str: ...


R = TypeVar("R", bound=Filterable)


class FailureFilter(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    integration: str = ""
    reason: str = ""
    employee_number: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.integration or self.reason or self.employee_number)

    def describe(self) -> str:
        """In words, for a confirmation page: 'integration demo, reason containing "note"'."""
        parts = []
        if self.integration:
            parts.append(f"integration {self.integration}")
        if self.reason:
            parts.append(f'reason containing "{self.reason}"')
        if self.employee_number:
            parts.append(f"employee number {self.employee_number}")
        return ", ".join(parts) or "all failures"


def parse_filter(values: Mapping[str, object]) -> FailureFilter:
    """From a query string or a JSON body; unknown keys are ignored by the caller's choice."""
    found: dict[str, str] = {}
    for name in FILTER_FIELDS:
        value = values.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise FilterError(f"{name}: expected a string")
        value = value.strip()
        if len(value) > MAX_FILTER_LENGTH:
            raise FilterError(f"{name}: at most {MAX_FILTER_LENGTH} characters")
        found[name] = value
    return FailureFilter(**found)


def matches(chosen: FailureFilter, row: Filterable) -> bool:
    if chosen.integration and row.integration != chosen.integration:
        return False
    if chosen.employee_number and row.employee_number != chosen.employee_number:
        return False
    return not chosen.reason or chosen.reason.casefold() in row.reason.casefold()


def select(rows: Iterable[R], chosen: FailureFilter) -> list[R]:
    return [row for row in rows if matches(chosen, row)]


@dataclass(frozen=True)
class ReasonGroup(Generic[R]):
    reason: str
    rows: list[R]

    @property
    def count(self) -> int:
        return len(self.rows)


def group_by_reason(rows: Sequence[R]) -> list[ReasonGroup[R]]:
    """Largest group first, then by reason; rows keep their order within a group."""
    groups: dict[str, list[R]] = {}
    for row in rows:
        groups.setdefault(row.reason, []).append(row)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    return [ReasonGroup(reason=reason, rows=members) for reason, members in ordered]


def filter_query(chosen: FailureFilter) -> str:
    """The filter as a query string (without '?'), only the parts that are set."""
    pairs = [(name, getattr(chosen, name)) for name in FILTER_FIELDS if getattr(chosen, name)]
    return urllib.parse.urlencode(pairs)

"""Failure filters and grouping by reason: tables of rows, filters and what is selected."""

from __future__ import annotations

import urllib.parse

import msgspec
import pytest

from payroll_sync.dashboard.filters import (
    MAX_FILTER_LENGTH,
    FailureFilter,
    FilterError,
    filter_query,
    group_by_reason,
    parse_filter,
    select,
)


class Row(msgspec.Struct, frozen=True):
    id: str
    integration: str
    reason: str
    employee_number: str


SSN = "ssn is not a valid fødselsnummer or D-nummer"
NOTE = "employment.note must be the 7-digit profession code"
END = "end date needs a reason 1–6 in the employment note"
ROWS = [
    Row("a1", "acme", SSN, "1"),
    Row("a2", "acme", NOTE, "2"),
    Row("b1", "beta", SSN, "1"),
    Row("a3", "acme", END, "3"),
    Row("b4", "beta", SSN, "4"),
]


@pytest.mark.parametrize(
    ("chosen", "ids"),
    [
        (FailureFilter(), ["a1", "a2", "b1", "a3", "b4"]),
        (FailureFilter(integration="acme"), ["a1", "a2", "a3"]),
        (FailureFilter(integration="ACME"), []),  # integration ids are exact
        (FailureFilter(reason="note"), ["a2", "a3"]),
        (FailureFilter(reason="NOTE"), ["a2", "a3"]),  # reason: case-insensitive contains
        (FailureFilter(reason="fødselsnummer", integration="beta"), ["b1", "b4"]),
        (FailureFilter(employee_number="1"), ["a1", "b1"]),  # exact, not "contains"
        (FailureFilter(employee_number="1", integration="beta"), ["b1"]),
        (FailureFilter(reason="nothing like it"), []),
    ],
)
def test_select(chosen: FailureFilter, ids: list[str]) -> None:
    assert [row.id for row in select(ROWS, chosen)] == ids


def test_groups_by_reason_largest_first_with_counts() -> None:
    groups = group_by_reason(ROWS)
    assert [(group.reason, group.count) for group in groups] == [(SSN, 3), (NOTE, 1), (END, 1)]
    assert [row.id for row in groups[0].rows] == ["a1", "b1", "b4"], "order kept within a group"
    assert group_by_reason([]) == []


def test_parse_filter_strips_and_ignores_other_keys() -> None:
    parsed = parse_filter({"integration": " acme ", "reason": "note", "page": "2"})
    assert parsed == FailureFilter(integration="acme", reason="note")
    assert parse_filter({}) == FailureFilter()
    assert parse_filter({"reason": None}) == FailureFilter()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"reason": "x" * (MAX_FILTER_LENGTH + 1)}, "reason: at most"),
        ({"employee_number": 12}, "employee_number: expected a string"),
        ({"integration": ["acme"]}, "integration: expected a string"),
    ],
)
def test_bad_filters_name_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(values)


def test_filter_query_round_trips_and_leaves_out_empty_parts() -> None:
    chosen = FailureFilter(integration="acme", reason="a & b = 'c'", employee_number="")
    query = filter_query(chosen)
    assert "employee_number" not in query
    assert parse_filter(dict(urllib.parse.parse_qsl(query))) == chosen
    assert filter_query(FailureFilter()) == ""


@pytest.mark.parametrize(
    ("chosen", "words"),
    [
        (FailureFilter(), "all failures"),
        (
            FailureFilter(integration="acme", reason="note", employee_number="7"),
            'integration acme, reason containing "note", employee number 7',
        ),
    ],
)
def test_describe(chosen: FailureFilter, words: str) -> None:
    assert chosen.describe() == words
    assert chosen.is_empty == (words == "all failures")

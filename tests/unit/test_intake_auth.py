"""Bearer tokens: which caller is calling, or nobody."""

from __future__ import annotations

import pytest

from payroll_sync.intake.auth import bearer_token, caller_for

TOKENS = {"tok-simployer-0123456789": "simployer-one", "tok-events-9876543210": "hr-events"}


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("Basic dXNlcjpwYXNz", None),
        ("tok-simployer-0123456789", None),
        ("Bearer tok", "tok"),
        ("bearer tok", "tok"),
        ("  Bearer   tok  ", "tok"),
    ],
)
def test_bearer_token_parses_the_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_each_caller_is_known_by_its_token() -> None:
    assert caller_for("Bearer tok-simployer-0123456789", TOKENS) == "simployer-one"
    assert caller_for("Bearer tok-events-9876543210", TOKENS) == "hr-events"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong",
        "Bearer tok-simployer-012345678",  # a prefix
        "Bearer tok-simployer-01234567890",  # one more character
        "Bearer TOK-SIMPLOYER-0123456789",  # tokens are case-sensitive
        "Bearer tøk-simployer-0123456789",  # not ASCII: compare_digest on str would raise
        "Basic tok-simployer-0123456789",
    ],
)
def test_anything_else_is_nobody(header: str | None) -> None:
    assert caller_for(header, TOKENS) is None


def test_with_no_callers_configured_nobody_gets_in() -> None:
    assert caller_for("Bearer anything", {}) is None

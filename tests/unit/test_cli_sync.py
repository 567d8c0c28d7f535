"""`payroll-sync sync`: the request the options ask for, and refusals that name the option."""

from __future__ import annotations

import argparse

import pytest

from payroll_sync.cli.sync import request_from_args
from payroll_sync.errors import RequestRefused
from payroll_sync.schemas.messages import SyncRequest


def _args(**options: object) -> argparse.Namespace:
    given: dict[str, object] = {
        "integration": "acme",
        "kind": "employees",
        "employees": None,
        "dry_run": False,
    }
    if options.get("kind") == "absences":
        given |= {"period_from": "2026-01-01", "period_to": "2026-12-31", "codes": None}
    return argparse.Namespace(**(given | options))


def test_the_options_become_a_manual_request() -> None:
    request = request_from_args(_args(employees=["12", "40"], dry_run=True))
    assert request == SyncRequest(
        integration="acme", trigger="manual", employees=["12", "40"], dry_run=True
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"integration": "acme corp"},
            "invalid request: --integration: expected an integration id (1-64 letters, digits, "
            "_ or -, starting with a letter or digit)",
        ),
        (
            {"employees": ["1" * 65]},
            "invalid request: --employees: expected a string of at most 64 characters",
        ),
        (
            {"kind": "absences", "period_from": "2026-02-01", "period_to": "2026-01-01"},
            "invalid request: --from/--to: 'from' 2026-02-01 is after 'to' 2026-01-01",
        ),
        (
            {"kind": "absences", "codes": ["4"]},
            'invalid request: --codes: expected a two-digit absence code such as "01"',
        ),
        (
            {"kind": "absences", "codes": ["01", "08"]},
            "invalid request: --codes: unknown absence code '08' (known: 01,",
        ),
    ],
)
def test_a_refusal_names_the_option(options: dict[str, object], message: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        request_from_args(_args(**options))
    assert str(refused.value).startswith(message)

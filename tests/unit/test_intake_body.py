"""Decoding the intake's JSON body: a SyncRequest with trigger "upstream", or a message that
names the field at fault."""

from __future__ import annotations

import datetime
import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from payroll_sync.intake.body import FIELDS, MAX_BODY_BYTES, BadBody, decode_sync_request, explain
from payroll_sync.schemas.messages import Period, SyncRequest


def _body(**fields: object) -> bytes:
    return json.dumps({"integration": "acme", "kind": "employees", **fields}).encode()


def _refusal(raw: bytes) -> str:
    with pytest.raises(BadBody) as refused:
        decode_sync_request(raw)
    return str(refused.value)


def test_an_employee_request_becomes_an_upstream_sync_request() -> None:
    request = decode_sync_request(_body(employees=["12", "40"], dry_run=True))
    assert request == SyncRequest(
        integration="acme",
        kind="employees",
        trigger="upstream",
        employees=["12", "40"],
        dry_run=True,
    )


def test_an_absence_request_keeps_period_and_codes() -> None:
    raw = _body(kind="absences", period={"from": "2025-03-01", "to": "2025-03-31"}, codes=["01"])
    request = decode_sync_request(raw)
    assert request.trigger == "upstream"
    assert request.period == Period(start=datetime.date(2025, 3, 1), end=datetime.date(2025, 3, 31))
    assert request.codes == ["01"]
    assert request.employees is None


def test_the_whole_scope_is_asked_for_by_leaving_employees_out() -> None:
    request = decode_sync_request(b'{"integration": "acme", "kind": "employees"}')
    assert request.employees is None
    assert request.dry_run is False


ALLOWED = "integration, kind, employees, period, codes, dry_run"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # wrong types
        (
            b'{"integration": 7, "kind": "employees"}',
            "integration: expected a string, got a whole number",
        ),
        (_body(employees=[12]), "employees[0]: expected a string, got a whole number"),
        (_body(employees="12"), "employees: expected an array, got a string"),
        (_body(employees=[]), "employees: expected a non-empty array"),
        (_body(employees=[""]), "employees[0]: expected a non-empty string"),
        (_body(employees=["1" * 65]), "employees[0]: expected a string of at most 64 characters"),
        (_body(dry_run="yes"), "dry_run: expected true or false, got a string"),
        (_body(kind=None), "kind: expected a string, got null"),
        (
            b'{"integration": "a b", "kind": "employees"}',
            "integration: expected an integration id (1-64 letters, digits, _ or -",
        ),
        # unknown kind, missing fields
        (_body(kind="salaries"), 'kind: expected "employees" or "absences"'),
        (b'{"integration": "acme"}', "kind: missing (required)"),
        (b'{"kind": "employees"}', "integration: missing (required)"),
        # unknown fields: the trigger is the intake's to set
        (_body(trigger="manual"), f"trigger: unknown field (allowed: {ALLOWED})"),
        (_body(employee=["12"]), f"employee: unknown field (allowed: {ALLOWED})"),
        # bad periods
        (
            _body(kind="absences", period={"from": "2025-03-02", "to": "2025-03-01"}),
            "period: 'from' 2025-03-02 is after 'to' 2025-03-01",
        ),
        (
            _body(kind="absences", period={"from": "2025-02-30", "to": "2025-03-01"}),
            "period.from: expected a date as YYYY-MM-DD",
        ),
        (
            _body(kind="absences", period={"from": "01.03.2025", "to": "2025-03-01"}),
            "period.from: expected a date as YYYY-MM-DD",
        ),
        (
            _body(kind="absences", period={"from": 20250301, "to": "2025-03-01"}),
            "period.from: expected a date (YYYY-MM-DD), got a whole number",
        ),
        (_body(kind="absences", period={"from": "2025-03-01"}), "period.to: missing (required)"),
        (
            _body(kind="absences", period={"from": "2025-03-01", "to": "2025-03-02", "x": 1}),
            "period.x: unknown field (allowed: 'from', 'to')",
        ),
        (_body(kind="absences", period="2025-03"), "period: expected an object, got a string"),
        (
            _body(kind="absences", period={"from": "2020-01-01", "to": "2025-01-01"}),
            "period: longer than",
        ),
        (_body(kind="absences"), "period: an absence sync needs a period ('from' and 'to')"),
        (
            _body(period={"from": "2025-03-01", "to": "2025-03-02"}),
            "period and codes apply to absence syncs only",
        ),
        # codes
        (
            _body(kind="absences", period={"from": "2025-03-01", "to": "2025-03-02"}, codes=["99"]),
            "codes: unknown absence code '99'",
        ),
        (
            _body(kind="absences", period={"from": "2025-03-01", "to": "2025-03-02"}, codes=["1"]),
            'codes[0]: expected a two-digit absence code such as "01"',
        ),
        # not a JSON object at all
        (b"", "body is not valid JSON"),
        (b"integration=acme", "body is not valid JSON"),
        (b'{"integration": "acme",', "body is not valid JSON"),
        (b"[]", "body: expected an object, got an array"),
    ],
)
def test_a_bad_body_is_refused_with_a_message_naming_the_field(raw: bytes, message: str) -> None:
    assert message in _refusal(raw)


def test_a_refusal_does_not_repeat_the_value_sent() -> None:
    secret = "Bearer-abc-secret"
    for raw in (_body(kind=secret), _body(integration=secret + " x"), _body(dry_run=secret)):
        assert secret not in _refusal(raw)


def test_fields_lists_what_a_caller_may_send() -> None:
    assert ", ".join(FIELDS) == ALLOWED
    assert "trigger" not in FIELDS


def test_explain_without_a_path_speaks_of_the_body() -> None:
    assert explain("Expected `object`, got `int`") == "body: expected an object, got a whole number"
    assert explain("Object missing required field `kind`") == "kind: missing (required)"


def test_the_cap_is_64_kib() -> None:
    assert MAX_BODY_BYTES == 65_536


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from([*FIELDS, "from", "to", "trigger"]), children, max_size=6)
    ),
    max_leaves=12,
)


@given(JSON)
def test_any_json_is_a_request_or_a_clear_refusal(value: object) -> None:
    raw = json.dumps(value).encode()
    try:
        request = decode_sync_request(raw)
    except BadBody as refused:
        text = str(refused)
        # Every refusal says where: a field, or the body as a whole.
        where, _, what = text.partition(":")
        assert where, text
        assert what.strip(), text
        return
    assert request.trigger == "upstream"
    # What was accepted survives the round trip through the queue's message format.
    assert msgspec.json.decode(msgspec.json.encode(request), type=SyncRequest) == request

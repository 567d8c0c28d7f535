"""`errors.classify`: which HTTP answers are retried, which fail, and what the message says."""

from __future__ import annotations

import msgspec
import pytest

from payroll_sync.connectors.answers import (
    Api,
    classify,
    mentioned_fields,
    network_error,
    retry_after_seconds,
    unexpected_answer,
)
from payroll_sync.errors import (
    ConfigError,
    Conflict,
    Permanent,
    RateLimited,
    Retryable,
    SyncError,
    field_path,
)
from payroll_sync.schemas import payroll


def _payroll_error(message: str) -> bytes:
    return msgspec.json.encode({"error": "Bad Request", "message": message})


def _simployer_error(status: int, message: str | list[str]) -> bytes:
    return msgspec.json.encode({"statusCode": status, "message": message, "error": "x"})


@pytest.mark.parametrize(
    ("status", "headers", "api", "kind", "delay"),
    [
        (200, {}, "payroll", None, None),
        (204, {}, "simployer", None, None),
        (500, {}, "payroll", Retryable, None),
        (502, {}, "simployer", Retryable, None),
        (503, {"Retry-After": "7"}, "payroll", Retryable, 7.0),
        (408, {}, "payroll", Retryable, None),
        (429, {"Retry-After": "2"}, "payroll", RateLimited, 2.0),
        (429, {"retry-after": "3"}, "simployer", RateLimited, 3.0),  # a plain dict, lower case
        (429, {}, "payroll", RateLimited, None),
        (429, {"Retry-After": "soon"}, "payroll", RateLimited, None),
        (401, {}, "payroll", ConfigError, None),
        (403, {}, "simployer", ConfigError, None),
        (409, {}, "payroll", Conflict, None),
        (400, {}, "payroll", Permanent, None),
        (404, {}, "payroll", Permanent, None),
        (422, {}, "simployer", Permanent, None),
    ],
)
def test_status_decides_the_kind(
    status: int,
    headers: dict[str, str],
    api: Api,
    kind: type[SyncError] | None,
    delay: float | None,
) -> None:
    error = classify(status, headers, b"", api=api, what="create employee")
    if kind is None:
        assert error is None
        return
    assert type(error) is kind
    if isinstance(error, Retryable):
        assert error.delay == delay


def test_retryable_is_never_permanent() -> None:
    assert isinstance(classify(429, {}, b"", api="payroll", what="x"), Retryable)
    assert not isinstance(classify(503, {}, b"", api="payroll", what="x"), Permanent)


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        ("payroll", "24SevenOffice rejected the access token (HTTP 401) on list employees; "
         "check the integration's payroll_token (or its payroll_token_env variable)"),
        ("simployer", "Simployer One rejected the access token (HTTP 401) on list employees; "
         "check the integration's simployer_token (or its simployer_token_env variable)"),
    ],
)  # fmt: skip
def test_401_names_the_setting_to_fix(api: Api, expected: str) -> None:
    body = _payroll_error("Invalid token secret-token-123")
    error = classify(401, {}, body, api=api, what="list employees")
    assert str(error) == expected


# Messages as the payroll simulator (and msgspec inside it) words them, with personal data.
@pytest.mark.parametrize(
    ("message", "fields", "secret"),
    [
        ("salary must be a number, got 'Kari Nordmann'", ["salary"], "Kari"),
        ("employee_date: '1985-13-45' is not a valid date (YYYY-MM-DD)", ["employee_date"],
         "1985-13-45"),
        ("Expected `str` matching regex '^(\\\\d{4}-\\\\d{2}-\\\\d{2})?$' - at "
         "`$.salary_valid_from`",
         ["salary_valid_from"], "regex"),
        ("Invalid enum value 'passport' - at `$.internationalID.type`", ["internationalID.type"],
         "passport"),
        ("employment[0].enddate_reason is required when enddate is set",
         ["enddate_reason", "enddate"], "employment[0]"),
        ("empId in the body (12345) differs from the path (54321)", ["empId"], "12345"),
        ("firstname is required", ["firstname"], ""),
        # A value that happens to spell a field name is quoted, so it is not taken for one.
        ("city must be a number, got \"salary\"", ["city"], '"salary"'),
        ("childId 77 is not a child of employee 12", ["childId"], "77"),
    ],
)  # fmt: skip
def test_400_names_fields_but_never_echoes_values(
    message: str, fields: list[str], secret: str
) -> None:
    error = classify(400, {}, _payroll_error(message), api="payroll", what="create employee")
    assert type(error) is Permanent
    label = "field" if len(fields) == 1 else "fields"
    assert str(error) == f"24SevenOffice refused create employee: {label} {', '.join(fields)} " \
        "(HTTP 400)"  # fmt: skip
    if secret:
        assert secret not in str(error)


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>Bad gateway Kari</html>", b"[1, 2]", _payroll_error("Kari Nordmann is bad")],
)
def test_400_without_known_fields_says_only_what_failed(body: bytes) -> None:
    error = classify(400, {}, body, api="payroll", what="update employee")
    assert str(error) == "24SevenOffice refused update employee (HTTP 400)"


def test_simployer_400_names_its_own_fields_from_a_message_list() -> None:
    body = _simployer_error(400, ["filters[employeeNumber]: unknown operator '$like'"])
    error = classify(400, {}, body, api="simployer", what="list employee")
    assert str(error) == "Simployer One refused list employee: field employeeNumber (HTTP 400)"


def test_known_payroll_fields_include_every_write_field() -> None:
    known = {"empId", "salary", "employment_rate", "absenceType", "internationalID.ID"}
    assert mentioned_fields(" ".join(sorted(known)), known) == sorted(known)
    for struct in (payroll.EmployeeWrite, payroll.EmploymentWrite, payroll.AbsenceWrite):
        for name in struct.__struct_encode_fields__:
            error = classify(400, {}, _payroll_error(f"{name} is bad"), api="payroll", what="w")
            assert name in str(error)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("2.5", 2.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),  # an HTTP date, 10 s after "now"
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),  # in the past
        ("nan", None),
        ("", None),
    ],
)
def test_retry_after_seconds(header: str, expected: float | None) -> None:
    now = 1445412480.0  # 2015-10-21 07:28:00 UTC
    assert retry_after_seconds({"Retry-After": header}, now=now) == expected


def test_no_retry_after_header() -> None:
    assert retry_after_seconds({}) is None


def test_network_errors_are_retryable_and_keep_no_url() -> None:
    class LeakyError(Exception):
        def __str__(self) -> str:
            return "GET https://x/api/auth?token=persistent-secret failed"

    error = network_error(LeakyError(), api="payroll", what="token exchange")
    assert type(error) is Retryable
    assert str(error) == "24SevenOffice: token exchange failed (LeakyError)"
    timeout = network_error(TimeoutError(), api="simployer", what="list employee")
    assert str(timeout) == "Simployer One: list employee timed out"


def test_an_undecodable_answer_keeps_the_path_but_not_the_value() -> None:
    body = b'[{"code": "01", "description": "x", "category": "Kari"}]'
    with pytest.raises(msgspec.ValidationError) as shape:
        msgspec.json.decode(body, type=list[payroll.AbsenceType])
    assert "Kari" in str(shape.value)  # msgspec echoes a bad enum value...
    assert field_path(shape.value) == "$[0].category"
    error = unexpected_answer(shape.value, api="payroll", what="read absence types")
    assert type(error) is Permanent
    assert str(error) == (
        "24SevenOffice answered read absence types in an unexpected shape at $[0].category"
    )  # ...we do not
    with pytest.raises(msgspec.DecodeError) as malformed:
        msgspec.json.decode(b"<html>", type=list[payroll.AbsenceType])
    assert type(unexpected_answer(malformed.value, api="payroll", what="x")) is Retryable


def test_the_path_of_a_missing_field_ends_with_its_name() -> None:
    """msgspec's own path stops at the object that lacks the field; ours names the field."""
    for body, path in (
        (b'[{"description": "x", "category": "sickness"}]', "$[0].code"),
        (b'{"description": "x", "category": "sickness"}', "$.code"),
    ):
        kind = list[payroll.AbsenceType] if body.startswith(b"[") else payroll.AbsenceType
        with pytest.raises(msgspec.ValidationError) as missing:
            msgspec.json.decode(body, type=kind)
        assert field_path(missing.value) == path

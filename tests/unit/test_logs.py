"""The redacting processor, and the JSON lines `configure_logging` writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any, Final

import pytest
import structlog

from payroll_sync.logs import MASK, SENSITIVE_KEYS, configure_logging, redact_personal_data

SSN: Final = "15108695088"
ACCOUNT: Final = "12345678903"
TOKEN: Final = "tok-3b9f0c1e-secret"


def _redact(**event: Any) -> dict[str, Any]:
    return dict(redact_personal_data(None, "info", dict(event)))


@pytest.fixture
def restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


# ------------------------------------------------------------------ sensitive keys


@pytest.mark.parametrize("key", sorted(SENSITIVE_KEYS))
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(SSN, id="digits"),
        pytest.param("Storgata 1", id="text"),
        pytest.param(52000, id="int"),
        pytest.param(52000.5, id="float"),
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param(["a", 1], id="list"),
        pytest.param({"nested": "x"}, id="dict"),
    ],
)
def test_sensitive_keys_are_masked_whatever_the_value(key: str, value: object) -> None:
    assert _redact(**{key: value, "event": "e"}) == {key: MASK, "event": "e"}


@pytest.mark.parametrize("key", ["SSN", "Token", "Authorization", "IBAN", "PostAddress"])
def test_sensitive_keys_are_matched_whatever_their_case(key: str) -> None:
    assert _redact(**{key: "value"})[key] == MASK


def test_sensitive_keys_inside_nested_dicts_are_masked() -> None:
    event = _redact(
        details={"ssn": "x", "name": "ok", "inner": {"account": 1, "kept": "yes"}},
        rows=[{"token": "t", "n": 1}],
    )
    assert event == {
        "details": {"ssn": MASK, "name": "ok", "inner": {"account": MASK, "kept": "yes"}},
        "rows": [{"token": MASK, "n": 1}],
    }


# ------------------------------------------------------------------ identifier-shaped values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(SSN, MASK, id="eleven-digits"),
        pytest.param("151086 95088", MASK, id="space"),
        pytest.param("1510.86.95088", MASK, id="dots-account-style"),
        pytest.param("1234.56.78903", MASK, id="account-with-dots"),
        pytest.param("1 5 1 0 8 6 9 5 0 8 8", MASK, id="space-between-every-digit"),
        pytest.param("151086-95088", MASK, id="dash"),
        pytest.param(f"ssn {SSN} is wrong", f"ssn {MASK} is wrong", id="inside-text"),
        pytest.param(f"{SSN},{ACCOUNT}", f"{MASK},{MASK}", id="two-in-one"),
        pytest.param(f"x{SSN}y", f"x{MASK}y", id="between-letters"),
        # Not identifier-shaped: kept.
        pytest.param("1510869508", "1510869508", id="ten-digits"),
        pytest.param("151086950881", "151086950881", id="twelve-digits"),
        pytest.param("1510  86.95088", "1510  86.95088", id="double-separator"),
        pytest.param("employee 1001", "employee 1001", id="employee-number"),
        pytest.param("2024-08-01", "2024-08-01", id="date"),
        pytest.param("", "", id="empty"),
    ],
)
def test_eleven_digit_runs_are_masked_in_strings(text: str, expected: str) -> None:
    assert _redact(reason=text)["reason"] == expected


def test_eleven_digit_runs_are_masked_inside_lists_tuples_and_dicts() -> None:
    event = _redact(
        values=[SSN, "ok", 7, [f"n {ACCOUNT}"]],
        pair=(SSN, "kept"),
        mapping={"note": f"konto {ACCOUNT}", "deeper": {"list": [SSN]}, "count": 3},
    )
    assert event == {
        "values": [MASK, "ok", 7, [f"n {MASK}"]],
        "pair": [MASK, "kept"],
        "mapping": {"note": f"konto {MASK}", "deeper": {"list": [MASK]}, "count": 3},
    }


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("record.synced", id="event-name"),
        pytest.param("1001", id="employee-number"),
        pytest.param("created", id="outcome"),
        pytest.param(["firstname", "employment.startdate"], id="changed-field-names"),
        pytest.param(3, id="int"),
        pytest.param(12.5, id="float"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
        pytest.param({"a": "b", "n": [1, 2]}, id="dict"),
    ],
)
def test_other_values_are_untouched(value: object) -> None:
    assert _redact(value=value) == {"value": value}


def test_the_event_dict_keeps_its_keys_and_order() -> None:
    event = _redact(event="record.synced", employee_number="1001", ssn=SSN, outcome="created")
    assert list(event) == ["event", "employee_number", "ssn", "outcome"]


# ------------------------------------------------------------------ configure_logging


@pytest.mark.usefixtures("restore_structlog")
def test_configured_json_lines_hold_no_personal_data() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    structlog.get_logger("payroll_sync.test").info(
        "record.synced",
        employee_number="1001",
        outcome="failed",
        ssn=SSN,
        account=ACCOUNT,
        token=TOKEN,
        reason=f"refused {SSN} and {ACCOUNT}",
        changed=["firstname"],
    )
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    for secret in (SSN, ACCOUNT, TOKEN):
        assert secret not in lines[0]
    event = json.loads(lines[0])
    assert event["event"] == "record.synced"
    assert event["employee_number"] == "1001"
    assert event["outcome"] == "failed"
    assert event["changed"] == ["firstname"]
    assert event["level"] == "info"
    assert event["ssn"] == event["account"] == event["token"] == MASK
    assert event["reason"] == f"refused {MASK} and {MASK}"


@pytest.mark.usefixtures("restore_structlog")
def test_configured_level_filters_events() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, level=logging.WARNING)
    log = structlog.get_logger("payroll_sync.test")
    log.info("quiet.event")
    log.warning("loud.event", employee_number="1001")
    events = [json.loads(line)["event"] for line in stream.getvalue().splitlines()]
    assert events == ["loud.event"]


@pytest.mark.usefixtures("restore_structlog")
def test_exception_tracebacks_are_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        raise ValueError(f"bad ssn {SSN}")
    except ValueError:
        structlog.get_logger("payroll_sync.test").exception("record.crashed")
    line = stream.getvalue()
    assert "record.crashed" in line
    assert "ValueError" in line
    assert SSN not in line


@pytest.mark.usefixtures("restore_structlog")
def test_stdlib_records_go_through_the_redactor(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("dramatiq.worker").warning("failed to process message %s", SSN)
    printed = stream.getvalue() + capsys.readouterr().err
    assert SSN not in printed
    assert "failed to process message" in stream.getvalue()

"""The redacting processor, and the JSON lines `configure_logging` writes."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

import dramatiq
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


# ------------------------------------------------------------------ run ids, Dramatiq, whole lines


@pytest.mark.parametrize(
    "run_id",
    [
        # The hex part starting with five digits made "023640-12345" read as 11 digits.
        "20261201T023640-12345abc",
        "20261201T023640-99999f00",
        "20261201T235959-01234e56",
        "20261201T023640-1a2b3c4d",
    ],
)
def test_run_ids_are_never_masked(run_id: str) -> None:
    event = _redact(run_id=run_id, reason=f"run {run_id} finished", nested={"run": run_id})
    assert event == {
        "run_id": run_id,
        "reason": f"run {run_id} finished",
        "nested": {"run": run_id},
    }


def test_no_run_id_of_many_is_masked() -> None:
    from payroll_sync.runs.store import new_run_id

    ids = [new_run_id(1_764_556_000.0 + second) for second in range(3000)]
    assert [run_id for run_id in ids if _redact(run_id=run_id)["run_id"] != run_id] == []


def test_an_identifier_beside_a_run_id_is_still_masked() -> None:
    text = f"20261201T023640-12345abc {SSN}"
    assert _redact(reason=text)["reason"] == f"20261201T023640-12345abc {MASK}"


class _SlowStream(io.StringIO):
    """A stream that lets other threads run between any two writes, as a pipe under load may."""

    def write(self, text: str) -> int:
        time.sleep(0.0001)
        return super().write(text)


@pytest.mark.usefixtures("restore_structlog")
def test_one_json_object_per_line_from_many_threads() -> None:
    stream = _SlowStream()
    configure_logging(stream=stream)
    ours = structlog.get_logger("payroll_sync.test")
    theirs = logging.getLogger("dramatiq.worker")

    def write(index: int) -> None:
        for line in range(40):
            if index % 2:
                ours.info("record.synced", thread=index, line=line)
            else:
                theirs.warning("library line %d", line)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6 * 40
    for line in lines:
        json.loads(line)  # two objects on one line, or half of one, would not parse


@pytest.mark.usefixtures("restore_structlog")
def test_dramatiq_never_logs_a_message_body() -> None:
    """A real Dramatiq worker failing a message logs "Failed to process message %s" with the
    message: its arguments (the task, with a name and a fødselsnummer) must not be printed."""
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    stream = io.StringIO()
    configure_logging(stream=stream, level=logging.DEBUG)
    broker = StubBroker()

    @dramatiq.actor(broker=broker, max_retries=0, queue_name="bodies")
    def crash(task: dict[str, str]) -> None:
        raise ValueError("crashed")

    crash.send({"firstname": "Kari", "lastname": "Nordmannsen", "personnr": SSN})
    worker = Worker(broker, worker_threads=1)
    worker.start()
    try:
        broker.join("bodies", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
        broker.close()
        logging.getLogger().setLevel(logging.WARNING)
    printed = stream.getvalue()
    assert "Failed to process message" in printed
    # Named by actor and id (the id may be a copy's: some middleware re-sends it). A random id
    # with 11 digits in a row (hyphens between) is masked like a fødselsnummer: `***`.
    assert re.search(r"Failed to process message crash\([0-9a-f*-]{12,36}\) with", printed)
    for secret in ("Kari", "Nordmannsen", SSN, "personnr"):
        assert secret not in printed

"""The argument types the commands share, and the parser every command adds itself to."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable

import pytest

from payroll_sync.cli import arguments
from payroll_sync.cli.main import build_parser, main


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (arguments.port, "0", 0),
        (arguments.port, "65535", 65535),
        (arguments.positive, "1", 1),
        (arguments.non_negative, "0", 0.0),
        (arguments.non_negative, "2.5", 2.5),
        (arguments.share, "1", 1.0),
        (arguments.number(0, 3600, above=True), "0.5", 0.5),
        (arguments.employee_numbers, " 12, 40 ,", ["12", "40"]),
        (arguments.absence_codes, "01", ["01"]),
        (arguments.iso_date, "2026-02-28", "2026-02-28"),
    ],
)
def test_accepted(parse: Callable[[str], object], text: str, value: object) -> None:
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (arguments.port, "70000", "must be between 0 and 65535, got 70000"),
        (arguments.port, "http", "expected a whole number, got 'http'"),
        (arguments.positive, "0", "must be at least 1, got 0"),
        (arguments.non_negative, "-1", "must be at least 0, got -1"),
        (arguments.non_negative, "nan", "expected a number, got 'nan'"),
        (arguments.share, "1.5", "must be between 0 and 1, got 1.5"),
        (arguments.number(0, 3600, above=True), "0", "must be more than 0 and at most 3600"),
        (arguments.number(0, 3600, above=True), "soon", "expected a number, got 'soon'"),
        (arguments.employee_numbers, " , ", "give employee numbers separated by commas"),
        (arguments.iso_date, "2026-02-30", "'2026-02-30' is not a date; use YYYY-MM-DD"),
        (arguments.oslo_time, "tomorrow", "expected an ISO 8601 time"),
    ],
)
def test_refused(parse: Callable[[str], object], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


def test_a_time_without_an_offset_is_on_the_oslo_clock() -> None:
    moment = arguments.oslo_time("2026-07-01T06:00")
    assert moment.utcoffset() == datetime.timedelta(hours=2)


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["simulate"],
        ["check-config"],
        ["worker"],
        ["sync", "employees", "--integration", "acme"],
        ["sync", "absences", "--integration", "acme", "--from", "2026-01-01", "--to", "2026-01-31"],
        ["scheduler"],
        ["schedule", "--integration", "acme"],
        ["intake"],
        ["dashboard"],
    ],
)
def test_every_command_names_the_function_that_runs_it(argv: list[str]) -> None:
    assert callable(build_parser().parse_args(argv).func)


def test_a_bad_argument_is_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dashboard", "--port", "http"])
    assert exited.value.code == 2
    assert "argument --port: expected a whole number, got 'http'" in capsys.readouterr().err


def test_a_refusal_is_exit_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", "/nonexistent/integrations.toml")
    assert main(["schedule", "--integration", "acme"]) == 2
    assert capsys.readouterr().err == (
        "payroll-sync: /nonexistent/integrations.toml: settings file not found "
        "(set PAYROLL_SYNC_CONFIG)\n"
    )

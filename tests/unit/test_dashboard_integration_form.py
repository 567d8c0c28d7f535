"""The integration pages' forms read into the wizard API's body and decoder (pure)."""

from __future__ import annotations

import datetime

import pytest

from payroll_sync.dashboard.integration_form import (
    ExportValues,
    FormError,
    code_boxes,
    decode_settings,
    default_period,
    export_request,
    new_id,
    overrides_text,
    parse_overrides,
    split_list,
    values_from_form,
    values_of,
)
from payroll_sync.schemas.settings import Absences, Integration, Schedule
from payroll_sync.wizard.payload import BadIntegration

FORM: dict[str, list[str]] = {
    "simployer_url": ["https://api.simployer.example/v1"],
    "payroll_url": ["https://api.24so.example/api"],
    "simployer_token": ["s-token-1"],
    "payroll_token": ["p-token-2"],
    "rate_limit_per_second": ["12.5"],
    "rate_limit_burst": [""],
    "scope.departments": ["d1", "d2"],
    "scope.employees": ["1001, 1002\n1003"],
    "scope.exclude": [""],
    "schedule.enabled": ["1"],
    "schedule.weekdays": ["mon", "thu"],
    "schedule.times": ["06:00 , 18:30"],
    "schedule.employees": ["1"],
    "absences.codes": ["01", "04"],
    "absences.overrides": ["Long leave = 13\r\n\n  sabbatical=12 "],
    "schedule.absence_days_back": ["7"],
    "schedule.absence_days_ahead": [""],
}


def test_a_form_becomes_the_settings_the_api_would_store() -> None:
    settings, tokens = decode_settings(FORM)
    assert settings.rate_limit_per_second == 12.5
    assert settings.rate_limit_burst is None
    assert settings.scope.departments == ["d1", "d2"]
    assert settings.scope.employees == ["1001", "1002", "1003"]
    assert settings.schedule == Schedule(
        enabled=True,
        weekdays=["mon", "thu"],
        times=["06:00", "18:30"],
        absences=False,
        absence_days_back=7,
    )
    assert settings.absences.codes == ["01", "04"]
    assert (tokens.simployer_token, tokens.payroll_token) == ("s-token-1", "p-token-2")
    assert settings.simployer_token_env is None


def test_blank_tokens_are_kept() -> None:
    form = {**FORM, "simployer_token": [" "], "payroll_token": [""]}
    _, tokens = decode_settings(form)
    assert (tokens.simployer_token, tokens.payroll_token) == (None, None)


def test_the_form_holds_the_whole_integration_table() -> None:
    settings, _ = decode_settings(FORM)
    assert settings.absences == Absences(
        codes=["01", "04"], overrides={"Long leave": "13", "sabbatical": "12"}
    )
    # A blank number takes its default.
    assert (settings.schedule.absence_days_back, settings.schedule.absence_days_ahead) == (7, 31)
    # No codes ticked and no overrides: all codes, the default table.
    bare = {**FORM, "absences.codes": [], "absences.overrides": [""]}
    assert decode_settings(bare)[0].absences == Absences()


def test_stored_settings_shown_in_the_form_and_sent_back_are_the_same_settings() -> None:
    stored = Integration(
        simployer_url="https://old.example/v1",
        payroll_url="https://old.example/api",
        absences=Absences(codes=["06"], overrides={"Ferie": "04", "Long = leave": "13"}),
        schedule=Schedule(enabled=True, absences=True, absence_days_back=0, absence_days_ahead=366),
    )
    values = values_of("acme", stored)
    assert values.absence_codes == ["06"]
    assert values.absence_overrides == "Ferie = 04\nLong = leave = 13"
    assert (values.absence_days_back, values.absence_days_ahead) == ("0", "366")
    # The form as the page sends it back, untouched.
    form = {
        "simployer_url": [values.simployer_url],
        "payroll_url": [values.payroll_url],
        "rate_limit_per_second": [values.rate_limit_per_second],
        "simployer_rate_limit_per_second": [values.simployer_rate_limit_per_second],
        "schedule.enabled": ["1"],
        "schedule.weekdays": values.weekdays,
        "schedule.times": [values.times],
        "schedule.employees": ["1"],
        "schedule.absences": ["1"],
        "schedule.absence_days_back": [values.absence_days_back],
        "schedule.absence_days_ahead": [values.absence_days_ahead],
        "absences.codes": values.absence_codes,
        "absences.overrides": [values.absence_overrides],
    }
    assert decode_settings(form)[0] == stored
    assert values_from_form({**form, "id": ["acme"]}) == values


def test_overrides_are_read_line_by_line() -> None:
    text = "Long leave = 13\n\nsabbatical=12\n"
    assert parse_overrides(text) == {"Long leave": "13", "sabbatical": "12"}
    assert parse_overrides(overrides_text(parse_overrides(text))) == parse_overrides(text)
    assert parse_overrides("  \n") == {}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Ferie = 04\nLong leave 13", "absences.overrides: line 2: expected 'leave type = code'"),
        (" = 04", "absences.overrides: line 1: expected 'leave type = code'"),
        ("Ferie = 04\nFerie = 05", "absences.overrides: line 2: 'Ferie' is given twice"),
    ],
)
def test_an_overrides_line_that_is_no_pair_is_named(text: str, named: str) -> None:
    with pytest.raises(FormError) as refused:
        decode_settings({**FORM, "absences.overrides": [text]})
    assert str(refused.value) == named


def test_the_code_boxes_are_the_known_codes_and_any_unknown_one_chosen() -> None:
    boxes = code_boxes(["04", "99"])
    assert [box["code"] for box in boxes if box["checked"]] == ["04", "99"]
    assert boxes[0] == {"code": "01", "name": "Sykmelding", "checked": False}
    assert boxes[-1]["name"] == "unknown to 24SevenOffice"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("rate_limit_per_second", "fast", "rate_limit_per_second: expected a number"),
        ("rate_limit_per_second", "0", "rate_limit_per_second: expected a number > 0"),
        ("rate_limit_burst", "1.5", "rate_limit_burst:"),
        ("schedule.times", "06:00 6:30", "schedule.times[1]:"),
        ("schedule.weekdays", "monday", "schedule.weekdays[0]:"),
        ("payroll_url", "ftp://x", "payroll_url:"),
        ("absences.codes", "99", "absences.codes: unknown absence code '99'"),
        ("absences.overrides", "Long leave = 1", 'absences.overrides."Long leave": expected a two'),
        (
            "absences.overrides",
            "Long leave = 99",
            "absences.overrides.\"Long leave\": unknown absence code '99'",
        ),
        ("schedule.absence_days_back", "a week", "schedule.absence_days_back: expected a whole"),
        ("schedule.absence_days_ahead", "367", "schedule.absence_days_ahead: expected a whole"),
        ("schedule.absence_days_back", "-1", "schedule.absence_days_back: expected a whole"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field(field: str, value: str, named: str) -> None:
    with pytest.raises(BadIntegration) as refused:
        decode_settings({**FORM, field: [value]})
    assert str(refused.value).startswith(named), str(refused.value)
    assert "s-token-1" not in str(refused.value)


def test_the_form_shown_again_holds_no_token() -> None:
    values = values_from_form(FORM)
    assert "token" not in repr(values)
    assert "s-token-1" not in repr(values)
    settings, _ = decode_settings(FORM)
    assert values_of("acme", settings).times == "06:00, 18:30"


def test_new_ids_follow_the_integration_id_rule() -> None:
    assert new_id({"id": [" acme-2 "]}) == "acme-2"
    for bad in ("", "a b", "-x", "x" * 65):
        with pytest.raises(FormError, match=r"^id: "):
            new_id({"id": [bad]})


def test_an_export_form_becomes_an_absence_sync_request() -> None:
    values = ExportValues(start="2026-01-01", end="2026-03-31", employees="7, 9", codes="01")
    request = export_request("acme", values, dry_run=True)
    assert (request.kind, request.trigger, request.dry_run) == ("absences", "manual", True)
    assert str(request.period) == "2026-01-01..2026-03-31"
    assert (request.employees, request.codes) == (["7", "9"], ["01"])
    everyone = export_request(
        "acme", ExportValues(start="2026-01-01", end="2026-01-02"), dry_run=False
    )
    assert (everyone.employees, everyone.codes, everyone.dry_run) == (None, None, False)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (ExportValues(start="", end="2026-01-01"), "period.from: expected a date"),
        (ExportValues(start="2026-02-01", end="2026-01-01"), "period: 'from' 2026-02-01 is after"),
        (ExportValues(start="2026-01-01", end="2026-01-02", codes="77"), "codes: unknown"),
        (ExportValues(start="2026-01-01", end="2026-01-02", employees="x" * 65), "employees[0]:"),
    ],
)
def test_a_wrong_export_form_names_the_field(values: ExportValues, named: str) -> None:
    with pytest.raises(FormError) as refused:
        export_request("acme", values, dry_run=True)
    assert str(refused.value).startswith(named), str(refused.value)


def test_lists_and_the_default_period() -> None:
    assert split_list(" 1, 2;3\n 4 ") == ["1", "2", "3", "4"]
    assert split_list("") == []
    month = default_period(datetime.date(2026, 2, 14))
    assert (month.start, month.end) == ("2026-02-01", "2026-02-28")

"""The integration pages' forms read into the wizard API's body and decoder (pure)."""

from __future__ import annotations

import datetime

import pytest

from payroll_sync.dashboard.integration_form import (
    ExportValues,
    FormError,
    decode_settings,
    default_period,
    export_request,
    new_id,
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
    "absences.codes": ["01 04"],
}


def test_a_form_becomes_the_settings_the_api_would_store() -> None:
    settings, tokens = decode_settings(FORM, None)
    assert settings.rate_limit_per_second == 12.5
    assert settings.rate_limit_burst is None
    assert settings.scope.departments == ["d1", "d2"]
    assert settings.scope.employees == ["1001", "1002", "1003"]
    assert settings.schedule == Schedule(
        enabled=True, weekdays=["mon", "thu"], times=["06:00", "18:30"], absences=False
    )
    assert settings.absences.codes == ["01", "04"]
    assert (tokens.simployer_token, tokens.payroll_token) == ("s-token-1", "p-token-2")
    assert settings.simployer_token_env is None


def test_blank_tokens_are_kept_and_what_the_form_does_not_show_comes_from_the_stored() -> None:
    base = Integration(
        simployer_url="https://old.example/v1",
        payroll_url="https://old.example/api",
        absences=Absences(overrides={"Ferie": "04"}),
        schedule=Schedule(absence_days_back=5),
    )
    form = {**FORM, "simployer_token": [" "], "payroll_token": [""]}
    settings, tokens = decode_settings(form, base)
    assert (tokens.simployer_token, tokens.payroll_token) == (None, None)
    assert settings.absences.overrides == {"Ferie": "04"}
    assert settings.schedule.absence_days_back == 5


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("rate_limit_per_second", "fast", "rate_limit_per_second: expected a number"),
        ("rate_limit_per_second", "0", "rate_limit_per_second: expected a number > 0"),
        ("rate_limit_burst", "1.5", "rate_limit_burst:"),
        ("schedule.times", "06:00 6:30", "schedule.times[1]:"),
        ("schedule.weekdays", "monday", "schedule.weekdays[0]:"),
        ("payroll_url", "ftp://x", "payroll_url:"),
        ("absences.codes", "99", "absences.codes"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_field(field: str, value: str, named: str) -> None:
    with pytest.raises(BadIntegration) as refused:
        decode_settings({**FORM, field: [value]}, None)
    assert str(refused.value).startswith(named), str(refused.value)
    assert "s-token-1" not in str(refused.value)


def test_the_form_shown_again_holds_no_token() -> None:
    values = values_from_form(FORM)
    assert "token" not in repr(values)
    assert "s-token-1" not in repr(values)
    settings, _ = decode_settings(FORM, None)
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

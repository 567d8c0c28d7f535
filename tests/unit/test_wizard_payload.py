"""The wizard's PUT body: settings plus tokens in, or a message naming the field; and the view of
a stored integration, which never holds a token."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.registry.records import StoredIntegration
from payroll_sync.schemas.brake import Brake
from payroll_sync.schemas.settings import Absences, Integration, Schedule, Scope
from payroll_sync.wizard.payload import (
    MAX_TOKEN_CHARS,
    BadIntegration,
    decode_integration,
    integration_view,
    settings_view,
)

SIMPLOYER_TOKEN = "simployer-secret-7f3a9c"
PAYROLL_TOKEN = "payroll-secret-2b8e41"
URLS: dict[str, Any] = {
    "simployer_url": "https://api.example.com/v1",
    "payroll_url": "https://p.example.com/api",
}


def _body(**fields: object) -> dict[str, object]:
    return {
        **URLS,
        "simployer_token": SIMPLOYER_TOKEN,
        "payroll_token": PAYROLL_TOKEN,
        **fields,
    }


def _raw(body: object) -> bytes:
    return json.dumps(body).encode()


def _refusal(raw: bytes) -> str:
    with pytest.raises(BadIntegration) as refused:
        decode_integration(raw)
    message = str(refused.value)
    assert SIMPLOYER_TOKEN not in message
    assert PAYROLL_TOKEN not in message
    return message


def test_a_whole_body_becomes_settings_and_tokens() -> None:
    body = _body(
        rate_limit_per_second=5,
        scope={"departments": ["d1"], "offices": ["o1"], "employees": ["12"], "exclude": ["7"]},
        absences={"codes": ["01"], "overrides": {"Sabbatical": "13"}},
        schedule={"enabled": True, "weekdays": ["mon"], "times": ["06:30"], "absences": True},
    )
    integration, tokens = decode_integration(_raw(body))
    assert integration == Integration(
        **URLS,
        rate_limit_per_second=5.0,
        scope=Scope(departments=["d1"], offices=["o1"], employees=["12"], exclude=["7"]),
        absences=Absences(codes=["01"], overrides={"Sabbatical": "13"}),
        schedule=Schedule(enabled=True, weekdays=["mon"], times=["06:30"], absences=True),
    )
    assert integration.simployer_token_env is None
    assert integration.payroll_token_env is None
    assert tokens.simployer_token == SIMPLOYER_TOKEN
    assert tokens.payroll_token == PAYROLL_TOKEN
    assert SIMPLOYER_TOKEN not in repr(tokens)


def test_tokens_may_be_left_out_and_are_trimmed() -> None:
    integration, tokens = decode_integration(_raw({**URLS, "payroll_token": " abc\n"}))
    assert integration == Integration(**URLS)
    assert tokens.simployer_token is None
    assert tokens.payroll_token == "abc"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            _body(scope={"offices": ["o1", 3]}),
            "scope.offices[1]: expected a string, got a whole number",
            id="nested-list-item",
        ),
        pytest.param(
            _body(scope={"departmens": []}),
            "scope.departmens: unknown field (allowed: departments, offices, employees, exclude)",
            id="unknown-nested",
        ),
        pytest.param(
            _body(colour="red"),
            "colour: unknown field (allowed: simployer_url, payroll_url, rate_limit_per_second, "
            "rate_limit_burst, simployer_rate_limit_per_second, scope, absences, schedule, "
            "brake, simployer_token, payroll_token)",
            id="unknown-top",
        ),
        pytest.param(
            {"payroll_url": URLS["payroll_url"]}, "simployer_url: missing (required)", id="missing"
        ),
        pytest.param(
            _body(simployer_url="ftp://x"),
            "simployer_url: expected an http:// or https:// URL",
            id="url",
        ),
        pytest.param(
            _body(rate_limit_per_second=0), "rate_limit_per_second: expected a number > 0"
        ),
        pytest.param(
            _body(schedule={"weekdays": ["mon", "someday"]}),
            'schedule.weekdays[1]: expected one of "mon", "tue", "wed", "thu", "fri", "sat", "sun"',
            id="weekday",
        ),
        pytest.param(
            _body(schedule={"times": ["6:00"]}),
            "schedule.times[0]: expected a time of day as HH:MM (00:00-23:59)",
            id="time",
        ),
        pytest.param(
            _body(absences={"overrides": {"Long leave": "1"}}),
            'absences.overrides."Long leave": expected a two-digit absence code such as "01"',
            id="override-named-by-key",
        ),
        pytest.param(
            _body(absences={"codes": ["99"]}),
            "absences.codes: unknown absence code '99' (known: 01, 02, 03, 04, 05, 06, 07, 10, "
            "11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)",
            id="unknown-code",
        ),
        pytest.param(
            _body(simployer_token_env="ACME_SIMPLOYER_TOKEN"),
            "simployer_token_env: not taken here; send the token itself as simployer_token (it "
            "is stored encrypted, never shown again)",
            id="token-variable-refused",
        ),
        pytest.param(_body(payroll_token=12), "payroll_token: expected a string"),
        pytest.param(
            _body(payroll_token="  "),
            "payroll_token: expected a non-empty string (leave it out to keep it)",
        ),
        pytest.param(
            _body(simployer_token=SIMPLOYER_TOKEN + "\nX-Other: 1"),
            "simployer_token: expected printable characters without spaces",
            id="header-injection",
        ),
        pytest.param(
            _body(simployer_token="x" * (MAX_TOKEN_CHARS + 1)),
            f"simployer_token: longer than {MAX_TOKEN_CHARS} characters",
        ),
        pytest.param([URLS], "body: expected an object", id="not-an-object"),
        pytest.param(
            _body(brake={"salary_percent": 120}),
            "brake.salary_percent: expected a number <= 100",
            id="brake-share",
        ),
        pytest.param(
            _body(brake={"absences_withdrawn": -1}),
            "brake.absences_withdrawn: expected a whole number >= 0",
            id="brake-count",
        ),
        pytest.param(
            _body(brake={"enabled": "yes"}),
            "brake.enabled: expected true or false, got a string",
            id="brake-switch",
        ),
        pytest.param(
            _body(brake={"salary": 10}),
            "brake.salary: unknown field (allowed: enabled, salary_percent, account_percent, "
            "personnr_percent, employments_ending_percent, absences_withdrawn)",
            id="brake-unknown",
        ),
    ],
)
def test_bad_bodies_name_the_field(body: object, message: str) -> None:
    assert _refusal(_raw(body)) == message


def test_the_brake_settings_are_taken_and_default_when_left_out() -> None:
    settings, _ = decode_integration(_raw(_body(brake={"enabled": False, "account_percent": 5})))
    assert settings.brake == Brake(enabled=False, account_percent=5.0)
    settings, _ = decode_integration(_raw(_body()))
    assert settings.brake == Brake()


def test_malformed_json() -> None:
    assert _refusal(b'{"simployer_url": ').startswith("body is not valid JSON (")


def test_a_token_is_never_in_a_message_even_when_another_field_is_wrong() -> None:
    # msgspec quotes some values (an enum's): the tokens are gone before it reads anything.
    message = _refusal(_raw(_body(scope={"exclude": [SIMPLOYER_TOKEN, 1]}, oops=PAYROLL_TOKEN)))
    assert message.startswith("oops: unknown field") or message.startswith("scope.exclude[1]")


def _stored(integration: Integration, *, simployer: bool, payroll: bool) -> StoredIntegration:
    return StoredIntegration(
        id="acme",
        settings=integration,
        version=7,
        has_simployer_token=simployer,
        has_payroll_token=payroll,
        created_at=1764547200.0,  # 2025-12-01T00:00:00Z
        updated_at=1764550800.5,
    )


def test_the_view_of_a_stored_integration() -> None:
    integration, _ = decode_integration(_raw(_body(scope={"exclude": ["7"]})))
    view = integration_view(_stored(integration, simployer=True, payroll=False))
    assert view == {
        "id": "acme",
        "settings": {
            **URLS,
            "rate_limit_per_second": 10.0,
            "rate_limit_burst": None,
            "simployer_rate_limit_per_second": integration.simployer_rate_limit_per_second,
            "scope": {"departments": [], "offices": [], "employees": [], "exclude": ["7"]},
            "absences": {"codes": [], "overrides": {}},
            "schedule": msgspec.to_builtins(Schedule()),
            "brake": msgspec.to_builtins(Brake()),
        },
        "tokens": {"simployer": "set", "payroll": "missing"},
        "version": 7,
        "created_at": "2025-12-01T00:00:00+00:00",
        "updated_at": "2025-12-01T01:00:00+00:00",
    }


def test_a_settings_file_integration_keeps_its_variable_names_in_the_view() -> None:
    named = Integration(**URLS, simployer_token_env="ACME_S", payroll_token_env="ACME_P")
    view = settings_view(named)
    assert view["simployer_token_env"] == "ACME_S"
    assert view["payroll_token_env"] == "ACME_P"


ids = st.lists(st.text("abc-", min_size=1, max_size=4), max_size=3)
numbers = st.lists(st.integers(1, 999).map(str), max_size=3)


@settings(max_examples=100, deadline=None)
@given(
    scope=st.builds(Scope, departments=ids, offices=ids, employees=numbers, exclude=numbers),
    schedule=st.builds(
        Schedule,
        enabled=st.booleans(),
        weekdays=st.lists(st.sampled_from(["mon", "wed", "sun"]), min_size=1, max_size=3),
        times=st.lists(st.sampled_from(["00:00", "06:05", "23:59"]), min_size=1, max_size=2),
    ),
    rate=st.floats(0.5, 1000),
    burst=st.one_of(st.none(), st.integers(1, 10000)),
)
def test_the_view_of_settings_is_a_body_that_gives_them_back(
    scope: Scope, schedule: Schedule, rate: float, burst: int | None
) -> None:
    integration = Integration(
        **URLS, rate_limit_per_second=rate, rate_limit_burst=burst, scope=scope, schedule=schedule
    )
    again, tokens = decode_integration(_raw(settings_view(integration)))
    assert again == integration
    assert tokens.simployer_token is None
    assert tokens.payroll_token is None

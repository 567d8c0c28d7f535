"""Settings file, environment and credentials: every refusal names the key or variable to fix."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import msgspec
import pytest

from payroll_sync.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    Credentials,
    Environment,
    credentials,
    environment,
    integration,
    load_settings,
    parse_settings,
)
from payroll_sync.errors import ConfigError, Permanent
from payroll_sync.schemas.settings import Integration, Scope, Settings

GOOD = textwrap.dedent(
    """\
    [integrations.acme]
    simployer_url = "https://api.simployer.example/v1"
    simployer_token_env = "ACME_SIMPLOYER_TOKEN"
    payroll_url = "https://payroll.example"
    payroll_token_env = "ACME_PAYROLL_TOKEN"
    rate_limit_per_second = 5
    rate_limit_burst = 20

    [integrations.acme.scope]
    departments = ["d1", "d2"]
    offices = ["o1"]
    employees = ["1001", "1002"]
    exclude = ["1002"]

    [integrations.beta-2]
    simployer_url = "http://127.0.0.1:8001"
    simployer_token_env = "BETA_SIMPLOYER"
    payroll_url = "http://127.0.0.1:8002"
    payroll_token_env = "BETA_PAYROLL"

    [worker]
    retry_for_hours = 6
    """
)

MINIMAL = textwrap.dedent(
    """\
    simployer_url = "https://s.example"
    simployer_token_env = "S_TOKEN"
    payroll_url = "https://p.example"
    payroll_token_env = "P_TOKEN"
    """
)

SIMPLOYER_TOKEN = "s3cr3t-simployer-9f8e7d6c"
PAYROLL_TOKEN = "s3cr3t-payroll-1a2b3c4d"


def _acme(extra: str = "", *, base: str = MINIMAL) -> str:
    return "[integrations.acme]\n" + base + extra


# ------------------------------------------------------------------ parsing


def test_good_config_parses_into_frozen_structs() -> None:
    settings = parse_settings(GOOD)
    assert list(settings.integrations) == ["acme", "beta-2"]
    acme = settings.integrations["acme"]
    assert acme == Integration(
        simployer_url="https://api.simployer.example/v1",
        simployer_token_env="ACME_SIMPLOYER_TOKEN",
        payroll_url="https://payroll.example",
        payroll_token_env="ACME_PAYROLL_TOKEN",
        rate_limit_per_second=5.0,
        rate_limit_burst=20,
        scope=Scope(
            departments=["d1", "d2"], offices=["o1"], employees=["1001", "1002"], exclude=["1002"]
        ),
    )
    beta = settings.integrations["beta-2"]
    assert beta.rate_limit_per_second == 10.0
    assert beta.rate_limit_burst is None
    assert beta.scope == Scope()
    assert settings.worker.retry_for_hours == 6.0
    with pytest.raises(AttributeError):
        beta.payroll_url = "https://elsewhere.example"  # type: ignore[misc]


def test_good_config_round_trips_through_msgspec() -> None:
    settings = parse_settings(GOOD)
    again = msgspec.convert(msgspec.to_builtins(settings), Settings)
    assert again == settings


def test_empty_file_means_no_integrations() -> None:
    assert parse_settings("") == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            _acme("[integrations.acme.scope]\ndepartmens = []\n"),
            "integrations.acme.scope.departmens: unknown key",
            id="misspelt-scope-key",
        ),
        pytest.param(
            _acme("rate_limit_per_secnd = 3\n"),
            "integrations.acme.rate_limit_per_secnd: unknown key",
            id="misspelt-integration-key",
        ),
        pytest.param("integration = {}\n", "integration: unknown key", id="misspelt-top-level"),
        pytest.param(
            _acme("rate_limit_per_second = -1\n"),
            "integrations.acme.rate_limit_per_second: expected a number > 0",
            id="negative-rate",
        ),
        pytest.param(
            _acme("rate_limit_per_second = 0\n"),
            "integrations.acme.rate_limit_per_second: expected a number > 0",
            id="zero-rate",
        ),
        pytest.param(
            _acme("rate_limit_per_second = nan\n"),
            "integrations.acme.rate_limit_per_second: expected a number > 0",
            id="nan-rate",
        ),
        pytest.param(
            _acme("rate_limit_per_second = 5000\n"),
            "integrations.acme.rate_limit_per_second: expected a number <= 1000",
            id="huge-rate",
        ),
        pytest.param(
            _acme('rate_limit_per_second = "fast"\n'),
            "integrations.acme.rate_limit_per_second: expected a number, got a string",
            id="rate-as-string",
        ),
        pytest.param(
            _acme("rate_limit_burst = 0\n"),
            "integrations.acme.rate_limit_burst: expected a whole number >= 1",
            id="zero-burst",
        ),
        pytest.param(
            _acme("rate_limit_burst = 2.5\n"),
            "integrations.acme.rate_limit_burst: expected a whole number, got a decimal number",
            id="fractional-burst",
        ),
        pytest.param(
            _acme(base=MINIMAL.replace('payroll_url = "https://p.example"\n', "")),
            "integrations.acme.payroll_url: missing (required)",
            id="missing-url",
        ),
        pytest.param(
            _acme(base=MINIMAL.replace("https://p.example", "ftp://p.example")),
            "integrations.acme.payroll_url: expected an http:// or https:// URL",
            id="ftp-url",
        ),
        pytest.param(
            _acme(base=MINIMAL.replace('"S_TOKEN"', '"1-TOKEN"')),
            "integrations.acme.simployer_token_env: expected an environment variable name "
            "(letters, digits and _, not starting with a digit)",
            id="bad-env-name",
        ),
        pytest.param(
            _acme("scope = []\n"),
            "integrations.acme.scope: expected a table, got an array",
            id="scope-not-a-table",
        ),
        pytest.param(
            _acme('[integrations.acme.scope]\noffices = "o1"\n'),
            "integrations.acme.scope.offices: expected an array, got a string",
            id="offices-not-a-list",
        ),
        pytest.param(
            _acme('[integrations.acme.scope]\nexclude = ["7", ""]\n'),
            "integrations.acme.scope.exclude[1]: expected a non-empty string",
            id="empty-employee-number",
        ),
        pytest.param(
            _acme("[integrations.acme.scope]\nemployees = [1001]\n"),
            "integrations.acme.scope.employees[0]: expected a string, got a whole number",
            id="employee-number-as-int",
        ),
        pytest.param(
            _acme("[integrations.acme.scope]\ndepartments = [2024-01-01]\n"),
            "integrations.acme.scope.departments[0]: expected a string, got a date",
            id="date-where-id-expected",
        ),
        pytest.param("integrations = 3\n", "integrations: expected a table, got a whole number"),
        pytest.param(
            "[worker]\nretry_for_hours = 0\n",
            "worker.retry_for_hours: expected a number > 0",
            id="worker-table",
        ),
        pytest.param("[worker]\nretries = 3\n", "worker.retries: unknown key", id="worker-key"),
        pytest.param(
            '[integrations."acme corp"]\n' + MINIMAL,
            'integrations."acme corp": expected an integration id (1-64 letters, digits, _ or -, '
            "starting with a letter or digit)",
            id="bad-integration-id",
        ),
        pytest.param(
            # The second integration is at fault: its own id must be named, not the first one.
            GOOD + _acme(base=MINIMAL).replace("acme", "third") + "burst = 1\n",
            "integrations.third.burst: unknown key",
            id="later-integration",
        ),
        pytest.param(
            _acme('[integrations.acme.schedule]\nweekdays = ["friday"]\n'),
            "integrations.acme.schedule.weekdays[0]: expected one of "
            '"mon", "tue", "wed", "thu", "fri", "sat", "sun"',
            id="unknown-weekday",
        ),
        pytest.param(
            _acme('[integrations.acme.schedule]\ntimes = ["25:00"]\n'),
            "integrations.acme.schedule.times[0]: expected a time of day as HH:MM (00:00-23:59)",
            id="bad-time",
        ),
        pytest.param(
            # A check of the Struct's own names its field under the table's path.
            _acme('[integrations.acme.absences]\ncodes = ["99"]\n'),
            "integrations.acme.absences.codes: unknown absence code '99' (known: 01, 02, 03, 04, "
            "05, 06, 07, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)",
            id="unknown-absence-code",
        ),
        pytest.param(
            # An override is named by its leave type, quoted as the file quotes it.
            _acme(
                '[integrations.acme.absences]\noverrides = { sick = "01", "Long leave" = "99" }\n'
            ),
            "integrations.acme.absences.overrides.\"Long leave\": unknown absence code '99' "
            "(known: 01, 02, 03, 04, 05, 06, 07, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)",
            id="unknown-override-code",
        ),
        pytest.param(
            '[intake.callers]\n"HR events" = "INTAKE_TOKEN_HR"\n',
            'intake.callers."HR events": expected a caller name (1-64 lower-case letters, digits, '
            "_ or -, starting with a letter or digit)",
            id="bad-caller-name",
        ),
        pytest.param(
            '[intake.callers]\nhr = "intake-token"\n',
            "intake.callers.hr: expected an environment variable name (letters, digits and _, "
            "not starting with a digit)",
            id="bad-caller-variable",
        ),
    ],
)
def test_bad_config_names_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, source="conf/integrations.toml")
    assert str(caught.value) == f"conf/integrations.toml: {message}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a = 1\nb = = 2\n", "integrations.toml, line 2, column 5: invalid TOML: invalid value"),
        (
            "[integrations.acme]\n[integrations.acme]\n",
            "integrations.toml, line 2, column 19: invalid TOML: cannot declare "
            "('integrations', 'acme') twice",
        ),
        ('a = "open', "integrations.toml, end of file: invalid TOML: unterminated string"),
    ],
)
def test_toml_syntax_error_names_file_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(text)
    assert str(caught.value).lower() == message.lower()


def test_config_errors_are_permanent() -> None:
    with pytest.raises(Permanent):
        parse_settings("nope = 1\n")


# ------------------------------------------------------------------ files


def test_load_settings_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "integrations.toml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_settings(path) == parse_settings(GOOD)
    assert load_settings(str(path)) == parse_settings(GOOD)


def test_load_settings_names_the_file_in_value_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(_acme("extra = 1\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: integrations\.acme\.extra: unknown key$"):
        load_settings(path)


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(caught.value) == f"{path}: settings file not found (set PAYROLL_SYNC_CONFIG)"


def test_directory_or_binary_file_is_refused_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read settings file") as caught:
        load_settings(tmp_path)
    assert str(tmp_path) in str(caught.value)
    binary = tmp_path / "latin1.toml"
    binary.write_bytes(b'name = "\xe6\xf8\xe5"\n')
    with pytest.raises(ConfigError, match=r"latin1\.toml: settings file is not UTF-8 text"):
        load_settings(binary)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    path.write_text(GOOD, encoding="utf-8")
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"secret\.toml: cannot read settings file"):
        load_settings(path)


# ------------------------------------------------------------------ lookup


def test_integration_by_id() -> None:
    settings = parse_settings(GOOD)
    assert integration(settings, "beta-2") is settings.integrations["beta-2"]


def test_unknown_integration_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        integration(parse_settings(GOOD), "acme2")
    assert str(caught.value) == "unknown integration 'acme2' (known: acme, beta-2)"
    with pytest.raises(ConfigError, match=r"\(known: none are configured\)"):
        integration(Settings(), "acme")


# ------------------------------------------------------------------ environment


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, Environment(config_path=DEFAULT_CONFIG_PATH, redis_url=DEFAULT_REDIS_URL)),
        (
            {
                "PAYROLL_SYNC_CONFIG": "/etc/payroll/i.toml",
                "REDIS_URL": "redis://r:6379/2",
                "PAYROLL_SYNC_PREFIX": "staging",
            },
            Environment(
                config_path="/etc/payroll/i.toml", redis_url="redis://r:6379/2", prefix="staging"
            ),
        ),
        (
            {"PAYROLL_SYNC_CONFIG": "", "REDIS_URL": "  ", "PAYROLL_SYNC_PREFIX": ""},
            Environment(
                config_path=DEFAULT_CONFIG_PATH, redis_url=DEFAULT_REDIS_URL, prefix=DEFAULT_PREFIX
            ),
        ),
        (
            {"REDIS_URL": "redis://cache:6380/1", "UNRELATED": "x"},
            Environment(config_path=DEFAULT_CONFIG_PATH, redis_url="redis://cache:6380/1"),
        ),
    ],
)
def test_environment(env: dict[str, str], expected: Environment) -> None:
    assert environment(env) == expected


def test_default_prefix_is_the_run_store_default() -> None:
    assert DEFAULT_PREFIX == "payroll-sync"


def test_environment_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", "from-os.toml")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PAYROLL_SYNC_PREFIX", raising=False)
    assert environment() == Environment(config_path="from-os.toml", redis_url=DEFAULT_REDIS_URL)


# ------------------------------------------------------------------ credentials


def _integration() -> Integration:
    return parse_settings(GOOD).integrations["acme"]


def test_credentials_come_from_the_named_variables() -> None:
    env = {"ACME_SIMPLOYER_TOKEN": SIMPLOYER_TOKEN, "ACME_PAYROLL_TOKEN": PAYROLL_TOKEN + "\n"}
    found = credentials(_integration(), env)
    # A trailing newline (a secrets file) is not part of the token.
    assert found == Credentials(simployer_token=SIMPLOYER_TOKEN, payroll_token=PAYROLL_TOKEN)


def test_credentials_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_SIMPLOYER_TOKEN", SIMPLOYER_TOKEN)
    monkeypatch.setenv("ACME_PAYROLL_TOKEN", PAYROLL_TOKEN)
    assert credentials(_integration()).payroll_token == PAYROLL_TOKEN


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ACME_PAYROLL_TOKEN": PAYROLL_TOKEN},
            "environment variable not set or empty: ACME_SIMPLOYER_TOKEN (simployer_token_env)",
        ),
        (
            {"ACME_SIMPLOYER_TOKEN": SIMPLOYER_TOKEN, "ACME_PAYROLL_TOKEN": ""},
            "environment variable not set or empty: ACME_PAYROLL_TOKEN (payroll_token_env)",
        ),
        (
            {"ACME_SIMPLOYER_TOKEN": " \n", "OTHER": PAYROLL_TOKEN},
            "environment variables not set or empty: ACME_SIMPLOYER_TOKEN "
            "(simployer_token_env), ACME_PAYROLL_TOKEN (payroll_token_env)",
        ),
    ],
)
def test_missing_token_names_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        credentials(_integration(), env)
    assert str(caught.value) == message
    for token in (SIMPLOYER_TOKEN, PAYROLL_TOKEN):
        assert token not in str(caught.value)
        assert token not in repr(caught.value)
    # Nothing chained that could carry the environment into a traceback.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_tokens_never_show_in_repr_str_or_rich_repr() -> None:
    env = {"ACME_SIMPLOYER_TOKEN": SIMPLOYER_TOKEN, "ACME_PAYROLL_TOKEN": PAYROLL_TOKEN}
    found = credentials(_integration(), env)
    shown = [
        repr(found),
        str(found),
        f"{found}",
        f"{found!r}",
        repr([found]),
        repr({"credentials": found}),
        repr(found.__rich_repr__()),
    ]
    for text in shown:
        assert SIMPLOYER_TOKEN not in text
        assert PAYROLL_TOKEN not in text
    assert repr(found) == "Credentials(simployer_token=<hidden>, payroll_token=<hidden>)"
    # The values are still there for the code that needs them.
    assert (found.simployer_token, found.payroll_token) == (SIMPLOYER_TOKEN, PAYROLL_TOKEN)

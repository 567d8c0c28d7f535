"""`payroll-sync intake` refuses to start when no caller could authenticate."""

from __future__ import annotations

from pathlib import Path

import pytest

from payroll_sync.cli import intake as cli_intake
from payroll_sync.cli import main as cli
from payroll_sync.cli.intake import caller_tokens
from payroll_sync.config import parse_settings
from payroll_sync.errors import ConfigError

CALLERS = """
[intake.callers]
simployer-one = "INTAKE_TOKEN_SIMPLOYER_ONE"
hr-events = "INTAKE_TOKEN_HR_EVENTS"
"""


def test_no_callers_configured_is_a_config_error_that_says_what_to_add() -> None:
    with pytest.raises(ConfigError) as refused:
        caller_tokens(parse_settings(""), "integrations.toml")
    assert "integrations.toml: no intake callers configured" in refused.value.reason
    assert "[intake.callers]" in refused.value.reason


def test_callers_without_tokens_name_their_variables() -> None:
    with pytest.raises(ConfigError) as refused:
        caller_tokens(parse_settings(CALLERS), "x.toml", env={"INTAKE_TOKEN_HR_EVENTS": "  "})
    assert refused.value.reason == (
        "no intake caller has a token: set the environment variables "
        "INTAKE_TOKEN_HR_EVENTS, INTAKE_TOKEN_SIMPLOYER_ONE"
    )


def test_one_caller_with_a_token_is_enough() -> None:
    tokens = caller_tokens(
        parse_settings(CALLERS), "x.toml", env={"INTAKE_TOKEN_SIMPLOYER_ONE": "secret-1"}
    )
    assert tokens == {"secret-1": "simployer-one"}


def test_the_command_exits_2_naming_the_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "integrations.toml"
    path.write_text(CALLERS, encoding="utf-8")
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", str(path))
    monkeypatch.delenv("INTAKE_TOKEN_SIMPLOYER_ONE", raising=False)
    monkeypatch.delenv("INTAKE_TOKEN_HR_EVENTS", raising=False)
    # Keep this process's logging as it is (the command would send it to stderr).
    monkeypatch.setattr(cli_intake, "configure_logging", lambda: None)
    assert cli.main(["intake", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "INTAKE_TOKEN_SIMPLOYER_ONE" in err
    assert "INTAKE_TOKEN_HR_EVENTS" in err


def test_the_command_has_host_and_port_options() -> None:
    args = cli.build_parser().parse_args(["intake"])
    assert (args.host, args.port) == ("127.0.0.1", 8090)
    args = cli.build_parser().parse_args(["intake", "--host", "0.0.0.0", "--port", "9000"])
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["intake", "--port", "70000"])


def test_intake_allow_names_only_known_callers_and_integrations() -> None:
    """`[intake.allow]`: per caller, the only integrations it may ask for (issue 13)."""
    integration = """
[integrations.acme]
simployer_url = "http://127.0.0.1:9/v1"
simployer_token_env = "ACME_SIMPLOYER_TOKEN"
payroll_url = "http://127.0.0.1:9/api"
payroll_token_env = "ACME_PAYROLL_TOKEN"
"""
    settings = parse_settings(integration + CALLERS + '[intake.allow]\nhr-events = ["acme"]\n')
    assert settings.intake.allowed("hr-events") == frozenset({"acme"})
    assert settings.intake.allowed("simployer-one") is None
    cli_intake.check_allowed(settings, "x.toml")

    with pytest.raises(ConfigError) as stranger:
        parse_settings(integration + CALLERS + '[intake.allow]\nnobody = ["acme"]\n', source="x")
    assert "nobody not in [intake.callers]" in stranger.value.reason

    unknown = parse_settings(integration + CALLERS + '[intake.allow]\nhr-events = ["beta"]\n')
    with pytest.raises(ConfigError) as refused:
        cli_intake.check_allowed(unknown, "x.toml")
    assert refused.value.reason == (
        "x.toml: intake.allow.hr-events: unknown integration beta (known: acme)"
    )

"""`payroll-sync schedule`: the next fire times, as text and JSON, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from payroll_sync.cli.main import build_parser, main
from tests.support.settings import integration_toml

JSON = ["--json"]
SETTINGS = integration_toml(
    "acme", schedule={"enabled": True, "weekdays": ["fri", "sun"], "times": ["18:00", "02:30"]}
) + integration_toml("off", token_envs=("OFF_SIMPLOYER_TOKEN", "OFF_PAYROLL_TOKEN"))


@pytest.fixture(autouse=True)
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "integrations.toml"
    path.write_text(SETTINGS)
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", str(path))
    return path


def test_json_lists_iso_times_with_their_offset(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["schedule", "--integration", "acme", "--after", "2026-03-27T12:00", "--next", "4", *JSON]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out) == [
        "2026-03-27T18:00:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T18:00:00+02:00",
        "2026-04-03T02:30:00+02:00",
    ]


def test_an_offset_in_after_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    # 17:30 UTC is 18:30 in Oslo: Friday's 18:00 has passed.
    main(["schedule", "--integration", "acme", "--after", "2026-03-27T17:30:00Z", "--json"])
    assert json.loads(capsys.readouterr().out)[0] == "2026-03-29T03:00:00+02:00"


def test_text_names_the_schedule_and_a_time_the_clock_skips(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["schedule", "--integration", "acme", "--after", "2026-03-27T12:00", "--next", "2"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        "integration acme: schedule on; fri sun at 18:00 02:30 Europe/Oslo",
        "Fri 2026-03-27T18:00+01:00",
        "Sun 2026-03-29T03:00+02:00  (02:30 does not exist on the Oslo clock that day)",
    ]


def test_a_switched_off_schedule_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--integration", "off", "--after", "2026-11-27T12:00"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("integration off: schedule off")
    assert lines[1] == "Mon 2026-11-30T06:00+01:00"
    assert len(lines) == 6


def test_the_default_is_after_now(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--integration", "acme", "--json", "--next", "1"]) == 0
    [only] = json.loads(capsys.readouterr().out)
    assert only > "2026"


def test_an_unknown_integration_is_exit_2_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schedule", "--integration", "nope"]) == 2
    assert "unknown integration 'nope' (known: acme, off)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--after", "tomorrow"], "argument --after: expected an ISO 8601 time"),
        (["--after", "2026-13-01T06:00"], "argument --after: expected an ISO 8601 time"),
        (["--next", "0"], "argument --next: must be between 1 and 1000"),
        (["--next", "many"], "argument --next: expected a whole number"),
    ],
)
def test_bad_arguments_are_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schedule", "--integration", "acme", *argv])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("interval", ["0", "-1", "soon", "3601"])
def test_the_scheduler_refuses_a_bad_interval(
    interval: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["scheduler", "--interval", interval])
    assert exited.value.code == 2
    assert "argument --interval" in capsys.readouterr().err


def test_the_scheduler_interval_defaults_to_a_few_seconds() -> None:
    assert build_parser().parse_args(["scheduler"]).interval == 5.0
    assert build_parser().parse_args(["scheduler", "--interval", "0.5"]).interval == 0.5


def test_the_scheduler_refuses_a_broken_settings_file(
    settings_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file.write_text(SETTINGS.replace('"fri", "sun"', '"friday"'))
    assert main(["scheduler"]) == 2
    assert "integrations.acme.schedule.weekdays" in capsys.readouterr().err

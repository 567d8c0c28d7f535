"""`payroll-sync sync ... --json` prints exactly one JSON object whatever happens, with a stable
`code` when it fails; the exit code tells "a person must fix something" (2) from "try again
later" (75)."""

from __future__ import annotations

import json
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import structlog

from payroll_sync.cli import sync as cli_sync
from payroll_sync.cli.exit_codes import EXIT_TRY_LATER, EXIT_USAGE
from payroll_sync.cli.main import main
from payroll_sync.logs import configure_logging
from payroll_sync.producer import producer as producer_module
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.settings import OFFLINE_TOKEN_ENVS, integration_toml

SYNC = ["sync", "employees", "--integration", "acme", "--json"]


@pytest.fixture(autouse=True)
def logging_left_as_found(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command configures logging for its process; here it logs to the real stderr (not
    pytest's capture, closed after the test), and the logging set-up is restored after."""
    saved = structlog.get_config()
    handlers = list(logging.getLogger().handlers)
    monkeypatch.setattr(
        cli_sync, "configure_logging", lambda: configure_logging(stream=sys.__stderr__)
    )
    yield
    structlog.configure(**saved)
    logging.getLogger().handlers[:] = handlers


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A settings file with the offline integration `acme` (nothing answers at its URLs), its
    token variables, and a key prefix of the test's own (removed after); the prefix."""
    config = tmp_path / "integrations.toml"
    config.write_text(integration_toml("acme"), encoding="utf-8")
    prefix = unique_prefix("cli-sync")
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", str(config))
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PAYROLL_SYNC_PREFIX", prefix)
    for name in OFFLINE_TOKEN_ENVS:
        monkeypatch.setenv(name, "token-value")
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def one_object(out: str) -> dict[str, Any]:
    lines = out.splitlines()
    assert len(lines) == 1, out
    answer: dict[str, Any] = json.loads(lines[0])
    assert set(answer) == {"error", "code"}, answer
    return answer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_a_missing_settings_file_is_for_a_person_to_fix(
    environment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAYROLL_SYNC_CONFIG", "/nonexistent/integrations.toml")
    assert main(SYNC) == EXIT_USAGE
    answer = one_object(capsys.readouterr().out)
    assert answer["code"] == "config_error"
    assert "settings file not found" in answer["error"]


def test_an_unknown_integration_is_for_a_person_to_fix(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "employees", "--integration", "other", "--json"]) == EXIT_USAGE
    assert one_object(capsys.readouterr().out)["code"] == "config_error"


def test_a_refused_request_names_the_option(
    environment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", "employees", "--integration", "acme corp", "--json"]) == EXIT_USAGE
    answer = one_object(capsys.readouterr().out)
    assert answer["code"] == "request_refused"
    assert "--integration" in answer["error"]


def test_a_wrong_command_line_is_one_object_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sync", "employees", "--json"]) == EXIT_USAGE
    answer = one_object(capsys.readouterr().out)
    assert answer["code"] == "usage"
    assert "--integration" in answer["error"]


def test_redis_not_answering_is_try_again_later(
    environment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert main(SYNC) == EXIT_TRY_LATER
    answer = one_object(capsys.readouterr().out)
    assert answer["code"] == "redis_unavailable"
    assert answer["error"].startswith("Redis is not answering")


def test_an_api_that_keeps_failing_is_try_again_later(
    environment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing answers at the integration's URLs: each request is retried, then given up."""
    monkeypatch.setattr(producer_module, "READ_RETRY_FOR_SECONDS", 1.0)
    assert main(SYNC) == EXIT_TRY_LATER
    answer = one_object(capsys.readouterr().out)
    assert answer["code"] == "api_unavailable"
    assert "Simployer One" in answer["error"]


def test_without_json_a_failure_is_one_line_on_stderr(
    environment: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert main(SYNC[:-1]) == EXIT_TRY_LATER
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "payroll-sync: Redis is not answering" in captured.err

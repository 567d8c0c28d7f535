"""The example settings file the README points newcomers to stays valid."""

from __future__ import annotations

from pathlib import Path

from payroll_sync.config import load_settings

EXAMPLE = Path(__file__).parents[2] / "integrations.example.toml"


def test_the_example_settings_load() -> None:
    settings = load_settings(EXAMPLE)
    assert list(settings.integrations) == ["acme"]
    assert settings.integrations["acme"].payroll_token_env == "ACME_PAYROLL_TOKEN"

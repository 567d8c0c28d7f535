"""The live catalog on the settings file: re-read when changed, kept when broken, `ensure()`.

The registry source is tested against real PostgreSQL in tests/integration/test_live_registry.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest
from structlog.testing import capture_logs

from payroll_sync.catalog import Catalog, LiveCatalog
from payroll_sync.config import Environment
from payroll_sync.errors import ConfigError
from payroll_sync.schemas.settings import Settings
from tests.support.settings import OFFLINE_TOKEN_ENVS, integration_toml, offline_integration

TOKENS: Final = {OFFLINE_TOKEN_ENVS[0]: "simployer-secret-1", OFFLINE_TOKEN_ENVS[1]: "payroll-2"}


def write(path: Path, text: str) -> None:
    path.write_text(text)


def environment(path: Path) -> Environment:
    return Environment(config_path=str(path), redis_url="redis://127.0.0.1:9/0")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.toml"
    path.write_text(integration_toml("acme"))
    return path


async def test_the_file_source_hands_out_settings_and_the_tokens_of_its_variables(
    config_file: Path,
) -> None:
    catalog = await LiveCatalog.open(environment(config_file), environ=TOKENS)
    assert sorted(catalog.settings.integrations) == ["acme"]
    tokens = catalog.credentials("acme")
    assert (tokens.simployer_token, tokens.payroll_token) == ("simployer-secret-1", "payroll-2")
    assert "secret" not in repr(catalog)
    assert "secret" not in repr(tokens)
    with pytest.raises(ConfigError, match="unknown integration 'beta'"):
        catalog.credentials("beta")
    await catalog.close()


async def test_a_missing_token_variable_is_named_never_a_value(config_file: Path) -> None:
    catalog = await LiveCatalog.open(environment(config_file), environ={})
    with pytest.raises(ConfigError, match=OFFLINE_TOKEN_ENVS[0]):
        catalog.credentials("acme")


async def test_a_changed_file_is_read_again_and_an_unchanged_one_is_not(
    config_file: Path,
) -> None:
    catalog = await LiveCatalog.open(environment(config_file), environ=TOKENS)
    first = catalog.current
    assert await catalog.refresh() is False
    assert catalog.current is first

    write(config_file, integration_toml("acme") + integration_toml("beta"))
    assert await catalog.refresh() is True
    assert sorted(catalog.settings.integrations) == ["acme", "beta"]
    assert catalog.credentials("beta").payroll_token == "payroll-2"

    write(config_file, integration_toml("beta"))
    assert await catalog.refresh() is True
    assert sorted(catalog.settings.integrations) == ["beta"]
    # Taken out of the file: its queued records end "integration removed", as in the registry.
    with pytest.raises(ConfigError, match="integration removed: 'acme'"):
        catalog.current.integration("acme")
    with pytest.raises(ConfigError, match="unknown integration 'never'"):
        catalog.current.integration("never")

    write(config_file, integration_toml("acme") + integration_toml("beta"))
    assert await catalog.refresh() is True
    assert catalog.current.integration("acme") == catalog.settings.integrations["acme"]


async def test_a_broken_file_keeps_the_snapshot_in_force_and_is_logged_once(
    config_file: Path,
) -> None:
    catalog = await LiveCatalog.open(environment(config_file), environ=TOKENS)
    before = catalog.current
    write(config_file, integration_toml("acme", rate_limit_per_second="fast"))
    with capture_logs() as logs:
        assert await catalog.refresh() is False
        assert await catalog.refresh() is False
    failed = [event for event in logs if event["event"] == "catalog.reload_failed"]
    assert len(failed) == 1
    assert "integrations.acme.rate_limit_per_second" in failed[0]["reason"]
    assert catalog.current is before

    write(config_file, integration_toml("acme", rate_limit_per_second=5))
    assert await catalog.refresh() is True
    assert catalog.settings.integrations["acme"].rate_limit_per_second == 5


async def test_a_broken_file_at_start_is_refused(config_file: Path) -> None:
    write(config_file, integration_toml("acme", schedule={"weekdays": ["monday"]}))
    with pytest.raises(ConfigError, match="weekdays"):
        await LiveCatalog.open(environment(config_file))


async def test_a_file_integration_without_a_token_variable_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "integrations.toml"
    text = integration_toml("acme").replace('simployer_token_env = "ACME_SIMPLOYER_TOKEN"\n', "")
    write(path, text)
    with pytest.raises(ConfigError, match=r"integrations\.acme\.simployer_token_env: missing"):
        await LiveCatalog.open(environment(path))


class Clock:
    """A clock the test moves; sleeping on it moves it (and says how long was slept)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_ensure_looks_again_for_an_unknown_integration_at_most_once_a_second_and_waits_for_it(
    config_file: Path,
) -> None:
    catalog = await LiveCatalog.open(environment(config_file), environ=TOKENS)
    catalog.clock = clock = Clock()
    catalog.sleep = clock.sleep

    write(config_file, integration_toml("acme") + integration_toml("beta"))
    await catalog.ensure("acme")  # known: no look
    assert "beta" not in catalog.settings.integrations
    await catalog.ensure("beta")
    assert "beta" in catalog.settings.integrations

    write(
        config_file, integration_toml("acme") + integration_toml("beta") + integration_toml("gamma")
    )
    assert clock.slept == []
    clock.now += 0.25
    await catalog.ensure("gamma")
    assert clock.slept == [pytest.approx(0.75)], "the next look waits for its second"
    assert "gamma" in catalog.settings.integrations

    clock.now += 5
    await catalog.ensure("nowhere")
    assert clock.slept == [pytest.approx(0.75)], "a look a while after the last one: at once"


def test_a_removed_integration_says_so_and_an_added_again_one_is_back() -> None:
    settings = Settings(integrations={"acme": offline_integration()})
    catalog = Catalog(settings, environ=TOKENS, removed=frozenset({"gone", "acme"}))
    assert catalog.removed == frozenset({"gone"})
    with pytest.raises(ConfigError, match="integration removed: 'gone'"):
        catalog.integration("gone")
    with pytest.raises(ConfigError, match="integration removed"):
        catalog.credentials("gone")
    assert catalog.integration("acme") == offline_integration()

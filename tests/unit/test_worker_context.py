"""The worker's context follows the catalog: clients made again when an integration's settings
or tokens change, dropped when it goes; the pacer's limits follow it too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import fakeredis
import pytest

from payroll_sync.catalog import Catalog, LiveCatalog
from payroll_sync.errors import ConfigError
from payroll_sync.queue.pacing import Limit
from payroll_sync.schemas.settings import Settings
from payroll_sync.worker.context import WorkerContext
from payroll_sync.worker.dispatch import DRAIN_LIMIT, catalog_limits, limits_of
from tests.support.keys import unique_prefix
from tests.support.settings import OFFLINE_TOKEN_ENVS, integration_toml, offline_integration


def write(path: Path, text: str) -> None:
    path.write_text(text)


@pytest.fixture
def environ() -> dict[str, str]:
    return {OFFLINE_TOKEN_ENVS[0]: "simployer-1", OFFLINE_TOKEN_ENVS[1]: "payroll-1"}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.toml"
    write(path, integration_toml("acme") + integration_toml("beta"))
    return path


@pytest.fixture
async def ctx(config_file: Path, environ: dict[str, str]) -> AsyncIterator[WorkerContext]:
    catalog = LiveCatalog.from_file(str(config_file), environ=environ)
    context = WorkerContext(
        catalog=catalog, redis=fakeredis.FakeAsyncRedis(), prefix=unique_prefix()
    )
    yield context
    await context.close()


async def test_clients_are_kept_while_settings_and_tokens_stay(ctx: WorkerContext) -> None:
    assert ctx.clients("acme") is ctx.clients("acme")
    assert ctx.clients("acme") is not ctx.clients("beta")


async def test_changed_settings_make_new_clients_and_the_rest_are_kept(
    ctx: WorkerContext, config_file: Path
) -> None:
    acme, beta = ctx.clients("acme"), ctx.clients("beta")
    write(config_file, integration_toml("acme", rate_limit_per_second=3) + integration_toml("beta"))
    assert await ctx.catalog.refresh()
    assert ctx.settings.integrations["acme"].rate_limit_per_second == 3
    assert ctx.clients("acme") is not acme
    assert ctx.clients("beta") is beta


async def test_changed_tokens_make_new_clients(ctx: WorkerContext, environ: dict[str, str]) -> None:
    before = ctx.clients("acme")
    environ[OFFLINE_TOKEN_ENVS[1]] = "payroll-2"
    assert ctx.clients("acme") is not before


async def test_a_removed_integration_has_no_clients(ctx: WorkerContext, config_file: Path) -> None:
    ctx.clients("acme")
    write(config_file, integration_toml("beta"))
    assert await ctx.catalog.refresh()
    with pytest.raises(ConfigError, match="integration removed: 'acme'"):
        ctx.clients("acme")


def test_the_pacer_drains_a_removed_integration_and_paces_the_others() -> None:
    settings = Settings(integrations={"acme": offline_integration(rate_limit_per_second=5)})
    limits = limits_of(settings, removed=["gone"])
    assert limits == {"acme": Limit(per_second=5, burst=5), "gone": DRAIN_LIMIT}


async def test_the_pacer_limits_follow_the_catalog(ctx: WorkerContext, config_file: Path) -> None:
    limits = catalog_limits(ctx.catalog)
    first = limits()
    assert set(first) == {"acme", "beta"}
    assert limits() is first, "worked out once per snapshot"
    write(config_file, integration_toml("acme", rate_limit_per_second=3))
    assert await ctx.catalog.refresh()
    # beta, taken out of the file, is drained: its waiting records end "integration removed".
    assert limits() == {"acme": Limit(per_second=3, burst=3), "beta": DRAIN_LIMIT}


def test_a_catalog_never_shows_a_token() -> None:
    catalog = Catalog(
        Settings(integrations={"acme": offline_integration()}),
        environ={OFFLINE_TOKEN_ENVS[0]: "simployer-xyz", OFFLINE_TOKEN_ENVS[1]: "payroll-xyz"},
    )
    assert "xyz" not in repr(catalog)
    assert "xyz" not in repr(catalog.credentials("acme"))
    assert "xyz" not in repr(LiveCatalog.fixed(catalog.settings))

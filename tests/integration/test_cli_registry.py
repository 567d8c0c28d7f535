"""The registry's commands as processes against a real PostgreSQL database of the test's own:
`migrate` twice, `integrations import` (a missing variable refuses only its integration),
`integrations list`, `rotate-key` with two keys and then the old key dropped, `new-key`, and the
exit codes of a missing `DATABASE_URL` and a database that does not answer."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from payroll_sync.errors import ConfigError
from payroll_sync.registry.crypto import new_key
from payroll_sync.registry.store import Registry
from tests.support import processes
from tests.support.postgres import fresh_database
from tests.support.settings import integration_toml

pytestmark = pytest.mark.integration


async def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`payroll-sync ARGS` with `env` added to this process's environment (PYTHONPATH kept)."""
    merged = {**os.environ, **env}
    for name in ("DATABASE_URL", "PAYROLL_SYNC_SECRET_KEY"):
        if name not in env:
            merged.pop(name, None)
    return await asyncio.to_thread(processes.run, [*processes.CLI, *args], env=merged)


def _no_secret_in(result: subprocess.CompletedProcess[str], *secrets_: str) -> None:
    for secret in secrets_:
        assert secret not in result.stdout
        assert secret not in result.stderr


def _settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "integrations.toml"
    path.write_text(
        integration_toml("acme", token_envs=("ACME_S_TOKEN", "ACME_P_TOKEN"))
        + integration_toml("bravo", token_envs=("BRAVO_S_TOKEN", "BRAVO_P_TOKEN"))
        + integration_toml("cargo", token_envs=("CARGO_S_TOKEN", "CARGO_P_TOKEN")),
        encoding="utf-8",
    )
    return path


def _tokens(*names: str) -> dict[str, str]:
    return {name: f"tok-{secrets.token_hex(12)}" for name in names}


async def test_migrate_twice_applies_once() -> None:
    async with fresh_database(migrated=False) as url:
        first = await _run("migrate", DATABASE_URL=url)
        assert first.returncode == 0, first.stderr
        assert first.stdout.splitlines() == ["applied 0001_integrations"]
        second = await _run("migrate", "--json", DATABASE_URL=url)
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout) == {"applied": []}


async def test_a_schema_behind_is_refused_with_what_to_run(secret_keys: str) -> None:
    async with fresh_database(migrated=False) as url:
        result = await _run(
            "integrations", "list", DATABASE_URL=url, PAYROLL_SYNC_SECRET_KEY=secret_keys
        )
    assert result.returncode == 2
    assert "run `payroll-sync migrate`" in result.stderr


async def test_import_stores_each_integration_and_refuses_one_without_its_variable(
    database_url: str, secret_keys: str, tmp_path: Path
) -> None:
    tokens = _tokens("ACME_S_TOKEN", "ACME_P_TOKEN", "CARGO_S_TOKEN", "CARGO_P_TOKEN")
    # bravo's Simployer token is set, its payroll token is not.
    tokens["BRAVO_S_TOKEN"] = f"tok-{secrets.token_hex(12)}"
    env = {"DATABASE_URL": database_url, "PAYROLL_SYNC_SECRET_KEY": secret_keys, **tokens}
    path = _settings_file(tmp_path)

    result = await _run("integrations", "import", str(path), "--json", **env)
    assert result.returncode == 1, result.stderr
    answer = json.loads(result.stdout)
    assert [(row["id"], row["created"]) for row in answer["imported"]] == [
        ("acme", True),
        ("cargo", True),
    ]
    (refused,) = answer["refused"]
    assert refused["id"] == "bravo"
    assert "BRAVO_P_TOKEN" in refused["reason"]
    assert "BRAVO_S_TOKEN" not in refused["reason"]
    _no_secret_in(result, *tokens.values(), secret_keys)

    # Again, as a table: replaced this time.
    again = await _run("integrations", "import", str(path), **env)
    assert again.returncode == 1
    lines = again.stdout.splitlines()
    assert lines[0].split()[:2] == ["integration", "imported"]
    assert lines[2].split()[:2] == ["acme", "replaced"]
    assert lines[3].split()[:2] == ["cargo", "replaced"]
    assert lines[4].split()[:2] == ["bravo", "REFUSED:"]
    _no_secret_in(again, *tokens.values(), secret_keys)

    listed = await _run("integrations", "list", "--json", **env)
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)["integrations"]
    assert [row["id"] for row in rows] == ["acme", "cargo"]
    assert all(row["has_simployer_token"] and row["has_payroll_token"] for row in rows)
    _no_secret_in(listed, *tokens.values(), secret_keys)
    table = await _run("integrations", "list", **env)
    assert table.returncode == 0
    first = table.stdout.splitlines()[2].split()
    assert first[0] == "acme"
    assert first[-2:] == ["yes", "yes"]

    # The tokens stored are those of the variables each integration names.
    registry = await Registry.connect(database_url, secret_keys=secret_keys)
    try:
        live = {row.id: row for row in (await registry.changes(0)).written}
    finally:
        await registry.close()
    assert live["cargo"].credentials.simployer_token == tokens["CARGO_S_TOKEN"]
    assert live["cargo"].credentials.payroll_token == tokens["CARGO_P_TOKEN"]
    assert live["acme"].settings.simployer_token_env is None


async def test_rotate_with_two_keys_then_drop_the_old_one(
    database_url: str, tmp_path: Path
) -> None:
    old, new = new_key(), new_key()
    tokens = _tokens(*(f"{n}_{s}_TOKEN" for n in ("ACME", "BRAVO", "CARGO") for s in "SP"))
    path = _settings_file(tmp_path)
    imported = await _run(
        "integrations",
        "import",
        str(path),
        DATABASE_URL=database_url,
        PAYROLL_SYNC_SECRET_KEY=old,
        **tokens,
    )
    assert imported.returncode == 0, imported.stderr

    # The new key alone cannot read what the old one wrote.
    registry = await Registry.connect(database_url, secret_keys=new)
    try:
        with pytest.raises(ConfigError, match="rotate-key"):
            await registry.changes(0)
        before = (await registry.list())[-1].version
    finally:
        await registry.close()

    rotated = await _run(
        "rotate-key", "--json", DATABASE_URL=database_url, PAYROLL_SYNC_SECRET_KEY=f"{new},{old}"
    )
    assert rotated.returncode == 0, rotated.stderr
    assert json.loads(rotated.stdout) == {"integrations": 3, "tokens": 6}
    _no_secret_in(rotated, *tokens.values(), old, new)

    registry = await Registry.connect(database_url, secret_keys=new)
    try:
        changes = await registry.changes(before)  # every row bumped: every process reloads
    finally:
        await registry.close()
    by_id = {row.id: row.credentials for row in changes.written}
    assert sorted(by_id) == ["acme", "bravo", "cargo"]
    for name, credentials in by_id.items():
        assert credentials.simployer_token == tokens[f"{name.upper()}_S_TOKEN"]
        assert credentials.payroll_token == tokens[f"{name.upper()}_P_TOKEN"]

    # With the old key alone, nothing is readable any more; the error says what to do.
    listed = await _run("rotate-key", DATABASE_URL=database_url, PAYROLL_SYNC_SECRET_KEY=old)
    assert listed.returncode == 2
    assert "rotate-key" in listed.stderr
    assert "PAYROLL_SYNC_SECRET_KEY" in listed.stderr
    _no_secret_in(listed, *tokens.values(), old, new)


async def test_new_key_prints_a_fernet_key() -> None:
    result = await _run("new-key")
    assert result.returncode == 0
    key = result.stdout.strip()
    Fernet(key)  # raises if it is not one
    assert (await _run("new-key")).stdout.strip() != key


async def test_without_database_url_a_person_must_fix_it(secret_keys: str) -> None:
    result = await _run("integrations", "list", "--json", PAYROLL_SYNC_SECRET_KEY=secret_keys)
    assert result.returncode == 2
    answer = json.loads(result.stdout)
    assert answer["code"] == "config_error"
    assert "DATABASE_URL" in answer["error"]


async def test_a_database_that_does_not_answer_is_try_again_later(secret_keys: str) -> None:
    # Port 9 of loopback: nothing listens there. The password must never be printed.
    url = "postgresql://postgres:hunter2-secret@127.0.0.1:9/postgres"
    result = await _run("migrate", "--json", DATABASE_URL=url)
    assert result.returncode == 75
    assert json.loads(result.stdout)["code"] == "database_unavailable"
    _no_secret_in(result, "hunter2-secret")
    listed = await _run(
        "integrations", "list", DATABASE_URL=url, PAYROLL_SYNC_SECRET_KEY=secret_keys
    )
    assert listed.returncode == 75
    assert "not answering" in listed.stderr
    _no_secret_in(listed, "hunter2-secret")


async def test_a_malformed_key_is_refused_naming_the_variable(database_url: str) -> None:
    result = await _run(
        "integrations", "list", DATABASE_URL=database_url, PAYROLL_SYNC_SECRET_KEY="abc,def"
    )
    assert result.returncode == 2
    assert "PAYROLL_SYNC_SECRET_KEY: key 1 of 2" in result.stderr
    assert "abc" not in result.stderr

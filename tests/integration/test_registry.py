"""The registry on a real PostgreSQL database of the test's own: put, get, list, delete, changes,
connection checks; tokens encrypted at rest (raw columns and `pg_dump`), several keys, a wrong
key, a schema that is behind."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg
import msgspec
import pytest

from payroll_sync.errors import ConfigError
from payroll_sync.registry.crypto import new_key
from payroll_sync.registry.migrate import migrate, migrations
from payroll_sync.registry.records import ConnectionCheck, SideCheck, TokensUpdate
from payroll_sync.registry.store import InvalidId, MissingTokens, Registry
from payroll_sync.schemas.settings import Integration, Schedule, Scope
from tests.support.postgres import fresh_database

pytestmark = pytest.mark.integration


def _settings(rate: float = 10.0, *, departments: tuple[str, ...] = ()) -> Integration:
    return Integration(
        simployer_url="http://127.0.0.1:9001",
        payroll_url="http://127.0.0.1:9002",
        # Given as the TOML file would; the registry must not keep them.
        simployer_token_env="ACME_SIMPLOYER_TOKEN",
        payroll_token_env="ACME_PAYROLL_TOKEN",
        rate_limit_per_second=rate,
        scope=Scope(departments=list(departments)),
        schedule=Schedule(enabled=True, weekdays=["mon"], times=["06:30"]),
    )


async def _pg_dump(url: str) -> str:
    """The database as `pg_dump` writes it (schema and data, plain SQL)."""
    process = await asyncio.create_subprocess_exec(
        "pg_dump", "--no-owner", url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    assert process.returncode == 0
    return out.decode()


def _tokens() -> TokensUpdate:
    # Random, so a match in the dump can only be this test's token.
    return TokensUpdate(
        simployer_token=f"simp-{secrets.token_hex(16)}",
        payroll_token=f"pay-{secrets.token_hex(16)}",
    )


async def test_put_creates_then_replaces_keeping_the_tokens_not_given(registry: Registry) -> None:
    tokens = _tokens()
    stored, created = await registry.put("acme", _settings(5), tokens)
    assert created
    assert stored.id == "acme"
    assert stored.settings.rate_limit_per_second == 5
    assert stored.settings.simployer_token_env is None
    assert stored.settings.payroll_token_env is None
    assert stored.has_simployer_token
    assert stored.has_payroll_token
    assert stored.created_at == stored.updated_at

    replaced, created = await registry.put("acme", _settings(7, departments=("d1",)), None)
    assert not created
    assert replaced.version > stored.version
    assert replaced.created_at == stored.created_at
    assert replaced.updated_at >= stored.updated_at
    assert replaced.settings.scope.departments == ["d1"]

    # Only the payroll token given: the Simployer token stays.
    new_payroll = f"pay-{secrets.token_hex(8)}"
    await registry.put("acme", _settings(7), TokensUpdate(payroll_token=new_payroll))
    changes = await registry.changes(0)
    (live,) = changes.written
    assert live.credentials.simployer_token == tokens.simployer_token
    assert live.credentials.payroll_token == new_payroll
    assert live.settings == msgspec.structs.replace(
        _settings(7), simployer_token_env=None, payroll_token_env=None
    )

    got = await registry.get("acme")
    assert got is not None
    assert got.version == live.version
    assert await registry.get("nobody") is None


@pytest.mark.parametrize(
    ("tokens", "named"),
    [
        (None, "simployer_token and payroll_token"),
        (TokensUpdate(payroll_token="p"), "simployer_token"),
        (TokensUpdate(simployer_token="s", payroll_token="  "), "payroll_token"),
    ],
)
async def test_a_create_without_both_tokens_is_refused_and_stores_nothing(
    registry: Registry, tokens: TokensUpdate | None, named: str
) -> None:
    with pytest.raises(MissingTokens) as caught:
        await registry.put("acme", _settings(), tokens)
    assert str(caught.value).startswith(f"{named}:")
    assert await registry.get("acme") is None
    assert (await registry.changes(0)).written == []


async def test_list_is_by_id_and_leaves_out_removed(registry: Registry) -> None:
    for name in ("zeta", "alpha", "mid"):
        await registry.put(name, _settings(), _tokens())
    assert await registry.delete("mid")
    assert [row.id for row in await registry.list()] == ["alpha", "zeta"]


async def test_delete_keeps_a_tombstone_without_tokens_or_settings(
    registry: Registry, database_url: str
) -> None:
    await registry.put("acme", _settings(), _tokens())
    await registry.put("other", _settings(), _tokens())
    before = await registry.changes(0)
    await registry.record_check(
        "acme",
        ConnectionCheck(checked_at=1.0, simployer=SideCheck(ok=True), payroll=SideCheck(ok=True)),
    )

    assert await registry.delete("acme")
    assert not await registry.delete("acme")  # already removed
    assert not await registry.delete("nobody")
    assert await registry.get("acme") is None
    assert await registry.last_check("acme") is None

    after = await registry.changes(before.version)
    assert after.removed == ["acme"]
    assert after.written == []
    assert after.version > before.version
    # Nothing more since then.
    assert await registry.changes(after.version) == type(after)(
        written=[], removed=[], version=after.version
    )

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT settings, simployer_token, payroll_token, removed_at FROM integrations"
            " WHERE id = 'acme'"
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["removed_at"] is not None
    assert (row["settings"], row["simployer_token"], row["payroll_token"]) == (None, None, None)


async def test_put_of_a_removed_id_creates_it_afresh(registry: Registry) -> None:
    first, _ = await registry.put("acme", _settings(), _tokens())
    await registry.delete("acme")
    # Its old tokens are gone: a put without tokens is a create, and refused.
    with pytest.raises(MissingTokens):
        await registry.put("acme", _settings(), None)
    again, created = await registry.put("acme", _settings(3), _tokens())
    assert created
    assert again.version > first.version
    assert again.created_at >= first.created_at
    changes = await registry.changes(0)
    assert [live.id for live in changes.written] == ["acme"]
    assert changes.removed == []


async def test_changes_since_a_version(registry: Registry) -> None:
    await registry.put("a", _settings(), _tokens())
    mark = (await registry.changes(0)).version
    b_tokens = _tokens()
    await registry.put("b", _settings(), b_tokens)
    await registry.put("a", _settings(2), None)
    changes = await registry.changes(mark)
    assert [(live.id, live.settings.rate_limit_per_second) for live in changes.written] == [
        ("b", 10.0),
        ("a", 2.0),
    ]
    assert changes.written[0].credentials.payroll_token == b_tokens.payroll_token
    assert changes.version == changes.written[-1].version
    assert "hidden" in repr(changes)
    assert b_tokens.payroll_token not in repr(changes)


async def test_concurrent_writes_never_let_a_reader_skip_a_version(registry: Registry) -> None:
    # Many writers at once while a reader follows `changes`: every write is seen. (Without the
    # writers' lock a version can commit after a higher one was read; this catches that when
    # the interleaving happens, not on every run.)
    names = [f"co{index:03d}" for index in range(40)]
    seen: set[str] = set()
    since = 0

    async def write(name: str) -> None:
        await registry.put(name, _settings(), _tokens())

    writers = asyncio.gather(*(write(name) for name in names))
    while not writers.done():
        changes = await registry.changes(since)
        seen.update(live.id for live in changes.written)
        since = changes.version
        await asyncio.sleep(0)
    await writers
    changes = await registry.changes(since)
    seen.update(live.id for live in changes.written)
    assert seen == set(names)


async def test_record_and_read_the_last_connection_check(registry: Registry) -> None:
    await registry.put("acme", _settings(), _tokens())
    assert await registry.last_check("acme") is None
    first = ConnectionCheck(
        checked_at=1_780_000_000.5,
        simployer=SideCheck(ok=True),
        payroll=SideCheck(ok=False, reason="24SevenOffice refused the token (401)"),
    )
    await registry.record_check("acme", first)
    assert await registry.last_check("acme") == first
    second = ConnectionCheck(
        checked_at=1_780_000_100.0, simployer=SideCheck(ok=True), payroll=SideCheck(ok=True)
    )
    await registry.record_check("acme", second)
    got = await registry.last_check("acme")
    assert got == second
    assert got is not None
    assert got.ok
    # An unknown integration keeps no check.
    await registry.record_check("nobody", second)
    assert await registry.last_check("nobody") is None


async def test_tokens_are_not_stored_in_clear_text(
    registry: Registry, database_url: str, secret_keys: str
) -> None:
    tokens = _tokens()
    await registry.put("acme", _settings(), tokens)
    await registry.put("acme", _settings(), TokensUpdate(simployer_token=tokens.simployer_token))
    assert tokens.simployer_token
    assert tokens.payroll_token

    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            "SELECT settings::text AS settings, simployer_token, payroll_token FROM integrations"
        )
    finally:
        await conn.close()
    assert row is not None
    for column in ("settings", "simployer_token", "payroll_token"):
        assert tokens.simployer_token not in row[column]
        assert tokens.payroll_token not in row[column]
    assert "ACME_SIMPLOYER_TOKEN" not in row["settings"]

    dump = await _pg_dump(database_url)
    assert "acme" in dump  # the dump holds the row...
    assert row["payroll_token"] in dump  # ...with its ciphertext
    assert tokens.simployer_token not in dump
    assert tokens.payroll_token not in dump
    assert secret_keys not in dump


async def test_two_keys_read_old_tokens_and_write_under_the_first(database_url: str) -> None:
    old, new = new_key(), new_key()
    tokens = _tokens()
    store = await Registry.connect(database_url, secret_keys=old)
    try:
        await store.put("old", _settings(), tokens)
    finally:
        await store.close()

    store = await Registry.connect(database_url, secret_keys=f"{new},{old}")
    try:
        (live,) = (await store.changes(0)).written
        assert live.credentials.payroll_token == tokens.payroll_token
        await store.put("fresh", _settings(), _tokens())
    finally:
        await store.close()

    # The new key alone reads what was written under it; the old row needs the old key.
    store = await Registry.connect(database_url, secret_keys=new)
    try:
        last = await store.get("fresh")
        assert last is not None
        assert [live.id for live in (await store.changes(last.version - 1)).written] == ["fresh"]
        with pytest.raises(ConfigError) as caught:
            await store.changes(0)
    finally:
        await store.close()
    message = str(caught.value)
    assert "integration old" in message
    assert "rotate-key" in message
    assert tokens.payroll_token not in message


async def test_rotate_tokens_lets_the_old_key_go(database_url: str) -> None:
    old, new = new_key(), new_key()
    tokens = _tokens()
    store = await Registry.connect(database_url, secret_keys=old)
    try:
        await store.put("acme", _settings(), tokens)
        before = (await store.changes(0)).version
    finally:
        await store.close()
    store = await Registry.connect(database_url, secret_keys=f"{new} {old}")
    try:
        assert await store.rotate_tokens() == 1
        assert (await store.changes(before)).written[0].id == "acme"  # version bumped
    finally:
        await store.close()
    store = await Registry.connect(database_url, secret_keys=new)
    try:
        (live,) = (await store.changes(0)).written
    finally:
        await store.close()
    assert live.credentials.simployer_token == tokens.simployer_token
    assert live.credentials.payroll_token == tokens.payroll_token


async def test_a_wrong_key_is_refused_naming_the_variable(database_url: str) -> None:
    with pytest.raises(ConfigError, match="PAYROLL_SYNC_SECRET_KEY"):
        await Registry.connect(database_url, secret_keys="not-a-key")


async def test_connect_refuses_a_schema_that_is_behind(secret_keys: str) -> None:
    async with fresh_database(migrated=False) as url:
        with pytest.raises(ConfigError, match="run `payroll-sync migrate`"):
            await Registry.connect(url, secret_keys=secret_keys)


async def test_migrations_apply_once_even_two_at_a_time() -> None:
    async with fresh_database(migrated=False) as url:
        first, second = await asyncio.gather(migrate(url), migrate(url))
        names = [migration.name for migration in migrations()]
        # One of the two applied everything, the other found nothing left to do.
        assert sorted([first, second], key=len) == [[], names]
        assert await migrate(url) == []
        conn = await asyncpg.connect(url)
        try:
            recorded = [
                row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")
            ]
        finally:
            await conn.close()
        assert recorded == names


@pytest.mark.parametrize("bad", ["", "-acme", "a b", "æøå", "x" * 65])
async def test_an_invalid_id_is_refused_naming_the_field(registry: Registry, bad: str) -> None:
    with pytest.raises(InvalidId, match=r"^id: "):
        await registry.put(bad, _settings(), _tokens())
    assert await registry.list() == []

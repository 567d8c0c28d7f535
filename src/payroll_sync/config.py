"""Settings and secrets: the only module that reads the environment.

The TOML file is decoded once into the frozen `Settings` Struct and passed down. Every refusal is
a `ConfigError` that names the file and the key's dotted path (`integrations.acme.scope.offices`),
so the person editing the file knows which line to fix. Tokens live only in environment
variables; errors name the variable, never its value.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec

from payroll_sync.errors import ConfigError, lower_first, reword
from payroll_sync.schemas.messages import IntegrationId
from payroll_sync.schemas.settings import CallerName, EnvName, Integration, Settings
from payroll_sync.schemas.words import SCHEMA_WORDING

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "Credentials",
    "Environment",
    "credentials",
    "environment",
    "intake_tokens",
    "integration",
    "load_settings",
    "operator_token",
    "parse_settings",
    "secret_keys",
]

DEFAULT_CONFIG_PATH: Final = "integrations.toml"
DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX: Final = "payroll-sync"

CONFIG_PATH_VAR: Final = "PAYROLL_SYNC_CONFIG"
REDIS_URL_VAR: Final = "REDIS_URL"
PREFIX_VAR: Final = "PAYROLL_SYNC_PREFIX"
OPERATOR_TOKEN_VAR: Final = "PAYROLL_SYNC_OPERATOR_TOKEN"
DATABASE_URL_VAR: Final = "DATABASE_URL"
SECRET_KEY_VAR: Final = "PAYROLL_SYNC_SECRET_KEY"


# ------------------------------------------------------------------ process environment


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    """Where the process finds its settings and its Redis."""

    config_path: str
    redis_url: str
    # Namespace of every Redis key (runs, rate limits, broker queues): a second deployment or a
    # test run sharing one Redis picks another.
    prefix: str = DEFAULT_PREFIX
    # The integration registry (PostgreSQL); None: the settings file is the source.
    database_url: str | None = None


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """Read `PAYROLL_SYNC_CONFIG`, `REDIS_URL` and `PAYROLL_SYNC_PREFIX`; unset or empty means
    the default."""
    env = os.environ if env is None else env
    # An empty value (`REDIS_URL=` in a compose file) means "not set", not "the empty path".
    return Environment(
        config_path=env.get(CONFIG_PATH_VAR, "").strip() or DEFAULT_CONFIG_PATH,
        redis_url=env.get(REDIS_URL_VAR, "").strip() or DEFAULT_REDIS_URL,
        prefix=env.get(PREFIX_VAR, "").strip() or DEFAULT_PREFIX,
        database_url=env.get(DATABASE_URL_VAR, "").strip() or None,
    )


# ------------------------------------------------------------------ the settings file


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read and parse the TOML settings file at `path`."""
    name = os.fspath(path)
    try:
        text = Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: settings file not found (set {CONFIG_PATH_VAR})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: settings file is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read settings file ({exc.strerror})") from None
    return parse_settings(text, source=name)


def parse_settings(text: str, *, source: str = DEFAULT_CONFIG_PATH) -> Settings:
    """Parse TOML text into `Settings`; `source` names the file in error messages."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_toml_error(source, exc)) from None
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        first = exc
    else:
        _require_token_names(settings, source)
        return settings
    # msgspec writes a dict key as `[...]` in its paths (`$.integrations[...].scope`), so the
    # entry at fault is found by converting each one of those tables on its own.
    for at, key_type, value_type in _KEYED_TABLES:
        table: object = raw
        for name in at:
            table = table.get(name) if isinstance(table, dict) else None
        for key, value in table.items() if isinstance(table, dict) else ():
            _convert(key, key_type, source, at, is_key=True)
            _convert(value, value_type, source, (*at, key))
    raise ConfigError(f"{source}: {reword(str(first), _TOML)}") from None


# Tables keyed by names the user chooses: (where, key type, value type).
_KEYED_TABLES: Final[tuple[tuple[tuple[str, ...], Any, Any], ...]] = (
    (("integrations",), IntegrationId, Integration),
    (("intake", "callers"), CallerName, EnvName),
    (("intake", "allow"), CallerName, list[IntegrationId]),
)


def _require_token_names(settings: Settings, source: str) -> None:
    # Optional in the Struct (the registry stores tokens, not names), required in the file: a
    # file integration without them could never authenticate.
    for name, item in settings.integrations.items():
        for key in ("simployer_token_env", "payroll_token_env"):
            if getattr(item, key) is None:
                where = _dotted(("integrations", name, key))
                raise ConfigError(f"{source}: {where}: missing (required)")


#: How many known integrations an "unknown integration" error names.
KNOWN_NAMED: Final = 10


def integration(settings: Settings, integration_id: str) -> Integration:
    """The integration called `integration_id`, or a `ConfigError` listing the known ones."""
    found = settings.integrations.get(integration_id)
    if found is not None:
        return found
    names = sorted(settings.integrations)
    # A registry holds thousands: name a few, count the rest.
    known = ", ".join(names[:KNOWN_NAMED]) or "none are configured"
    if len(names) > KNOWN_NAMED:
        known += f" and {len(names) - KNOWN_NAMED} more"
    raise ConfigError(f"unknown integration {integration_id!r} (known: {known})")


def _convert(
    value: object, type_: Any, source: str, at: tuple[str, ...], *, is_key: bool = False
) -> None:
    try:
        msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        # A bad key is reported at the key itself (`integrations."a b"`), not at its table.
        where = (*at, str(value)) if is_key else at
        raise ConfigError(f"{source}: {reword(str(exc), _TOML, at=where)}") from None


def _toml_error(source: str, exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError has no line attribute, only "(at line 3, column 7)".
    message = str(exc)
    match = re.fullmatch(
        r"(?P<what>.*) \((?P<where>at line \d+, column \d+|at end of document)\)", message
    )
    if match is None:
        return f"{source}: invalid TOML: {lower_first(message)}"
    where = match["where"].removeprefix("at ").replace("end of document", "end of file")
    return f"{source}, {where}: invalid TOML: {lower_first(match['what'])}"


# ------------------------------------------------------------------ places in TOML words

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")


def _dotted(parts: Sequence[str]) -> str:
    """`integrations.acme.scope.exclude[1]`, quoting keys TOML would (`integrations."a b"`)."""
    out = ""
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.fullmatch(part) else msgspec.json.encode(part).decode()
        out += f".{key}" if out else key
    return out


_TOML: Final = dataclasses.replace(
    SCHEMA_WORDING,
    name=lambda parts: _dotted(parts) or "(top level)",
    unknown=lambda parent: "unknown key",
    types={"object": "a table"},
)


# ------------------------------------------------------------------ secrets


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """The two access tokens of one integration. Never printed: repr hides the values."""

    simployer_token: str
    payroll_token: str

    def __repr__(self) -> str:
        # Tracebacks with locals, debuggers and log renderers all go through repr.
        return "Credentials(simployer_token=<hidden>, payroll_token=<hidden>)"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # msgspec's own __rich_repr__ would list the field values.
        return [("simployer_token", "<hidden>"), ("payroll_token", "<hidden>")]


def credentials(integration: Integration, env: Mapping[str, str] | None = None) -> Credentials:
    """Read the integration's tokens from the environment variables its settings name."""
    env = os.environ if env is None else env
    wanted = {
        "simployer_token_env": integration.simployer_token_env,
        "payroll_token_env": integration.payroll_token_env,
    }
    # Surrounding whitespace (a trailing newline from a secrets file) is never part of a token.
    values = {key: env.get(name, "").strip() if name else "" for key, name in wanted.items()}
    missing = [f"{name or 'none named'} ({key})" for key, name in wanted.items() if not values[key]]
    if missing:
        noun = "variable" if len(missing) == 1 else "variables"
        raise ConfigError(f"environment {noun} not set or empty: {', '.join(missing)}")
    return Credentials(
        simployer_token=values["simployer_token_env"], payroll_token=values["payroll_token_env"]
    )


def operator_token(env: Mapping[str, str] | None = None) -> str:
    """The dashboard's operator token; a ConfigError when unset (no dashboard without one)."""
    env = os.environ if env is None else env
    token = env.get(OPERATOR_TOKEN_VAR, "").strip()
    if not token:
        raise ConfigError(f"environment variable not set or empty: {OPERATOR_TOKEN_VAR}")
    return token


def secret_keys(env: Mapping[str, str] | None = None) -> str:
    """`PAYROLL_SYNC_SECRET_KEY`: the registry's token keys (registry/crypto.py parses them); a
    ConfigError when unset (the registry cannot store or read a token without one)."""
    env = os.environ if env is None else env
    keys = env.get(SECRET_KEY_VAR, "").strip()
    if not keys:
        raise ConfigError(
            f"environment variable not set or empty: {SECRET_KEY_VAR} "
            "(make a key with `payroll-sync new-key`)"
        )
    return keys


def intake_tokens(settings: Settings, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Bearer token -> caller name, for the callers `[intake.callers]` names.

    A caller whose variable is unset cannot call (it is left out, and the intake says so at
    start-up); two callers with the same token would be indistinguishable, so that is refused.
    """
    env = os.environ if env is None else env
    tokens: dict[str, str] = {}
    for caller, variable in sorted(settings.intake.callers.items()):
        token = env.get(variable, "").strip()
        if not token:
            continue
        if token in tokens:
            raise ConfigError(
                f"intake.callers: {tokens[token]} and {caller} have the same token; give each "
                "caller its own"
            )
        tokens[token] = caller
    return tokens

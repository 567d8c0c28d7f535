"""Settings and secrets: the only module that reads the environment.

The TOML file is decoded once into the frozen `Settings` Struct and passed down. Every refusal is
a `ConfigError` that names the file and the key's dotted path (`integrations.acme.scope.offices`),
so the person editing the file knows which line to fix. Tokens live only in environment
variables; errors name the variable, never its value.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, get_args

import msgspec

from payroll_sync.errors import ConfigError
from payroll_sync.schemas.messages import IntegrationId
from payroll_sync.schemas.settings import EnvName, HttpUrl, Integration, Settings

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
]

DEFAULT_CONFIG_PATH: Final = "integrations.toml"
DEFAULT_REDIS_URL: Final = "redis://127.0.0.1:6379/0"
DEFAULT_PREFIX: Final = "payroll-sync"

CONFIG_PATH_VAR: Final = "PAYROLL_SYNC_CONFIG"
REDIS_URL_VAR: Final = "REDIS_URL"
PREFIX_VAR: Final = "PAYROLL_SYNC_PREFIX"
OPERATOR_TOKEN_VAR: Final = "PAYROLL_SYNC_OPERATOR_TOKEN"


# ------------------------------------------------------------------ process environment


class Environment(msgspec.Struct, frozen=True, kw_only=True):
    """Where the process finds its settings and its Redis."""

    config_path: str
    redis_url: str
    # Namespace of every Redis key (runs, rate limits, broker queues): a second deployment or a
    # test run sharing one Redis picks another.
    prefix: str = DEFAULT_PREFIX


def environment(env: Mapping[str, str] | None = None) -> Environment:
    """Read `PAYROLL_SYNC_CONFIG`, `REDIS_URL` and `PAYROLL_SYNC_PREFIX`; unset or empty means
    the default."""
    env = os.environ if env is None else env
    # An empty value (`REDIS_URL=` in a compose file) means "not set", not "the empty path".
    return Environment(
        config_path=env.get(CONFIG_PATH_VAR, "").strip() or DEFAULT_CONFIG_PATH,
        redis_url=env.get(REDIS_URL_VAR, "").strip() or DEFAULT_REDIS_URL,
        prefix=env.get(PREFIX_VAR, "").strip() or DEFAULT_PREFIX,
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
        return msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        first = exc
    # msgspec writes a dict key as `[...]` in its paths (`$.integrations[...].scope`), so the
    # integration at fault is found by converting each one on its own.
    integrations = raw.get("integrations")
    if isinstance(integrations, dict):
        for key, value in integrations.items():
            _convert(key, IntegrationId, source, ("integrations",), is_key=True)
            _convert(value, Integration, source, ("integrations", key))
    raise ConfigError(f"{source}: {_explain(str(first), ())}") from None


def integration(settings: Settings, integration_id: str) -> Integration:
    """The integration called `integration_id`, or a `ConfigError` listing the known ones."""
    found = settings.integrations.get(integration_id)
    if found is not None:
        return found
    known = ", ".join(sorted(settings.integrations)) or "none are configured"
    raise ConfigError(f"unknown integration {integration_id!r} (known: {known})")


def _convert(
    value: object, type_: Any, source: str, at: tuple[str, ...], *, is_key: bool = False
) -> None:
    try:
        msgspec.convert(value, type_)
    except msgspec.ValidationError as exc:
        # A bad key is reported at the key itself (`integrations."a b"`), not at its table.
        where = (*at, str(value)) if is_key else at
        raise ConfigError(f"{source}: {_explain(str(exc), where)}") from None


def _toml_error(source: str, exc: tomllib.TOMLDecodeError) -> str:
    # Python 3.11's TOMLDecodeError has no line attribute, only "(at line 3, column 7)".
    message = str(exc)
    match = re.fullmatch(
        r"(?P<what>.*) \((?P<where>at line \d+, column \d+|at end of document)\)", message
    )
    if match is None:
        return f"{source}: invalid TOML: {_lower_first(message)}"
    where = match["where"].removeprefix("at ").replace("end of document", "end of file")
    return f"{source}, {where}: invalid TOML: {_lower_first(match['what'])}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# ------------------------------------------------------------------ msgspec's words -> TOML words

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_AT = re.compile(r"(?P<what>.*?) - at `(?P<path>[^`]*)`(?: in `(?P<within>[^`]*)`)?")
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_TYPE_WORDS = {
    "float": "a number",
    "int": "a whole number",
    "str": "a string",
    "bool": "true or false",
    "array": "an array",
    "object": "a table",
    "datetime": "a date-time",
    "date": "a date",
    "time": "a time",
}


def _pattern_of(annotated: Any) -> str:
    return str(get_args(annotated)[1].pattern)


# msgspec quotes a failed pattern with repr(); these say what the pattern means.
_PATTERN_WORDS = {
    repr(_pattern_of(HttpUrl)): "an http:// or https:// URL",
    repr(_pattern_of(EnvName)): (
        "an environment variable name (letters, digits and _, not starting with a digit)"
    ),
    repr(_pattern_of(IntegrationId)): (
        "an id of 1-64 letters, digits, _ or -, starting with a letter or digit"
    ),
}


def _explain(message: str, at: tuple[str, ...]) -> str:
    """'Expected `float` > 0.0 - at `$.rate_limit_per_second`' -> 'a.b.rate_limit_per_second:
    expected a number > 0', where `at` is the path of the value that was converted."""
    path = list(at)
    what = message
    match = _AT.fullmatch(message)
    if match is not None:
        what = match["what"]
        # "at `key` in `$.integrations`" means a key of that table; its name is already in `at`.
        if match["within"] is None:
            path += _path_parts(match["path"])
    field = re.fullmatch(r"Object (contains unknown|missing required) field `([^`]*)`", what)
    if field is not None:
        path.append(field[2])
        problem = "unknown key" if field[1] == "contains unknown" else "missing (required)"
    else:
        problem = _problem(what)
    return f"{_dotted(path) or '(top level)'}: {problem}"


def _path_parts(path: str) -> list[str]:
    return [name or index for name, index in _PATH_PART.findall(path.removeprefix("$"))]


def _dotted(parts: list[str]) -> str:
    out = ""
    for part in parts:
        if part.isdigit():
            out += f"[{part}]"
            continue
        key = part if _BARE_KEY.fullmatch(part) else msgspec.json.encode(part).decode()
        out += f".{key}" if out else key
    return out


def _problem(what: str) -> str:
    match = re.fullmatch(r"Expected `([^`]*)`(.*)", what)
    if match is None:
        return _lower_first(what)
    expected, rest = _types(match[1]), match[2]
    got = re.fullmatch(r", got `([^`]*)`", rest)
    if got is not None:
        # "got a number" when a whole number was expected would read as no error at all.
        return f"expected {expected}, got {_types(got[1], float_word='a decimal number')}"
    regex = re.fullmatch(r" matching regex (.*)", rest)
    if regex is not None:
        return f"expected {_PATTERN_WORDS.get(regex[1], 'a string matching ' + regex[1])}"
    length = re.fullmatch(r" of length (>=|<=) (\d+)", rest)
    if length is not None:
        noun = expected.split(" ", 1)[-1]  # "a string" -> "string"
        if length[1] == ">=" and length[2] == "1":
            return f"expected a non-empty {noun}"
        limit = "at least" if length[1] == ">=" else "at most"
        unit = "characters" if match[1] == "str" else "items"
        return f"expected {expected} of {limit} {length[2]} {unit}"
    bound = re.fullmatch(r" (>=|<=|>|<) (.*)", rest)
    if bound is not None:
        return f"expected {expected} {bound[1]} {_number(bound[2])}"
    return f"expected {expected}{rest}"


def _types(spec: str, *, float_word: str = "a number") -> str:
    # TOML has no null: `int | null` (an optional setting) is simply "a whole number".
    names = [name.strip() for name in spec.split("|") if name.strip() != "null"]
    words = {**_TYPE_WORDS, "float": float_word}
    return " or ".join(words.get(name, name) for name in names)


def _number(text: str) -> str:
    return text.removesuffix(".0")


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
    values = {key: env.get(name, "").strip() for key, name in wanted.items()}
    missing = [f"{name} ({key})" for key, name in wanted.items() if not values[key]]
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

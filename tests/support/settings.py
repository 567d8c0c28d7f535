"""Settings of a test integration: as the Structs the code takes, and as a settings file's text.

"Offline" integrations point at port 9 of loopback, where nothing listens: for code that must
never reach the APIs. Simulator integrations point at running simulators, their tokens in
environment variables named by DEMO_TOKEN_ENVS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from payroll_sync.schemas.settings import Integration, Settings
from payroll_sync.simulators.serve import RunningSimulators

OFFLINE_SIMPLOYER_URL: Final = "http://127.0.0.1:9/v1"
OFFLINE_PAYROLL_URL: Final = "http://127.0.0.1:9/api"
OFFLINE_TOKEN_ENVS: Final = ("ACME_SIMPLOYER_TOKEN", "ACME_PAYROLL_TOKEN")
DEMO_TOKEN_ENVS: Final = ("DEMO_SIMPLOYER_TOKEN", "DEMO_PAYROLL_TOKEN")


def offline_integration(**fields: Any) -> Integration:
    """An integration whose APIs nothing answers; `fields` set the rest."""
    return Integration(
        simployer_url=OFFLINE_SIMPLOYER_URL,
        simployer_token_env=OFFLINE_TOKEN_ENVS[0],
        payroll_url=OFFLINE_PAYROLL_URL,
        payroll_token_env=OFFLINE_TOKEN_ENVS[1],
        **fields,
    )


def offline_settings(name: str = "acme", **fields: Any) -> Settings:
    """Settings of one offline integration called `name`; `fields` set the rest (`worker`)."""
    return Settings(integrations={name: offline_integration()}, **fields)


def simulator_tokens(sims: RunningSimulators) -> dict[str, str]:
    """The environment variables that `simulator_toml` names, holding the simulators' tokens."""
    return dict(zip(DEMO_TOKEN_ENVS, (sims.simployer_token, sims.payroll_token), strict=True))


def toml_table(name: str, values: Mapping[str, object]) -> str:
    """One `[name]` table of a settings file."""
    lines = [f"[{name}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n" + "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # Strings, numbers and lists of them are written alike by JSON and TOML.
    return json.dumps(value)


def integration_toml(
    name: str = "acme",
    *,
    simployer_url: str = OFFLINE_SIMPLOYER_URL,
    payroll_url: str = OFFLINE_PAYROLL_URL,
    token_envs: tuple[str, str] = OFFLINE_TOKEN_ENVS,
    schedule: Mapping[str, object] | None = None,
    **fields: object,
) -> str:
    """`[integrations.<name>]` (offline unless given URLs), and its schedule table if given."""
    text = toml_table(
        f"integrations.{name}",
        {
            "simployer_url": simployer_url,
            "simployer_token_env": token_envs[0],
            "payroll_url": payroll_url,
            "payroll_token_env": token_envs[1],
            **fields,
        },
    )
    if schedule is not None:
        text += toml_table(f"integrations.{name}.schedule", schedule)
    return text


def simulator_toml(
    name: str,
    sims: RunningSimulators,
    *,
    schedule: Mapping[str, object] | None = None,
    **fields: object,
) -> str:
    """`[integrations.<name>]` against running simulators (tokens: `simulator_tokens`)."""
    return integration_toml(
        name,
        simployer_url=sims.simployer_url,
        payroll_url=sims.payroll_url,
        token_envs=DEMO_TOKEN_ENVS,
        schedule=schedule,
        **fields,
    )

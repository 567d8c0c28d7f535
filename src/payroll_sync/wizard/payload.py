"""The wizard API's body for `PUT /api/v1/integrations/{id}`: the settings of
`[integrations.ID]` with the two tokens in place of their environment variables' names.

STUB: the `api` branch implements it.
"""

from __future__ import annotations

from payroll_sync.registry.records import TokensUpdate
from payroll_sync.schemas.settings import Integration


class BadIntegration(ValueError):
    """The body is wrong; the message names the field (`scope.offices[1]`), never a token."""


def decode_integration(raw: bytes) -> tuple[Integration, TokensUpdate]:
    """Decode and check a PUT body (unknown fields refused; `simployer_token_env` and
    `payroll_token_env` refused: tokens are given, not named)."""
    raise NotImplementedError

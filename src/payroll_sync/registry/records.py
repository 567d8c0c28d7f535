"""What the registry stores and hands out. Only stdlib and msgspec; no token is ever in clear
text here except inside `Credentials` (whose repr hides it)."""

from __future__ import annotations

import msgspec

from payroll_sync.config import Credentials
from payroll_sync.schemas.settings import Integration


class TokensUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """New tokens for an integration; None keeps the one stored (a replace may leave both out,
    a create must give both)."""

    simployer_token: str | None = None
    payroll_token: str | None = None

    def __repr__(self) -> str:
        return "TokensUpdate(<hidden>)"


class StoredIntegration(msgspec.Struct, frozen=True, kw_only=True):
    """One integration as the registry holds it, without its tokens."""

    id: str
    # The settings; `simployer_token_env`/`payroll_token_env` are None (the tokens are stored).
    settings: Integration
    # Bumped on every write to this row (a deployment-wide sequence): who changed last, and
    # what a process that has seen `version` must reload.
    version: int
    has_simployer_token: bool
    has_payroll_token: bool
    created_at: float  # unix seconds
    updated_at: float


class SideCheck(msgspec.Struct, frozen=True, kw_only=True):
    """One side of a connection check: did the token work, and if not, why (no token, no
    personal data in `reason`)."""

    ok: bool
    reason: str = ""


class ConnectionCheck(msgspec.Struct, frozen=True, kw_only=True):
    checked_at: float  # unix seconds
    simployer: SideCheck
    payroll: SideCheck

    @property
    def ok(self) -> bool:
        return self.simployer.ok and self.payroll.ok


class Live(msgspec.Struct, frozen=True, kw_only=True):
    """An integration as a running process needs it: settings and decrypted tokens."""

    id: str
    settings: Integration
    credentials: Credentials
    version: int


class Changes(msgspec.Struct, frozen=True, kw_only=True):
    """What changed in the registry after a version: rows written (with tokens decrypted) and
    ids removed, and the highest version seen (pass it as `since` next time)."""

    written: list[Live]
    removed: list[str]
    version: int

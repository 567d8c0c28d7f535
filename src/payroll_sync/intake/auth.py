"""Who is calling: a bearer token per caller, compared in constant time.

Pure. The token itself is never returned, logged or put in a message; only the caller's name
(`[intake.callers]` in the settings) leaves this module.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def caller_for(authorization: str | None, tokens: Mapping[str, str]) -> str | None:
    """The name of the caller whose token the header carries (`tokens`: token -> name)."""
    given = bearer_token(authorization)
    if given is None:
        return None
    offered = given.encode()
    found: str | None = None
    # Every token is compared, and compare_digest takes as long whatever the bytes: how long
    # this takes says nothing about how close a guess was.
    for token, caller in tokens.items():
        if hmac.compare_digest(offered, token.encode()):
            found = caller
    return found

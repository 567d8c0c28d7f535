"""HTTP pieces every suite speaks."""

from __future__ import annotations


def bearer(token: str) -> dict[str, str]:
    """The headers of a request authenticated with `token` (the APIs, the intake, the dashboard)."""
    return {"Authorization": f"Bearer {token}"}

"""Test an integration's two tokens now (the wizard's "Next" step).

STUB: the `api` branch implements it.
"""

from __future__ import annotations

import aiohttp

from payroll_sync.config import Credentials
from payroll_sync.registry.records import ConnectionCheck
from payroll_sync.schemas.settings import Integration


async def check_connection(
    integration: Integration,
    credentials: Credentials,
    *,
    session: aiohttp.ClientSession,
    now: float,
) -> ConnectionCheck:
    """One cheap authenticated read on each side, both at once; each side's `reason` says what
    went wrong in words a person can act on ("24SevenOffice refused the token (401)", "Simployer
    One did not answer within 10 s")."""
    raise NotImplementedError

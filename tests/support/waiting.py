"""Waiting for something that must happen, by polling: never a sleep standing in for a fact."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def wait_for(
    condition: Callable[[], Awaitable[bool]], what: str, *, within: float, every: float = 0.05
) -> None:
    """Poll `condition` until it holds; an AssertionError naming `what` after `within` seconds
    (generous limits: a wait that runs out is a hang, not slowness)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(every)

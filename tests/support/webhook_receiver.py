"""A local webhook receiver for the alerts' tests: an aiohttp server on a loopback port that
keeps every body it was sent, and answers with the status the test sets (or is not there at
all, when stopped)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Receiver:
    url: str = ""
    # What it answers; 2xx means delivered.
    status: int = 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    # Every call, answered 2xx or not.
    calls: int = 0

    def texts(self) -> list[str]:
        return [str(body.get("text", "")) for body in self.bodies]

    def opened(self) -> list[str]:
        return [text for text in self.texts() if "recovered" not in text]

    def recovered(self) -> list[str]:
        return [text for text in self.texts() if "recovered" in text]


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()

    async def hook(request: web.Request) -> web.Response:
        receiver.calls += 1
        body = await request.json()
        if 200 <= receiver.status < 300:
            receiver.bodies.append(body)
        return web.Response(status=receiver.status, text="ok")

    app = web.Application()
    app.router.add_post("/hooks/T000/B000/secret-part", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}/hooks/T000/B000/secret-part"
    try:
        yield receiver
    finally:
        await runner.cleanup()

"""A redis-server of a test's own, on a free port, to stop and start again ("Redis is down").

The shared Redis is never stopped or reconfigured; a test that needs Redis to go away uses
this one. No persistence: what it held is gone after a stop (unless `appendonly`).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

START_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OwnRedis:
    def __init__(self, directory: Path, *, appendonly: bool = False) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._appendonly = appendonly
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._process is None, "already running"
        self._process = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "yes" if self._appendonly else "no",
                "--dir", str(self._directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + START_SECONDS
        client = redis.Redis.from_url(self.url)
        try:
            while True:
                with suppress(redis.ConnectionError):
                    if client.ping():
                        return
                assert self._process.poll() is None, "redis-server exited"
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        self._process.wait(timeout=START_SECONDS)
        self._process = None


@contextmanager
def own_redis(directory: Path, *, appendonly: bool = False) -> Iterator[OwnRedis]:
    """A running redis-server of this test's own; stopped afterwards."""
    server = OwnRedis(directory, appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop()

"""A redis-server of a test's own, on a free port, to stop and start again ("Redis is down").

The shared Redis is never stopped or reconfigured; a test that needs Redis to go away uses
this one. Without `appendonly` what it held is gone after a stop; with it, a restart reads its
AOF back (production's setting).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

#: A server that has not answered after this long did not start.
START_SECONDS = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OwnRedis:
    def __init__(self, directory: Path, *, appendonly: bool = False, port: int | None = None):
        self.directory = directory
        self.appendonly = appendonly
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server (again, on the same port and AOF) and wait until it answers."""
        assert self.process is None, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "yes" if self.appendonly else "no"]
        command += ["--dir", str(self.directory)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + START_SECONDS
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    pass  # still reading its AOF
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise
                time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server as a service manager would (SIGTERM: an AOF is flushed first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@contextmanager
def own_redis(directory: Path, *, appendonly: bool = False) -> Iterator[OwnRedis]:
    """A running redis-server of this test's own; stopped afterwards."""
    server = OwnRedis(directory, appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop()

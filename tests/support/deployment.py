"""`payroll-sync` commands as separate processes on one key prefix, as they run in production."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import redis.asyncio as aioredis

from payroll_sync.queue.broker import broker_namespace
from payroll_sync.runs.store import delete_keys
from tests.support import processes
from tests.support.keys import REDIS_URL, unique_prefix
from tests.support.processes import CLI, Output


class Deployment:
    """A settings file, an environment (Redis, a prefix of its own, `secrets` such as tokens)
    and the processes started in it. The caller stops them and removes the keys afterwards."""

    def __init__(self, config: Path, secrets: Mapping[str, str]) -> None:
        self.config = config
        self.prefix = unique_prefix()
        self.env: dict[str, str] = {
            **os.environ,
            "PAYROLL_SYNC_CONFIG": str(config),
            "REDIS_URL": REDIS_URL,
            "PAYROLL_SYNC_PREFIX": self.prefix,
            **secrets,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(
        self, *args: str, stdout: Output = subprocess.DEVNULL, stderr: Output = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        """`payroll-sync <args>`, running until `stop_all`."""
        process = processes.start([*CLI, *args], env=self.env, stdout=stdout, stderr=stderr)
        self.processes.append(process)
        return process

    def start_logged(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """`payroll-sync <args>` with its stdout and stderr both in the file `log`."""
        with open(log, "wb") as out:
            return self.start(*args, stdout=out, stderr=out)

    def start_worker(
        self,
        threads: int = 4,
        *,
        stdout: Output = subprocess.DEVNULL,
        stderr: Output = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """One Dramatiq worker process with `threads` threads."""
        args = ("worker", "--processes", "1", "--threads", str(threads))
        return self.start(*args, stdout=stdout, stderr=stderr)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`payroll-sync <args>` run to its end."""
        return processes.run([*CLI, *args], env=self.env, timeout=timeout)

    def stop_all(self) -> None:
        for process in self.processes:
            processes.stop(process)

    async def remove_keys(self, redis: aioredis.Redis) -> None:
        """Every key of this deployment: its run store's, its schedulers' and its queues'."""
        await delete_keys(redis, f"{self.prefix}:*")
        await delete_keys(redis, f"{broker_namespace(self.prefix)}:*")

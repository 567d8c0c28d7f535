"""Processes of the `payroll-sync` command: started in a session of their own, a line of their
output awaited, stopped with SIGTERM (SIGKILL if that does not end them), output collected."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final, Literal, overload

CLI: Final = [sys.executable, "-m", "payroll_sync.cli"]
# Generous: a process that takes this long to stop is stuck, not slow.
STOP_SECONDS: Final = 20.0

#: Where a started process's stdout or stderr goes (subprocess.PIPE, DEVNULL or an open file).
Output = int | IO[Any]


@overload
def start(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: Output = subprocess.DEVNULL,
    stderr: Output = subprocess.DEVNULL,
    text: Literal[False] = False,
) -> subprocess.Popen[bytes]: ...


@overload
def start(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: Output = subprocess.DEVNULL,
    stderr: Output = subprocess.DEVNULL,
    text: Literal[True],
) -> subprocess.Popen[str]: ...


def start(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdout: Output = subprocess.DEVNULL,
    stderr: Output = subprocess.DEVNULL,
    text: bool = False,
) -> subprocess.Popen[bytes] | subprocess.Popen[str]:
    """A process in a session of its own, so that `stop` reaches the children it starts too
    (Dramatiq's worker processes)."""
    return subprocess.Popen(
        list(args), env=env, start_new_session=True, stdout=stdout, stderr=stderr, text=text
    )


def stop(process: subprocess.Popen[Any], timeout: float = STOP_SECONDS) -> int:
    """SIGTERM to the process's group, SIGKILL if it is still there after `timeout`; its exit
    code. A process that has ended already is left as it is."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


async def first_line(process: subprocess.Popen[Any], *, within: float = 60.0) -> str:
    """The next line the process prints on stdout (a PIPE), read without blocking the loop."""
    assert process.stdout is not None, "start the process with stdout=subprocess.PIPE"
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), within)
    return line.decode() if isinstance(line, bytes) else str(line)


def run(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run a command to its end; its exit code and its output as text."""
    return subprocess.run(list(args), env=env, capture_output=True, text=True, timeout=timeout)

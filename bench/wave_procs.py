"""The wave benchmark's processes: its own redis-server, the fleet of simulated companies, the
`payroll-sync worker` command; and what each has spent in CPU (from /proc, so the figure is
the process's own, children included)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import redis

from payroll_sync.simulators.fleet import FleetManifest

STOP_SECONDS = 20.0
_TICKS = os.sysconf("SC_CLK_TCK")


class SetupFailed(Exception):
    """Something the benchmark needs did not start: the one case it exits non-zero."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ------------------------------------------------------------------ CPU from /proc


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def tree_cpu(root: int) -> float:
    """CPU seconds of `root` and every live descendant (Dramatiq forks its worker processes)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


# ------------------------------------------------------------------ processes


def start(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A process in a session of its own, so that `stop` reaches its children too."""
    out = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    try:
        return subprocess.Popen(
            list(args), env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group (SIGKILL if it lingers)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)


def _wait_until(ready: object, process: subprocess.Popen[bytes], what: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not ready():  # type: ignore[operator]
        if process.poll() is not None:
            raise SetupFailed(f"{what} exited with status {process.returncode}")
        if time.monotonic() > deadline:
            raise SetupFailed(f"{what} not ready after {within:.0f} s")
        time.sleep(0.1)


@dataclass(frozen=True)
class OwnRedis:
    url: str
    pid: int


@contextlib.contextmanager
def own_redis(workdir: Path) -> Iterator[OwnRedis]:
    """A redis-server of our own on a free port, no persistence: its CPU is ours alone."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SetupFailed("redis-server not found on PATH (or pass --shared-redis)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(workdir)]
    process = start(command, log=workdir / "redis.log")
    client = redis.Redis(port=port)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait_until(answers, process, "redis-server", 30)
        yield OwnRedis(url=f"redis://127.0.0.1:{port}/0", pid=process.pid)
    finally:
        client.close()
        stop(process)


@contextlib.contextmanager
def fleet(args: Sequence[str], workdir: Path) -> Iterator[tuple[FleetManifest, int]]:
    """The fleet process (`python -m payroll_sync.simulators.fleet`), its manifest and pid."""
    manifest = workdir / "fleet.json"
    command = [sys.executable, "-m", "payroll_sync.simulators.fleet", *args]
    process = start([*command, "--manifest", str(manifest)], log=workdir / "fleet.log")
    try:
        _wait_until(manifest.exists, process, "the fleet of simulators", 300)
        yield msgspec.json.decode(manifest.read_bytes(), type=FleetManifest), process.pid
    finally:
        stop(process)


@contextlib.contextmanager
def worker(
    processes: int, threads: int, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`payroll-sync worker` as production starts it, its JSON log lines going to `log`;
    ready when each Dramatiq process has said so."""
    command = [sys.executable, "-m", "payroll_sync.cli", "worker"]
    command += ["--processes", str(processes), "--threads", str(threads)]
    process = start(command, env=env, log=log)

    def ready() -> bool:
        return log.exists() and log.read_bytes().count(b"ready for action") >= processes

    try:
        _wait_until(ready, process, "the worker", 120)
        yield process
    finally:
        stop(process)


def log_size(log: Path) -> int:
    return log.stat().st_size


def count_events(log: Path, start: int, events: Sequence[str]) -> tuple[dict[str, int], int]:
    """How many lines from byte `start` of `log` carry each event; and the log's size now."""
    with open(log, "rb") as file:
        file.seek(start)
        text = file.read()
    counts = {event: text.count(f'"event": "{event}"'.encode()) for event in events}
    return counts, start + len(text)

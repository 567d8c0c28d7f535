"""The worker processes' metrics set-up: the environment `payroll-sync worker` hands Dramatiq,
the middleware added only then, and the exposition server's answer to a port already taken."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from payroll_sync.metrics import worker


def test_the_environment_names_the_directory_emptied_of_old_metric_files(tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("kept")
    env: dict[str, str] = {}
    made = worker.worker_environment(env, host="0.0.0.0", port=9300, directory=str(tmp_path))
    assert made == str(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]
    assert env == {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "dramatiq_prom_db": str(tmp_path),
        "PAYROLL_SYNC_WORKER_METRICS_HOST": "0.0.0.0",
        "PAYROLL_SYNC_WORKER_METRICS_PORT": "9300",
    }
    assert worker.enabled(env)


def test_without_a_directory_each_command_gets_a_new_one() -> None:
    first: dict[str, str] = {}
    second: dict[str, str] = {}
    one = worker.worker_environment(first, host="127.0.0.1", port=0, directory=None)
    two = worker.worker_environment(second, host="127.0.0.1", port=0, directory=None)
    try:
        assert one != two
        assert Path(one).is_dir()
        # Only the command's pid: no metric file of anyone else's is summed.
        assert [path.name for path in Path(one).iterdir()] == [worker.OWNER_FILE]
        assert (Path(one) / worker.OWNER_FILE).read_text() == str(os.getpid())
    finally:
        shutil.rmtree(one)
        shutil.rmtree(two)


def test_a_new_directory_removes_those_of_stopped_commands_only(tmp_path: Path) -> None:
    stopped = subprocess.Popen([sys.executable, "-c", "pass"])
    stopped.wait()
    abandoned = worker.new_directory(tmp_path, owner=stopped.pid)
    (abandoned / "counter_1.db").write_bytes(b"x")
    running = worker.new_directory(tmp_path, owner=os.getpid())
    unowned = tmp_path / f"{worker.TEMP_PREFIX}by-hand"
    unowned.mkdir()
    someone_elses = tmp_path / "other"
    someone_elses.mkdir()

    newest = worker.new_directory(tmp_path, owner=os.getpid())

    assert not abandoned.exists()
    assert running.is_dir()
    assert newest.is_dir()
    assert running != newest
    assert unowned.is_dir()
    assert someone_elses.is_dir()


def test_a_worker_started_otherwise_adds_no_middleware() -> None:
    assert not worker.enabled({})
    assert not worker.enabled({"PROMETHEUS_MULTIPROC_DIR": "/tmp/x"})
    assert not worker.enabled({"PAYROLL_SYNC_WORKER_METRICS_PORT": "9191"})


def test_port_zero_starts_no_exposition_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("dramatiq_prom_db", str(tmp_path))
    monkeypatch.setenv("PAYROLL_SYNC_WORKER_METRICS_PORT", "0")
    assert worker.queue_metrics().forks == []
    monkeypatch.setenv("PAYROLL_SYNC_WORKER_METRICS_PORT", "9191")
    assert worker.queue_metrics().forks == [worker.serve]


def test_a_port_already_taken_is_logged_and_the_server_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
        monkeypatch.setenv("PAYROLL_SYNC_WORKER_METRICS_HOST", "127.0.0.1")
        monkeypatch.setenv("PAYROLL_SYNC_WORKER_METRICS_PORT", str(port))
        with capture_logs() as events:
            assert worker.serve() == 0
    [event] = [e for e in events if e["event"] == "metrics.not_served"]
    assert event["port"] == port
    assert event["error_type"] == "OSError"

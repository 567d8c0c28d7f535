"""The worker processes' metrics set-up: the environment `payroll-sync worker` hands Dramatiq,
the middleware added only then, and the exposition server's answer to a port already taken."""

from __future__ import annotations

import os
import socket
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
        assert not list(Path(one).iterdir())
    finally:
        os.rmdir(one)
        os.rmdir(two)


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

"""Issue 16's "Done when": `/metrics` scraped during a run and after it finds each metric with
the right values, and no personal data.

A deployment as in production: simulators over HTTP, `payroll-sync worker` (two processes: their
metrics are summed through prometheus-client's multiprocess mode), `payroll-sync scheduler`,
`intake` and `dashboard`, on the real Redis. The run is a scheduled one: a slot half an hour ago
fires at the scheduler's start, one six and a half hours ago is missed. 24SevenOffice answers
at most 10 requests a second while the integration allows 16, so it answers 429s (until the
test lifts its limit); the pacer holds the records back at the integration's rate, so some wait
while the test scrapes.
"""

from __future__ import annotations

import datetime
import re
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from payroll_sync.metrics.classes import ANSWER_CLASSES, answer_class
from payroll_sync.queue.broker import broker_namespace
from payroll_sync.queue.pacing import PaceKeys
from payroll_sync.runs.store import RunStore
from payroll_sync.scheduler.slots import OSLO
from payroll_sync.scheduler.state import ScheduleState
from payroll_sync.schemas.outcomes import OUTCOMES, Run
from payroll_sync.simulators.serve import RunningSimulators
from tests.integration.conftest import StartSimulators
from tests.support import processes
from tests.support.deployment import Deployment
from tests.support.keys import REDIS_URL
from tests.support.settings import simulator_tokens, simulator_toml, toml_table
from tests.support.simulator_admin import (
    patch_settings,
    payroll_requests,
    payroll_state,
    requests_of,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

INTEGRATION: Final = "demo"
EMPLOYEES: Final = 30
INTAKE_TOKEN: Final = "metrics-intake-token-5d0b2c71e9"
OPERATOR_TOKEN: Final = "metrics-operator-token-a4c81f0e36"
WITHIN: Final = 180.0
LONG_AGO: Final = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

#: Every label a scrape may show, and the values it may have (`le`: a histogram's buckets).
KNOWN_LABELS: Final[dict[str, set[str]]] = {
    "integration": {INTEGRATION},
    "kind": {"employees", "absences"},
    "outcome": set(OUTCOMES),
    "dry_run": {"true", "false"},
    "api": {"payroll", "simployer"},
    "answer": set(ANSWER_CLASSES),
    "cause": {"wait", "429"},
    # Scheduler slots; the alerts' webhook deliveries (alerts/metrics.py).
    "result": {"fired", "missed", "sent", "failed", "no_webhook"},
    "condition": {"failing", "stale"},
    "queue_name": {"employees", "absences", "requests", "employees.DQ", "absences.DQ"},
    "actor_name": {"sync_employee_task", "sync_absence_task", "submit_sync_request"},
    "le": set(),
    "pid": set(),
}

#: One scrape: (metric name without suffix, labels) -> value, for every sample.
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parsed(text: str) -> Samples:
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {
        dict(have)[label] for (n, have), _ in samples.items() if n == name and label in dict(have)
    }


class Scraper:
    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        #: Every text scraped, for the personal-data scan.
        self.texts: list[str] = []

    async def __call__(self, base: str) -> Samples:
        async with self.http.get(f"{base}/metrics", allow_redirects=False) as answer:
            assert answer.status == 200, f"{base}/metrics: {answer.status}"
            assert answer.headers["Content-Type"].startswith("text/plain")
            text = await answer.text()
        self.texts.append(text)
        return parsed(text)


async def listening_on(process: subprocess.Popen[bytes], starts: str) -> str:
    line = await processes.first_line(process)
    assert line.startswith(starts), line
    found = re.search(r"http://[0-9.]+:[0-9]+", line)
    assert found is not None, line
    return found.group(0)


def personal_values(company: Any) -> tuple[set[str], set[str]]:
    """(values that must not appear anywhere in the text, values that must not be a token of
    it): fødselsnummer, account numbers, names, addresses and e-mail as text; salaries as
    tokens (a short number could be a digit run of some float)."""
    anywhere: set[str] = set()
    as_token: set[str] = set()
    for row in company.employee:
        for text in (row.personnr, row.account, row.firstname, row.lastname, row.postaddress):
            if len(text) >= 4:
                anywhere.add(text)
        if "@" in row.email:
            anywhere.add(row.email)
        if row.salary:
            as_token.add(row.salary)
    return anywhere, as_token


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _config(sims: RunningSimulators) -> str:
    now = datetime.datetime.now(OSLO)
    fired = (now - datetime.timedelta(minutes=30)).strftime("%H:%M")
    missed = (now - datetime.timedelta(hours=6, minutes=30)).strftime("%H:%M")
    schedule = {
        "enabled": True,
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
        "times": sorted({fired, missed}),
    }
    return (
        simulator_toml(
            INTEGRATION, sims, rate_limit_per_second=16, rate_limit_burst=4, schedule=schedule
        )
        + toml_table("intake.callers", {"monitor": "INTAKE_TOKEN_MONITOR"})
        + toml_table("worker", {"first_retry_seconds": 0.2, "max_retry_delay_seconds": 2})
    )


async def test_metrics_during_and_after_a_scheduled_run(
    start_simulators: StartSimulators,
    redis: aioredis.Redis,
    http: aiohttp.ClientSession,
    tmp_path: Path,
) -> None:
    sims = start_simulators(
        employees=EMPLOYEES,
        rate_limit_per_second=10,
        rate_limit_burst=2,
        simployer_rate_limit_per_second=0,
    )
    config = tmp_path / "integrations.toml"
    config.write_text(_config(sims), encoding="utf-8")
    deployment = Deployment(
        config,
        {
            **simulator_tokens(sims),
            "INTAKE_TOKEN_MONITOR": INTAKE_TOKEN,
            "PAYROLL_SYNC_OPERATOR_TOKEN": OPERATOR_TOKEN,
        },
    )
    store = RunStore(redis, prefix=deployment.prefix)
    pace = PaceKeys(broker_namespace(deployment.prefix))
    scrape = Scraper(http)
    try:
        # Last checked seven hours ago: both slots are in the gap, one too late to fire.
        state = ScheduleState(redis, prefix=deployment.prefix)
        await state.mark_enabled(INTEGRATION, LONG_AGO)
        await state.set_checked(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=7))

        worker_port = free_port()
        worker_url = f"http://127.0.0.1:{worker_port}"
        deployment.start_logged(
            "worker",
            "--processes",
            "2",
            "--threads",
            "4",
            "--metrics-port",
            str(worker_port),
            log=tmp_path / "worker.log",
        )
        with (tmp_path / "services.log").open("wb") as log:
            intake = deployment.start("intake", "--port", "0", stdout=subprocess.PIPE, stderr=log)
            dashboard = deployment.start(
                "dashboard", "--port", "0", stdout=subprocess.PIPE, stderr=log
            )
            intake_url = await listening_on(intake, "intake listening on")
            dashboard_url = await listening_on(dashboard, "Dashboard on")
            scheduler = deployment.start(
                "scheduler", "--interval", "0.2", "--port", "0", stdout=subprocess.PIPE, stderr=log
            )
            scheduler_url = await listening_on(scheduler, "scheduler listening on")

        # ---------------------------------------------------------------- during the run
        async def records_wait() -> bool:
            return bool(await redis.llen(pace.pending(INTEGRATION)))

        await wait_for(
            records_wait, "the scheduled run's records to wait in the pacer", within=WITHIN
        )
        [run] = await store.list_runs()
        for base in (scheduler_url, intake_url, dashboard_url):
            before = int(await redis.llen(pace.pending(INTEGRATION)))
            during = await scrape(base)
            later = int(await redis.llen(pace.pending(INTEGRATION)))
            waiting = value(during, "payroll_sync_records_waiting", integration=INTEGRATION)
            # The list only shrinks during the run: the gauge read it in between.
            assert later <= waiting <= before, (base, later, waiting, before)
            oldest = value(
                during, "payroll_sync_oldest_waiting_record_age_seconds", integration=INTEGRATION
            )
            if waiting:
                # Queued when the run was created, read before the scrape answered.
                assert 0 < oldest <= time.time() - run.created_at + 1.0, oldest
        scheduled = await scrape(scheduler_url)
        assert value(scheduled, "payroll_sync_schedule_slots_total", result="fired") == 1
        assert value(scheduled, "payroll_sync_schedule_slots_total", result="missed") == 1
        assert label_values(scheduled, "payroll_sync_schedule_slots_total", "integration") == {
            INTEGRATION
        }

        async def some_finished() -> bool:
            found = await store.get_run(run.id)
            return found is not None and found.finished > 0

        await wait_for(some_finished, "the first records to finish", within=WITHIN)

        async def worker_serves() -> bool:
            try:
                async with http.get(f"{worker_url}/metrics") as answer:
                    return answer.status == 200
            except aiohttp.ClientConnectionError:
                return False

        # Dramatiq starts the exposition process once its worker processes are up.
        await wait_for(worker_serves, "the workers' metrics server to answer", within=WITHIN)
        running = await store.get_run(run.id)
        assert running is not None
        assert running.status != "done", "the workers' scrape must come during the run"
        working = await scrape(worker_url)
        finished_now = await store.get_run(run.id)
        assert finished_now is not None
        # A worker counts a record just after recording it in Redis.
        assert value(working, "payroll_sync_records_total", integration=INTEGRATION) <= (
            finished_now.finished
        )

        async def answered_429() -> bool:
            return bool((await payroll_requests(sims))["by_status"].get("429", 0) > 0)

        await wait_for(answered_429, "24SevenOffice to answer 429s", within=WITHIN)
        # Then its limit goes: a record that needs more requests in a row than its burst
        # would otherwise meet a 429 at the same step each time it comes back.
        await patch_settings(sims.payroll_admin, rate_limit_per_second=0)

        # ---------------------------------------------------------------- after the run
        done = await store.wait_done(run.id, poll_seconds=0.2, max_seconds=WITHIN)
        assert done.status == "done"
        assert done.trigger == "scheduled"

        async def all_counted() -> bool:
            samples = await scrape(worker_url)
            counted = value(samples, "payroll_sync_records_total", integration=INTEGRATION)
            return counted == done.total and (
                value(samples, "payroll_sync_run_duration_seconds_count") == 1
            )

        await wait_for(all_counted, "the worker's counts to reach the run's", within=30)
        worker = await scrape(worker_url)
        await _assert_worker_metrics(worker, done)

        after = {base: await scrape(base) for base in (scheduler_url, intake_url, dashboard_url)}
        for samples in after.values():
            assert value(samples, "payroll_sync_records_waiting", integration=INTEGRATION) == 0
            assert (
                value(
                    samples,
                    "payroll_sync_oldest_waiting_record_age_seconds",
                    integration=INTEGRATION,
                )
                == 0
            )
        # Every request either simulator saw, the worker or the scheduler's producer sent (and
        # counted by its answer's class).
        senders = (worker, after[scheduler_url])
        payroll_seen = (await payroll_requests(sims))["by_status"]
        simployer_seen = (await requests_of(sims.simployer_admin))["by_status"]
        for api, seen in (("payroll", payroll_seen), ("simployer", simployer_seen)):
            assert _by_class(seen) == _counted(senders, api), api
        assert payroll_seen.get("429", 0) > 0, "24SevenOffice must have answered 429s"
        # Each counted under the integration that sent it.
        for samples in senders:
            requests = label_values(samples, "payroll_sync_api_requests_total", "integration")
            assert requests == {INTEGRATION}
        assert value(worker, "payroll_sync_api_requests_total", api="payroll", answer="429") > 0
        # Each 429 a worker got put its record back to wait.
        assert value(
            worker, "payroll_sync_rate_limit_deferrals_total", integration=INTEGRATION, cause="429"
        ) == value(worker, "payroll_sync_api_requests_total", answer="429")

        # ---------------------------------------------------------------- no personal data
        anywhere, as_token = personal_values(await payroll_state(sims))
        assert anywhere
        assert as_token
        secrets = {sims.payroll_token, sims.simployer_token, INTAKE_TOKEN, OPERATOR_TOKEN}
        for text in scrape.texts:
            tokens = set(re.split(r'[\s{}=,"]+', text))
            assert not [item for item in anywhere | secrets if item in text]
            assert not as_token & tokens
            # Label values: ids, kinds, outcomes, classes, APIs, Dramatiq's queues and actors.
            # (prometheus-client's own process and Python metrics have labels of their own.)
            for (name, labels), _ in parsed(text).items():
                if not name.startswith(("payroll_sync_", "dramatiq_")):
                    continue
                for label, shown in labels:
                    assert label in KNOWN_LABELS, label
                    if label in ("le", "pid"):  # a bucket; a worker process of Dramatiq's gauge
                        assert re.fullmatch(r"[0-9.e+]+|\+Inf", shown), (label, shown)
                    else:
                        assert shown in KNOWN_LABELS[label], (label, shown)
        assert len(scrape.texts) >= 8
    finally:
        deployment.stop_all()
        await deployment.remove_keys(redis)


async def _assert_worker_metrics(worker: Samples, done: Run) -> None:
    # Records by outcome are the run's counts, summed over the two worker processes.
    for outcome in OUTCOMES:
        assert value(
            worker,
            "payroll_sync_records_total",
            integration=INTEGRATION,
            kind="employees",
            outcome=outcome,
            dry_run="false",
        ) == done.counts.get(outcome, 0), outcome
    # The run's duration, observed once, from its creation to its last outcome.
    assert value(worker, "payroll_sync_run_duration_seconds_count", kind="employees") == 1
    assert value(worker, "payroll_sync_run_duration_seconds_sum") == pytest.approx(
        done.finished_at - done.created_at, abs=0.01
    )
    # Every payroll request of a worker waited for a slot of the shared limit first: the
    # histogram (by API) counts each, and the integration's counter adds up the same seconds.
    waits = value(worker, "payroll_sync_rate_limit_wait_seconds_count", api="payroll")
    assert waits == value(worker, "payroll_sync_api_requests_total", api="payroll")
    waited = value(worker, "payroll_sync_rate_limit_wait_seconds_sum", api="payroll")
    assert waited > 0
    by_integration = value(
        worker,
        "payroll_sync_rate_limit_waited_seconds_total",
        integration=INTEGRATION,
        api="payroll",
    )
    assert by_integration == pytest.approx(waited, rel=1e-6)
    # Dramatiq's own queue metrics, from the same multiprocess files: each record's message at
    # least once (deferred ones again).
    handled = value(worker, "dramatiq_messages_total", queue_name="employees")
    assert handled >= done.total


def _by_class(seen: dict[str, int]) -> dict[str, int]:
    classes: dict[str, int] = {}
    for status, count in seen.items():
        name = answer_class(int(status))
        classes[name] = classes.get(name, 0) + count
    return classes


def _counted(senders: Iterable[Samples], api: str) -> dict[str, int]:
    counted: dict[str, int] = {}
    for samples in senders:
        for (name, labels), count in samples.items():
            have = dict(labels)
            if name == "payroll_sync_api_requests_total" and have["api"] == api and count:
                counted[have["answer"]] = counted.get(have["answer"], 0) + int(count)
    return counted

"""The producer's bulk reads against the Simployer One simulator: a page that fails is read again
alone (counted at the simulator), and a company read under a low Simployer One rate limit
succeeds, paced by the integration's own limiter (SPEC "Reading the two APIs")."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from payroll_sync.producer.enrol import Expansion
from payroll_sync.producer.producer import Producer
from payroll_sync.runs.store import RunStore
from payroll_sync.schemas.messages import SyncRequest
from payroll_sync.schemas.settings import Settings, Worker
from payroll_sync.simulators.serve import RunningSimulators
from payroll_sync.stack import simulator_settings
from tests.integration.conftest import StartSimulators
from tests.support.recorders import Recorder
from tests.support.simulator_admin import patch_settings, requests_of, reset_requests

INTEGRATION = "demo"
# Quick retries: a test waits no longer than it must.
QUICK = Worker(first_retry_seconds=0.05, max_retry_delay_seconds=0.5, request_timeout_seconds=5)


def settings_for(sims: RunningSimulators, **integration: Any) -> tuple[Settings, dict[str, str]]:
    settings, env = simulator_settings(sims, integration=INTEGRATION, worker=QUICK)
    chosen = msgspec.structs.replace(settings.integrations[INTEGRATION], **integration)
    return msgspec.structs.replace(settings, integrations={INTEGRATION: chosen}), env


async def dry_run(
    sims: RunningSimulators, store: RunStore, **integration: Any
) -> tuple[Expansion, dict[str, Any]]:
    """A dry run's expansion (dry runs never join, so each reads afresh) and the Simployer One
    simulator's request counts for it."""
    settings, env = settings_for(sims, **integration)
    await reset_requests(sims.simployer_admin)
    producer = Producer(store.redis, store.prefix, env=env, enqueue=Recorder())
    request = SyncRequest(integration=INTEGRATION, dry_run=True)
    expansion = await producer.submit(request, settings)
    return expansion, await requests_of(sims.simployer_admin)


@pytest.mark.parametrize("statuses", [[500], [503]])
async def test_a_page_that_fails_is_read_again_alone(
    start_simulators: StartSimulators, store: RunStore, statuses: list[int]
) -> None:
    sims = start_simulators(
        employees=450, rate_limit_per_second=0, simployer_rate_limit_per_second=0
    )
    clean, clean_counts = await dry_run(sims, store)
    assert clean_counts["by_status"] == {"200": clean_counts["total"]}

    await patch_settings(sims.simployer_admin, error_rate=0.3, error_statuses=statuses)
    faulty, counts = await dry_run(sims, store)

    assert faulty.in_scope == clean.in_scope > 400
    failed = sum(counts["by_status"].get(str(status), 0) for status in statuses)
    assert failed > 0, counts
    # Every failed request was made once more, and nothing else: no page read twice after it
    # answered, no listing started over.
    assert counts["by_status"]["200"] == clean_counts["total"]
    assert counts["total"] == clean_counts["total"] + failed


@pytest.mark.parametrize(
    ("own_limit", "throttled"),
    [(25.0, "none: our limiter paces the reads"), (200.0, "429s, each request retried")],
)
async def test_a_company_read_under_a_low_simployer_rate_limit_succeeds(
    start_simulators: StartSimulators, store: RunStore, own_limit: float, throttled: str
) -> None:
    """2,000 employees (about 100 requests) against Simployer One allowing 25 requests/s in
    bursts of 50: paced by our own limit of 25/s, or, set too high, through 429s."""
    sims = start_simulators(
        employees=2000, rate_limit_per_second=0, simployer_rate_limit_per_second=25.0
    )
    expansion, counts = await dry_run(sims, store, simployer_rate_limit_per_second=own_limit)

    assert expansion.in_scope == expansion.enqueued > 1900
    await patch_settings(sims.simployer_admin, rate_limit_per_second=0)
    _, clean_counts = await dry_run(sims, store)
    # Requests answered are exactly those a clean read makes (one per page or batch): a 429
    # made its one request again, never the listing.
    assert counts["by_status"]["200"] == clean_counts["total"]
    assert counts["total"] == clean_counts["total"] + counts["by_status"].get("429", 0)
    if own_limit <= 25.0:
        assert counts["by_status"].get("429", 0) == 0, counts
    else:
        assert counts["by_status"].get("429", 0) > 0, counts

"""The open incidents (and those resolved in the last days) the runs page and an integration's
page show: read from the alerts' store (alerts/store.py), which the scheduler process keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from payroll_sync.alerts.store import Incident, IncidentStore
from payroll_sync.runs.store import RunStore

#: Resolved incidents are listed this long after they resolved.
RECENT_SECONDS: Final = 3 * 24 * 3600

CONDITION_TEXT: Final = {
    "failing": "records failing",
    "stale": "scheduled sync stale",
}


@dataclass(frozen=True)
class Incidents:
    open: list[Incident] = field(default_factory=list)
    recent: list[Incident] = field(default_factory=list)
    # Shown for one integration (its page): no integration column.
    integration: str | None = None

    def what(self, incident: Incident) -> str:
        return CONDITION_TEXT.get(incident.condition, incident.condition)


async def incidents_of(store: RunStore, *, now: float, integration: str | None = None) -> Incidents:
    incidents = IncidentStore(store.redis, prefix=store.prefix)
    opened = await incidents.open_incidents()
    recent = await incidents.recently_resolved(since=now - RECENT_SECONDS)
    if integration is not None:
        opened = [item for item in opened if item.integration == integration]
        recent = [item for item in recent if item.integration == integration]
    return Incidents(open=opened, recent=recent, integration=integration)

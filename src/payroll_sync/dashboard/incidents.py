"""The open incidents (and those resolved in the last days) the runs page and an integration's
page show: read from the alerts' store (alerts/store.py), which the scheduler process keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from payroll_sync.alerts.store import Incident, IncidentStore
from payroll_sync.runs.public import iso_time
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


def incidents_json(incidents: Incidents) -> dict[str, Any]:
    """The JSON API's answer: open incidents, oldest first, and those resolved in the last
    days. What an incident holds is the alert's (integration id, condition, counts, a detail
    made of numbers): no personal data."""

    def one(incident: Incident) -> dict[str, Any]:
        return {
            "id": incident.id,
            "integration": incident.integration,
            "condition": incident.condition,
            "what": incidents.what(incident),
            "opened_at": iso_time(incident.opened_at),
            "detail": incident.detail,
            "numbers": incident.numbers,
            "resolved_at": iso_time(incident.resolved_at),
            "resolved_detail": incident.resolved_detail or None,
        }

    return {
        "open": [one(item) for item in incidents.open],
        "resolved": [one(item) for item in incidents.recent],
        "resolved_since_days": RECENT_SECONDS // (24 * 3600),
    }

"""The webhook call: a Slack-compatible body (`text`, and `blocks` for Slack's layout) and the
POST that sends it.

The body holds the integration id, the condition, counts and times, and a link to the
dashboard's integration page when a dashboard URL is set: never a record's reason, a name or a
value, never a token. The URL is a secret (a Slack URL embeds one): it is read from the
environment variable the settings name, and neither it nor an error's text (which may quote it)
is ever logged; a failed call is told by its status or its error's type.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from payroll_sync.alerts.rules import OSLO
from payroll_sync.alerts.store import Notification
from payroll_sync.schemas.settings import Alerts

TIMEOUT: Final = aiohttp.ClientTimeout(total=10.0, sock_connect=5.0)

_WHAT: Final = {
    "failing": "records failing",
    "stale": "scheduled sync stale",
}


def webhook_url(settings: Alerts, environ: Mapping[str, str]) -> str | None:
    """The webhook URL, or None when the variable is unset or empty."""
    return environ.get(settings.webhook_url_env) or None


def integration_link(settings: Alerts, integration: str) -> str | None:
    if settings.dashboard_url is None:
        return None
    return f"{settings.dashboard_url.rstrip('/')}/integrations/{quote(integration, safe='')}"


def _since(unix: float) -> str:
    return datetime.datetime.fromtimestamp(unix, OSLO).strftime("%Y-%m-%d %H:%M") + " Europe/Oslo"


def message(notification: Notification, settings: Alerts) -> dict[str, Any]:
    """The JSON body of one call."""
    incident = notification.incident
    what = _WHAT.get(incident.condition, incident.condition)
    if notification.event == "open":
        head = f":rotating_light: payroll-sync: {incident.integration}: {what}"
        lines = [incident.detail, f"Since {_since(incident.opened_at)}."]
    else:
        head = f":white_check_mark: payroll-sync: {incident.integration}: {what}: recovered"
        lines = [
            f"Open from {_since(incident.opened_at)} to {_since(incident.resolved_at)}.",
            *([incident.resolved_detail] if incident.resolved_detail else []),
        ]
    link = integration_link(settings, incident.integration)
    if link:
        lines.append(f"<{link}|Open {incident.integration} in the dashboard>")
    text = "\n".join([head, *lines])
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


@dataclass(frozen=True)
class Delivery:
    ok: bool
    # "sent", or why not: "http_503", "ClientConnectorError", ...
    result: str


async def post(session: aiohttp.ClientSession, url: str, body: Mapping[str, Any]) -> Delivery:
    """One POST; a 2xx is sent, anything else (an answer, or none) is not."""
    try:
        async with session.post(url, json=body, timeout=TIMEOUT) as answer:
            await answer.read()
            if 200 <= answer.status < 300:
                return Delivery(True, "sent")
            return Delivery(False, f"http_{answer.status}")
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        # The type only: the text of a connection error quotes the URL.
        return Delivery(False, type(error).__name__)

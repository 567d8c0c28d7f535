"""The service's JSON log lines, as a process writes them to a file or a stream."""

from __future__ import annotations

import json
from typing import Any


def json_events(text: str) -> list[dict[str, Any]]:
    """Each JSON line of `text` as a dict; other lines (a library's plain-text warning) are not
    events of ours and are passed over."""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def event_names(text: str) -> list[str]:
    """The `event` of each JSON line of `text`, in order."""
    return [str(event["event"]) for event in json_events(text)]

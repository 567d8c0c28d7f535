"""A run's status in the dashboard's lists reads as words, for every status a run can have."""

from __future__ import annotations

from typing import get_args

from payroll_sync.dashboard.state import template_environment
from payroll_sync.dashboard.views import STATUS_WORDS
from payroll_sync.schemas.outcomes import RunStatus


def test_every_run_status_has_words_and_no_underscore_reaches_a_person() -> None:
    assert set(STATUS_WORDS) == set(get_args(RunStatus))
    render = template_environment().from_string("{{ status|status_words }}").render
    assert render(status="awaiting_approval") == "waiting for approval"
    assert all("_" not in render(status=status) for status in get_args(RunStatus))

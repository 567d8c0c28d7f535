"""What the dashboard shows of a brake summary: names, counts against thresholds, examples
masked again whatever the producer stored, the API's shape, the notice, the operator's name."""

from __future__ import annotations

import re

import msgspec
import pytest

from payroll_sync.dashboard.approval import MAX_NAME, NameRefused, operator_name
from payroll_sync.dashboard.views import in_progress
from payroll_sync.runs.brake_view import (
    FIELD_NAMES,
    brake_json,
    brake_view,
    decision_notice,
    field_group,
)
from payroll_sync.schemas.brake import (
    BRAKE_FIELDS,
    BrakeSummary,
    Decision,
    FieldCount,
    FieldExample,
)
from payroll_sync.schemas.outcomes import Run, RunStatus
from tests.support.held_runs import EMPLOYEES, summary_of

ELEVEN_DIGITS = re.compile(r"\d(?:[ .-]?\d){10}")


def run_of(status: RunStatus, run_id: str = "20261201T100000-0a1b2c3d") -> Run:
    return Run(
        id=run_id,
        integration="acme",
        kind="employees",
        trigger="scheduled",
        dry_run=False,
        status=status,
        created_at=1.0,
        total=EMPLOYEES,
    )


def test_every_braked_field_has_a_name_for_people() -> None:
    assert set(FIELD_NAMES) == set(BRAKE_FIELDS)
    assert FIELD_NAMES["personnr"] == "Fødselsnummer"
    assert FIELD_NAMES["account"] == "Bank account"


def test_identifiers_stored_in_clear_are_masked_and_nothing_else_is_lost() -> None:
    view = brake_view(summary_of("r"), run_of("awaiting_approval"))
    # The groups: the summary's times are numbers of eleven digits and more.
    shown = msgspec.json.encode(view.groups).decode()
    assert not ELEVEN_DIGITS.search(shown), shown
    account = next(group for group in view.groups if group.field == "account")
    assert [example.old for example in account.examples[:2]] == ["•••••••9071", "•••••••4725"]
    assert all(example.new == "" for example in account.examples)
    personnr = next(group for group in view.groups if group.field == "personnr")
    assert next((e.key, e.old, e.new) for e in personnr.examples) == (
        "10000",
        "•••••••0850",
        "•••••••0565",
    )
    ending = next(group for group in view.groups if group.field == "employment.enddate")
    assert (ending.examples[0].old, ending.examples[0].new) == ("", "2026-12-31")
    assert ending.examples[0].kind == "plain"


def test_a_salary_is_hidden_behind_a_click_and_left_out_of_the_api() -> None:
    view = brake_view(summary_of("r"), run_of("awaiting_approval"))
    salary = next(group for group in view.groups if group.field == "salary")
    assert {example.kind for example in salary.examples} == {"hidden"}
    body = brake_json(view)
    (salary_json,) = [field for field in body["fields"] if field["field"] == "salary"]
    assert salary_json["examples"] == [
        {"key": "10001", "hidden": True},
        {"key": "10002", "hidden": True},
    ]
    assert "41000" not in msgspec.json.encode(body).decode()


def test_tripped_fields_come_first_with_their_counts_and_thresholds() -> None:
    view = brake_view(summary_of("r"), run_of("awaiting_approval"))
    assert [group.field for group in view.shown] == [
        "account",
        "salary",
        "personnr",
        "employment.enddate",
    ]
    assert [group.name for group in view.tripped] == ["Bank account"]
    account = view.shown[0]
    assert account.measured == f"{EMPLOYEES} of {EMPLOYEES} employees in 24SevenOffice (100.0 %)"
    assert account.limit == "more than 20 %"
    assert account.unlisted == EMPLOYEES - 30
    personnr = next(group for group in view.groups if group.field == "personnr")
    assert personnr.measured == f"3 of {EMPLOYEES} employees in 24SevenOffice (7.5 %)"
    assert not personnr.tripped


def test_absences_withdrawn_are_a_plain_count_and_their_values_are_not_identifiers() -> None:
    count = FieldCount(
        field="absence.withdrawn",
        count=63,
        total=0,
        threshold=50,
        tripped=True,
        examples=[FieldExample(key="leave-1", old="approved", new="withdrawn")],
    )
    group = field_group(count)
    assert (group.share, group.measured, group.limit) == (False, "63 leaves", "more than 50")
    assert (group.examples[0].old, group.examples[0].new) == ("approved", "withdrawn")
    body = brake_json(
        brake_view(
            BrakeSummary(run_id="r", integration="acme", counted_at=1.0, fields=[count]),
            run_of("done"),
        )
    )
    assert body["fields"][0]["percent"] is None
    assert body["fields"][0]["examples"] == [
        {"key": "leave-1", "old": "approved", "new": "withdrawn"}
    ]


@pytest.mark.parametrize(
    ("decision", "status", "awaiting"),
    [
        ("held", "awaiting_approval", True),
        # Approved elsewhere a moment ago: the run moved on, no buttons.
        ("held", "queued", False),
        ("approved", "running", False),
        ("cancelled", "cancelled", False),
        ("released", "done", False),
    ],
)
def test_approve_and_cancel_are_offered_only_while_the_run_waits(
    decision: Decision, status: RunStatus, awaiting: bool
) -> None:
    view = brake_view(summary_of("r", decision=decision), run_of(status))
    assert view.awaiting is awaiting
    assert brake_json(view)["awaiting_approval"] is awaiting


def test_the_api_says_who_decided_and_when() -> None:
    view = brake_view(summary_of("r", decision="approved", by="api:Kari"), run_of("queued"))
    body = brake_json(view)
    assert body["decision"] == "approved"
    assert body["decided_by"] == "api:Kari"
    assert body["decided_at"] is not None
    assert body["decided_at"].endswith("+00:00")
    assert body["tripped"] == ["account"]
    held = brake_json(brake_view(summary_of("r"), run_of("awaiting_approval")))
    assert (held["decided_by"], held["decided_at"]) == (None, None)


def test_the_notice_says_only_what_the_summary_says_happened() -> None:
    approved = brake_view(
        summary_of("r", decision="approved", by="dashboard:Kari"), run_of("queued")
    )
    assert decision_notice(approved, "approved").startswith("Approved by dashboard:Kari")
    # A made-up link cannot claim a decision that was not taken.
    assert decision_notice(approved, "cancelled") == ""
    held = brake_view(summary_of("r"), run_of("awaiting_approval"))
    assert decision_notice(held, "approved") == ""
    assert decision_notice(held, "held") == ""
    assert decision_notice(None, "approved") == ""
    cancelled = brake_view(
        summary_of("r", decision="cancelled", by="dashboard:Ola"), run_of("cancelled")
    )
    assert "nothing was written" in decision_notice(cancelled, "cancelled")


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Kari Nordmann", "Kari Nordmann"),
        ("  Åse   Ødegård ", "Åse Ødegård"),
        ("kari.nordmann@example.no", "kari.nordmann@example.no"),
        ("O'Brien (on call)", "O'Brien (on call)"),
    ],
)
def test_an_operator_name_is_trimmed(typed: str, name: str) -> None:
    assert operator_name(typed) == name


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        (None, "required"),
        ("   ", "required"),
        ("x" * (MAX_NAME + 1), f"at most {MAX_NAME}"),
        ("<script>", "letters, digits"),
        ("Kari\x00", "letters, digits"),
    ],
)
def test_a_missing_or_odd_name_is_refused_naming_the_field(typed: object, why: str) -> None:
    with pytest.raises(NameRefused, match=f"^Your name: .*{re.escape(why)}"):
        operator_name(typed)


@pytest.mark.parametrize(
    ("status", "moving"),
    [
        ("queued", True),
        ("running", True),
        ("done", False),
        ("cancelled", False),
        ("awaiting_approval", False),
    ],
)
def test_only_queued_and_running_runs_move_by_themselves(status: RunStatus, moving: bool) -> None:
    assert in_progress(run_of(status)) is moving


def test_both_apis_answer_one_shape_with_names_and_whether_it_waits() -> None:
    """The intake's and the dashboard's JSON of a summary (both `brake_json`)."""
    approved = summary_of("r", decision="approved", by="api:Kari")
    body = brake_json(brake_view(approved, run_of("queued")))
    assert set(body) == {
        "run_id",
        "integration",
        "counted_at",
        "decision",
        "awaiting_approval",
        "decided_by",
        "decided_at",
        "tripped",
        "fields",
    }
    assert body["awaiting_approval"] is False
    assert body["decided_by"] == "api:Kari"
    for field in body["fields"]:
        assert field["name"] == FIELD_NAMES[field["field"]]
        assert set(field) == {
            "field",
            "name",
            "count",
            "total",
            "percent",
            "threshold",
            "tripped",
            "examples",
        }
    held = brake_json(brake_view(summary_of("r"), run_of("awaiting_approval")))
    assert held["awaiting_approval"] is True


def test_a_released_summary_says_whether_it_would_have_held() -> None:
    below = summary_of("r", decision="released")
    below.fields = [count for count in below.fields if not count.tripped]
    assert brake_view(below, run_of("done")).words == "below every threshold, not held"
    tripped = summary_of("r", decision="released")
    dry = msgspec.structs.replace(run_of("done"), dry_run=True)
    assert brake_view(tripped, dry).words == "dry run, not held: a real run would hold"
    assert brake_view(summary_of("r", decision="approved"), run_of("done")).words == "approved"

"""The tagged `Task`: one decoder, messages queued before tasks carried their kind, and copies."""

from __future__ import annotations

from typing import Final

import msgspec
import pytest

from payroll_sync.schemas.messages import AbsenceTask, EmployeeTask, Task, decode_task, encode_task

EMPLOYEE: Final = EmployeeTask(
    run_id="r1", integration="acme", employee_number="1001", employee_id="e-1"
)
ABSENCE: Final = AbsenceTask(
    run_id="r1",
    integration="acme",
    employee_number="1001",
    employee_id="e-1",
    leave_id="leave-7",
    codes=["01"],
)
#: Bodies exactly as the previous version enqueued them (no `kind`; field order of that version).
OLD_EMPLOYEE_BODY: Final = (
    b'{"run_id":"r1","integration":"acme","employee_number":"1001","employee_id":"e-1",'
    b'"dry_run":false,"attempt":3,"first_attempt_at":1700000000.0,"refetch":true,'
    b'"deferrals":2,"new_in_payroll":true}'
)
OLD_ABSENCE_BODY: Final = (
    b'{"run_id":"r1","integration":"acme","employee_number":"1001","employee_id":"e-1",'
    b'"leave_id":"leave-7","codes":["01"],"dry_run":true,"attempt":1,"first_attempt_at":0.0,'
    b'"refetch":false,"deferrals":0,"new_in_payroll":false}'
)


@pytest.mark.parametrize("task", [EMPLOYEE, ABSENCE], ids=["employee", "absence"])
def test_a_task_says_its_kind_and_comes_back_whole(task: Task) -> None:
    body = encode_task(task)
    assert msgspec.json.decode(body)["kind"] == task.kind
    # The kind in the body wins over the queue's: the one decoder reads either.
    assert decode_task(body, "employees") == task
    assert decode_task(body, "absences") == task


def test_messages_queued_before_the_kind_still_decode() -> None:
    employee = decode_task(OLD_EMPLOYEE_BODY, "employees")
    assert isinstance(employee, EmployeeTask)
    assert (employee.attempt, employee.deferrals, employee.refetch) == (3, 2, True)
    assert employee.new_in_payroll
    absence = decode_task(OLD_ABSENCE_BODY, "absences")
    assert isinstance(absence, AbsenceTask)
    assert (absence.leave_id, absence.codes, absence.dry_run) == ("leave-7", ["01"], True)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"kind":"payroll","run_id":"r1"}',
        b'{"kind":"absences","run_id":"r1","integration":"acme","employee_number":"1",'
        b'"employee_id":"e"}',
        b'{"run_id":"r1","integration":"acme","employee_number":"1","employee_id":"e","x":1}',
    ],
    ids=["not-json", "unknown-kind", "absence-without-leave", "unknown-field"],
)
def test_what_is_not_a_task_is_refused(body: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_task(body, "employees")


def test_keys() -> None:
    assert EMPLOYEE.key == "1001"
    assert ABSENCE.key == "leave-7"


@pytest.mark.parametrize("task", [EMPLOYEE, ABSENCE], ids=["employee", "absence"])
def test_every_copy_reads_afresh_and_keeps_its_identity(task: Task) -> None:
    started, now = 1_700_000_000.0, 1_700_000_500.0
    first = msgspec.structs.replace(task, first_attempt_at=0.0, attempt=2, deferrals=3)
    copies = {
        "next_attempt": first.next_attempt(started=started),
        "deferral": first.deferral(started=started),
        "fresh_copy": first.fresh_copy(now=now),
        "first_attempt": msgspec.structs.replace(first, dry_run=True).first_attempt(now=now),
        "stale": msgspec.structs.replace(first, new_in_payroll=True).stale(),
    }
    for name, copy in copies.items():
        assert type(copy) is type(task), name
        assert (copy.key, copy.run_id, copy.refetch) == (task.key, task.run_id, True), name
    assert (copies["next_attempt"].attempt, copies["next_attempt"].deferrals) == (3, 3)
    assert copies["next_attempt"].first_attempt_at == started
    assert (copies["deferral"].attempt, copies["deferral"].deferrals) == (2, 4)
    assert copies["deferral"].first_attempt_at == started
    assert (copies["fresh_copy"].attempt, copies["fresh_copy"].deferrals) == (2, 0)
    assert copies["fresh_copy"].first_attempt_at == now
    first_attempt = copies["first_attempt"]
    assert (first_attempt.attempt, first_attempt.deferrals, first_attempt.dry_run) == (1, 0, False)
    assert not copies["stale"].new_in_payroll
    assert first.in_run("r2").run_id == "r2"


def test_a_retry_window_counts_from_the_first_attempt() -> None:
    once = EMPLOYEE.next_attempt(started=100.0)
    twice = once.next_attempt(started=200.0)
    assert twice.first_attempt_at == 100.0


def test_fields_at_their_default_are_left_out_so_the_version_before_reads_them() -> None:
    # `window_from` is newer than OLD_EMPLOYEE_BODY's version: unset, it is not written, and
    # the previous version (which refuses unknown fields) reads the body.
    body = encode_task(EMPLOYEE)
    assert msgspec.json.decode(body) == {
        "kind": "employees",
        "run_id": "r1",
        "integration": "acme",
        "employee_number": "1001",
        "employee_id": "e-1",
    }
    retried = EMPLOYEE.next_attempt(started=1_700_000_000.0)
    assert decode_task(encode_task(retried), "employees") == retried

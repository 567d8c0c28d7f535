"""The key layout: every key of the runs, and of what the worker and the dashboard keep beside
them, is built here from the prefix.

Every key lives under one prefix, so a test run (or a second deployment) owns a namespace of its
own and can remove exactly what it wrote (`Keys.everything`).

A record is an employee (employee runs, keyed by employee number) or a leave (absence runs,
keyed by the Simployer One leave id); "key" below is either.

Keys (P = prefix, R = run id, I = integration, K = kind: employees or absences):
  P:runs                     sorted set of run ids by creation time
  P:run:R                    hash: the run's fields and one counter per outcome
  P:run:R:pending            set of keys not yet finished
  P:run:R:outcome            hash: key -> RecordOutcome (JSON)
  P:run:R:name               hash: key -> outcome name (read by the scripts)
  P:run:R:task               hash: key -> EmployeeTask or AbsenceTask (JSON), to retry it later
  P:run:R:snapshot           hash: key -> the producer's snapshot (JSON); expires
  P:run:R:absencetypes       the company's 24SevenOffice absence types, read once per run
  P:run:R:brake              the mass-change brake's count for the run (BrakeSummary, JSON)
  P:run:R:due                hash: pending key -> when its message should next be handled
                             (a key overdue in a run gone quiet has lost its message)
  P:active:I:K               the id of integration I's run of kind K in progress
  P:lastrun:I                hash: kind -> id of integration I's latest run of that kind
                             (dry runs too); expires with the runs
  P:last:I:K                 hash: key -> id of the run that holds the key's latest outcome
  P:lastat:I:K               hash: key -> when that outcome was recorded (unix seconds)
  P:failures                 sorted set of failure ids "I:K:key" whose latest outcome is
                             `failed`, by time (dry runs leave both of these alone)
  P:lock:enrol:I:K           held while a request joins or starts integration I's run of kind K
  P:lock:recovery            held by the scheduler whose turn it is to requeue lost records
  P:lock:children:I:E        held while a worker writes the children of employee E (empId)
  P:links:I                  hash: 24SevenOffice empId -> employment_id last written to
                             (worker/links.py)
  P:persons:I                hash: digest of a person number -> the 24SevenOffice empId
                             holding it, and `built`; expires (worker/persons.py)
  P:lock:persons:I           held while a worker rebuilds P:persons:I
  P:flag:dashboard:revoked:S a logged-out dashboard session S, until its cookie expires
                             (dashboard/revoked.py)

Kept elsewhere under the same prefix, by packages below or beside this one: the shared rate
limiter's P:ratelimit:* (connectors/ratelimit.py), the scheduler's P:schedule:*
(scheduler/state.py), the alerts' incidents P:alerts:* (alerts/store.py) and the digests of
what we last wrote, P:written:* (runs/written.py). The broker's queues live under
P-dramatiq:* (queue/broker.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from payroll_sync.schemas.messages import SyncKind


@dataclass(frozen=True)
class Keys:
    """The key layout of one deployment (one prefix)."""

    prefix: str

    def everything(self) -> str:
        """The pattern matching every key above (for removing a test's or the demo's keys)."""
        return f"{self.prefix}:*"

    # ------------------------------------------------------------------ runs

    def runs(self) -> str:
        return f"{self.prefix}:runs"

    def run(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def pending(self, run_id: str) -> str:
        return self._of_run(run_id, "pending")

    def outcomes(self, run_id: str) -> str:
        return self._of_run(run_id, "outcome")

    def names(self, run_id: str) -> str:
        return self._of_run(run_id, "name")

    def tasks(self, run_id: str) -> str:
        return self._of_run(run_id, "task")

    def snapshots(self, run_id: str) -> str:
        return self._of_run(run_id, "snapshot")

    def absence_types(self, run_id: str) -> str:
        return self._of_run(run_id, "absencetypes")

    def brake(self, run_id: str) -> str:
        return self._of_run(run_id, "brake")

    def due(self, run_id: str) -> str:
        return self._of_run(run_id, "due")

    def _of_run(self, run_id: str, part: str) -> str:
        return f"{self.run(run_id)}:{part}"

    # ------------------------------------------------------------------ per integration and kind

    def active(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:active:{integration}:{kind}"

    def last_run(self, integration: str) -> str:
        return f"{self.prefix}:lastrun:{integration}"

    def last(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:last:{integration}:{kind}"

    def last_at(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:lastat:{integration}:{kind}"

    def failures(self) -> str:
        return f"{self.prefix}:failures"

    # ------------------------------------------------------------------ locks

    def enrol_lock(self, integration: str, kind: SyncKind) -> str:
        return f"{self.prefix}:lock:enrol:{integration}:{kind}"

    def recovery_lock(self) -> str:
        return f"{self.prefix}:lock:recovery"

    def children_lock(self, integration: str, emp_id: int) -> str:
        return f"{self.prefix}:lock:children:{integration}:{emp_id}"

    # ------------------------------------------------------------------ beside the runs

    def links(self, integration: str) -> str:
        return f"{self.prefix}:links:{integration}"

    def persons(self, integration: str) -> str:
        return f"{self.prefix}:persons:{integration}"

    def persons_lock(self, integration: str) -> str:
        return f"{self.prefix}:lock:persons:{integration}"

    def revoked_session(self, sid: str) -> str:
        return f"{self.prefix}:flag:dashboard:revoked:{sid}"

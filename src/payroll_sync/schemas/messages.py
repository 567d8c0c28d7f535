"""Sync requests and the per-employee task messages the producer enqueues.

Only stdlib and msgspec. Messages evolve by adding fields with defaults, never by renaming, so
a worker of the next version can still read what this one enqueued.
They carry ids, never personal data: Dramatiq may print a message's arguments in its own logs.
"""

from __future__ import annotations

import datetime
from typing import Annotated, ClassVar, Final, Literal, Self

import msgspec
from msgspec import Meta

from payroll_sync.schemas.absence_codes import describe_unknown, unknown_codes

SyncKind = Literal["employees", "absences"]
Trigger = Literal["manual", "scheduled", "upstream", "retry"]
# Employee numbers as Simployer One spells them (payroll needs them numeric; checked later).
EmployeeNumber = Annotated[str, Meta(min_length=1, max_length=64)]
IntegrationId = Annotated[str, Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
# A 24SevenOffice absence code as the API spells it ("01"); which ones exist: absence_codes.py.
AbsenceCodeText = Annotated[str, Meta(pattern=r"^[0-9]{2}$")]
#: The longest absence period one request may ask for (a guard against a typo'd year).
MAX_PERIOD_DAYS = 3 * 366


class Period(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Calendar dates, both inclusive: leaves that overlap it are exported."""

    start: datetime.date = msgspec.field(name="from")
    end: datetime.date = msgspec.field(name="to")

    def __post_init__(self) -> None:
        # msgspec turns these into a ValidationError that names the place (`$.period`).
        if self.start > self.end:
            raise ValueError(f"period: 'from' {self.start} is after 'to' {self.end}")
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise ValueError(f"period: longer than {MAX_PERIOD_DAYS} days")

    def overlaps(self, start: datetime.date, end: datetime.date) -> bool:
        return start <= self.end and end >= self.start

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


class SyncRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a person, a schedule or an upstream system asks for."""

    integration: IntegrationId
    kind: SyncKind = "employees"
    trigger: Trigger = "manual"
    # Narrow the integration's scope to these employee numbers (still within the scope).
    employees: list[EmployeeNumber] | None = None
    dry_run: bool = False
    # Absences only: the leaves overlapping this period (required), of these codes (default:
    # the integration's `absences.codes`, and when those are empty, every code).
    period: Period | None = None
    codes: list[AbsenceCodeText] | None = None

    def __post_init__(self) -> None:
        if self.kind == "absences" and self.period is None:
            raise ValueError("period: an absence sync needs a period ('from' and 'to')")
        if self.kind == "employees" and (self.period is not None or self.codes is not None):
            raise ValueError("period and codes apply to absence syncs only")
        wrong = unknown_codes(self.codes or [])
        if wrong:
            raise ValueError(describe_unknown("codes", wrong))


class TaskBase(
    msgspec.Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind", omit_defaults=True
):
    """One record of one run: the body of one Dramatiq message. Encoded with its `kind`
    (`employees` or `absences`); a message queued before tasks carried it is read by the kind
    of the queue it came from (`decode_task`). Fields at their default are left out of the
    body: smaller messages and run store, and a worker of the version before reads a body
    whose new fields are unset (during a rolling upgrade)."""

    #: The run kind this task belongs to (also its tag in the message).
    kind: ClassVar[SyncKind]

    run_id: str
    integration: IntegrationId
    employee_number: EmployeeNumber
    # Simployer One's id of the employee (the producer already knows it from its bulk read).
    employee_id: str
    dry_run: bool = False
    # 1 for the first delivery; each retry enqueues a copy with attempt + 1.
    attempt: int = 1
    # When the data was read for the record's first attempt (the producer's bulk read; a fresh
    # copy's sending). The persons index must be at least as new (worker/persons.py).
    first_attempt_at: float = 0.0
    # Read both systems afresh instead of using the run's bulk snapshot (set on every retry and
    # deferral, and by the dashboard's retry): a retry never replays stale data.
    refetch: bool = False
    # Deferrals for the rate limit; they are not failed attempts.
    deferrals: int = 0
    # 24SevenOffice had no such record when the run began: whichever attempt finishes the
    # record, its outcome is `created` (an earlier attempt may have created it, then failed).
    new_in_payroll: bool = False
    # When the retry window began: a worker's first take-up of the record (`window_start`); 0
    # until its first failed attempt or deferral. Retries stop once `retry_for_hours` passed.
    window_from: float = 0.0
    # Released by the pacer (queue/pacing.py): beginning it tells the pacer one fewer is on its
    # way. Retries and deferrals go straight to the queue, unpaced.
    paced: bool = False

    @property
    def key(self) -> str:
        """What identifies the record within its run."""
        return self.employee_number

    def window_start(self, *, started: float) -> float:
        """When the record's retry window began: when a worker first took it up (`started`, if
        this attempt is that first one). Not when the producer read it: a record of a long run
        (100,000 employees at a company's rate) or of a run held for approval is taken up hours
        later, and must still get its retries."""
        if self.window_from:
            return self.window_from
        if self.attempt == 1 and self.deferrals == 0:
            return started
        # Queued by a version without `window_from`: its window began at the first attempt.
        return self.first_attempt_at or started

    # Every copy below reads both systems afresh: something may have been written meanwhile.

    def next_attempt(self, *, started: float) -> Self:
        """The retry after a failed attempt; the retry window still counts from the first."""
        return msgspec.structs.replace(
            self,
            attempt=self.attempt + 1,
            refetch=True,
            first_attempt_at=self.first_attempt_at or started,
            window_from=self.window_start(started=started),
            paced=False,
        )

    def deferral(self, *, started: float) -> Self:
        """The copy put back for a rate limit: not a failed attempt."""
        return msgspec.structs.replace(
            self,
            deferrals=self.deferrals + 1,
            refetch=True,
            first_attempt_at=self.first_attempt_at or started,
            window_from=self.window_start(started=started),
            paced=False,
        )

    def fresh_copy(self, *, now: float) -> Self:
        """The copy sent for a lost message: a new retry window from `now`."""
        return msgspec.structs.replace(
            self, refetch=True, deferrals=0, first_attempt_at=now, window_from=0.0
        )

    def approved(self, *, now: float) -> Self:
        """The copy sent when a person approves a run the mass-change brake held: its retry
        window starts now (the hold may have lasted longer than the window), its snapshot is
        still used while the run store keeps it."""
        return msgspec.structs.replace(self, deferrals=0, first_attempt_at=now, window_from=0.0)

    def first_attempt(self, *, now: float) -> Self:
        """The copy a person's retry sends: a first attempt that writes."""
        return msgspec.structs.replace(self.fresh_copy(now=now), attempt=1, dry_run=False)

    def stale(self) -> Self:
        """The copy whose snapshot is older than the record's latest outcome."""
        return msgspec.structs.replace(self, refetch=True, new_in_payroll=False)

    def in_run(self, run_id: str) -> Self:
        return msgspec.structs.replace(self, run_id=run_id)


class EmployeeTask(TaskBase, tag="employees"):
    """One employee of an employee run."""

    kind: ClassVar[SyncKind] = "employees"


class AbsenceTask(TaskBase, tag="absences"):
    """One Simployer One leave of an absence run."""

    kind: ClassVar[SyncKind] = "absences"

    # The Simployer One leave id: the record's key in the run, and the absence's `externalId`.
    leave_id: str
    # The codes this run exports (empty = all): a leave re-read on a retry may have changed type.
    codes: list[AbsenceCodeText] = msgspec.field(default_factory=list)

    @property
    def key(self) -> str:
        return self.leave_id


Task = EmployeeTask | AbsenceTask
#: The task type of each run kind.
TASK_TYPES: Final[dict[SyncKind, type[Task]]] = {"employees": EmployeeTask, "absences": AbsenceTask}

_ENCODER: Final = msgspec.json.Encoder()
_TASK_DECODER: Final = msgspec.json.Decoder(Task)


def decode_task(body: str | bytes, kind: SyncKind) -> Task:
    """The task in a message body or the run store; `msgspec.DecodeError` if it is not one.

    `kind` reads a body written before tasks carried their kind (the queue's or run's kind).
    """
    try:
        return _TASK_DECODER.decode(body)
    except msgspec.ValidationError as error:
        if str(error) != "Object missing required field `kind`":
            raise
    return msgspec.json.decode(body, type=TASK_TYPES[kind])


def encode_task(task: Task) -> str:
    return _ENCODER.encode(task).decode()


def encode_request(request: SyncRequest) -> str:
    return _ENCODER.encode(request).decode()

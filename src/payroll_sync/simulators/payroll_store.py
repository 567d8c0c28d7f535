"""The 24SevenOffice Lønn simulator's company state, free of HTTP.

Every write method either applies a write the way the API would or raises `Invalid` (400),
`Conflict` (409) or `NotFound` (404) with a message naming the field. Stored values are the
API's strings, so a client's normalisation is tested against what the API really answers.
The store keeps the records, their identities and who owns what; how a write body applies to a
record is in `payroll_employees` and `payroll_absences`, the value checks in `payroll_values`
(the errors and checks tests import from here are re-exported, as `X as X`).

Updates merge (fields left out of the body stay) unless called with `replace=True`, when the
record is rebuilt from the body alone and fields left out are cleared to their empty value
(assumptions.PAYROLL_UPDATE_MODE). Fields the server owns are kept either way.
"""

from __future__ import annotations

import itertools

import msgspec

from payroll_sync.assumptions import DEFAULT_ABSENCE_TYPES, PAYROLL_CREATE_REQUIRES
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import (
    Absence,
    AbsenceType,
    Employee,
    StoredChild,
    StoredEmployment,
)
from payroll_sync.schemas.payroll_write import (
    AbsenceWrite,
    ChildWrite,
    EmployeeWrite,
    EmploymentWrite,
)
from payroll_sync.simulators.payroll_absences import apply_absence
from payroll_sync.simulators.payroll_employees import apply_employee, merged_employments
from payroll_sync.simulators.payroll_values import Conflict as Conflict
from payroll_sync.simulators.payroll_values import Invalid as Invalid
from payroll_sync.simulators.payroll_values import NotFound, keep, now_text
from payroll_sync.simulators.payroll_values import as_text as as_text
from payroll_sync.simulators.payroll_values import check_date as check_date
from payroll_sync.simulators.payroll_values import parse_emp_id as parse_emp_id

_dataset_decoder = msgspec.json.Decoder(payroll.Dataset)
_encoder = msgspec.json.Encoder()


def default_absence_types() -> list[AbsenceType]:
    return [
        AbsenceType(
            code=code,
            description=description,
            category=category,  # type: ignore[arg-type]
            leave_of_absence_type=leave_type,
            permisjon_id="1" if category == "leave_of_absence" else "0",
        )
        for code, (description, category, leave_type) in DEFAULT_ABSENCE_TYPES.items()
    ]


class PayrollStore:
    def __init__(self, dataset: payroll.Dataset | None = None) -> None:
        self.employees: dict[int, Employee] = {}
        self.employments: dict[int, list[StoredEmployment]] = {}
        self.absences: dict[int, Absence] = {}
        self.children: dict[int, StoredChild] = {}
        self.absence_types: dict[str, AbsenceType] = {}
        self._serials = itertools.count(1)
        self._child_ids = itertools.count(1)
        self._permisjon_ids = itertools.count(1)
        self.replace(dataset or payroll.Dataset(absencetypes=default_absence_types()))

    # ------------------------------------------------------------ state

    def replace(self, dataset: payroll.Dataset) -> None:
        employees = {parse_emp_id(e.emp_id): e for e in dataset.employee}
        if len(employees) != len(dataset.employee):
            raise Invalid("employee: duplicate empId")
        employments: dict[int, list[StoredEmployment]] = {emp: [] for emp in employees}
        for employment in dataset.employment:
            owner = parse_emp_id(employment.emp_id, "employment.empId")
            if owner not in employees:
                raise Invalid(f"employment.empId {employment.emp_id} is not an employee")
            employments[owner].append(employment)
        absences = {parse_emp_id(a.serial_no, "absence.serialNo"): a for a in dataset.absence}
        children = {parse_emp_id(c.child_id, "child.childId"): c for c in dataset.child}
        for child in children.values():
            if parse_emp_id(child.emp_id, "child.empId") not in employees:
                raise Invalid(f"child.empId {child.emp_id} is not an employee")
        self.employees, self.employments = employees, employments
        self.absences, self.children = absences, children
        self.absence_types = {t.code: t for t in dataset.absencetypes}
        self._serials = itertools.count(max(absences, default=0) + 1)
        self._child_ids = itertools.count(max(children, default=0) + 1)
        permisjon = [int(a.permisjon_id) for a in absences.values() if a.permisjon_id.isdigit()]
        self._permisjon_ids = itertools.count(max(permisjon, default=0) + 1)

    def load_json(self, raw: bytes) -> None:
        self.replace(_dataset_decoder.decode(raw))

    def dataset(self) -> payroll.Dataset:
        return payroll.Dataset(
            employee=list(self.employees.values()),
            employment=[e for items in self.employments.values() for e in items],
            absence=list(self.absences.values()),
            child=list(self.children.values()),
            absencetypes=list(self.absence_types.values()),
        )

    def dump_json(self) -> bytes:
        return _encoder.encode(self.dataset())

    # ------------------------------------------------------------ employees

    def employee(self, emp_id: int) -> Employee:
        try:
            return self.employees[emp_id]
        except KeyError:
            raise NotFound(f"employee {emp_id} not found") from None

    def create_employee(self, body: EmployeeWrite) -> Employee:
        if body.emp_id is None:
            raise Invalid("empId is required")
        emp_id = parse_emp_id(body.emp_id)
        if emp_id in self.employees:
            raise Conflict(f"employee with empId {emp_id} already exists")
        for name in PAYROLL_CREATE_REQUIRES:
            if not getattr(body, name):
                raise Invalid(f"{name} is required")
        employee = Employee(emp_id=str(emp_id))
        apply_employee(employee, body)
        self.employees[emp_id] = employee
        self.employments[emp_id] = []
        return employee

    def update_employee(
        self, emp_id: int, body: EmployeeWrite, *, replace: bool = False
    ) -> Employee:
        employee = self.employee(emp_id)
        if body.emp_id is not None and parse_emp_id(body.emp_id) != emp_id:
            raise Invalid(f"empId in the body ({body.emp_id}) differs from the path ({emp_id})")
        updated = Employee(emp_id=str(emp_id)) if replace else msgspec.structs.replace(employee)
        apply_employee(updated, body)
        self.employees[emp_id] = updated
        return updated

    # ------------------------------------------------------------ employments

    def employments_of(self, emp_id: int) -> list[StoredEmployment]:
        self.employee(emp_id)
        return self.employments[emp_id]

    def upsert_employments(
        self, emp_id: int, items: list[EmploymentWrite], *, replace: bool = False
    ) -> list[StoredEmployment]:
        merged = merged_employments(emp_id, self.employments_of(emp_id), items, replace=replace)
        self.employments[emp_id] = merged  # only now: a 400 above changes nothing
        return merged

    def _existing_emp_id(self, raw: object) -> int:
        """The `empId` of a write body; 400 (not 404) when unknown, as the body is invalid."""
        emp_id = parse_emp_id(raw)
        if emp_id not in self.employees:
            raise Invalid(f"empId {emp_id} is not an employee of this company")
        return emp_id

    # ------------------------------------------------------------ absences

    def absence_type(self, code: str) -> AbsenceType:
        try:
            return self.absence_types[code]
        except KeyError:
            raise NotFound(f"absence type {code!r} not found") from None

    def list_absences(
        self,
        emp_id: int | None,
        datefrom: str | None,
        dateto: str | None,
        serial_no: int | None,
    ) -> list[Absence]:
        if emp_id is not None:
            self.employee(emp_id)
        check_date(datefrom, "datefrom")
        check_date(dateto, "dateto")
        out = []
        for serial, absence in self.absences.items():
            if emp_id is not None and absence.emp_id != str(emp_id):
                continue
            if serial_no is not None and serial != serial_no:
                continue
            start, end = absence.start_date[:10], absence.end_date[:10] or "9999-12-31"
            if (dateto and start > dateto) or (datefrom and end < datefrom):
                continue
            out.append(absence)
        return out

    def post_absence(self, body: AbsenceWrite, *, replace: bool = False) -> Absence:
        emp_id = self._existing_emp_id(body.emp_id)
        if body.serial_no is not None:
            serial = parse_emp_id(body.serial_no, "serialNo")
            existing = self.absences.get(serial)
            if existing is None or existing.emp_id != str(emp_id):
                raise Invalid(f"serialNo {serial} is not an absence of employee {emp_id}")
            if replace:
                absence = Absence(
                    emp_id=existing.emp_id,
                    serial_no=existing.serial_no,
                    request_date=existing.request_date,  # the server's, like lastChanged
                    request_motivation=existing.request_motivation,
                )
            else:
                absence = msgspec.structs.replace(existing)
        else:
            serial = 0  # assigned once valid
            absence = Absence(emp_id=str(emp_id), serial_no="", request_date=now_text())
        apply_absence(
            absence,
            body,
            absence_types=self.absence_types,
            children=self.children,
            permisjon_ids=self._permisjon_ids,
        )
        if not absence.serial_no:
            serial = next(self._serials)
            absence.serial_no = str(serial)
        absence.last_changed = now_text()
        self.absences[serial] = absence
        return absence

    # ------------------------------------------------------------ children

    def children_of(self, emp_id: int) -> list[StoredChild]:
        self.employee(emp_id)
        return [c for c in self.children.values() if c.emp_id == str(emp_id)]

    def post_child(self, body: ChildWrite, *, replace: bool = False) -> StoredChild:
        emp_id = self._existing_emp_id(body.emp_id)
        check_date(body.birthdate, "birthdate")
        if body.child_id is not None:
            child_id = parse_emp_id(body.child_id, "childId")
            existing = self.children.get(child_id)
            if existing is None or existing.emp_id != str(emp_id):
                raise Invalid(f"childId {child_id} is not a child of employee {emp_id}")
            child = (
                StoredChild(emp_id=existing.emp_id, child_id=existing.child_id)
                if replace
                else msgspec.structs.replace(existing)
            )
        else:
            if not body.firstname:
                raise Invalid("firstname is required")
            if not body.birthdate:
                raise Invalid("birthdate is required")
            child_id = next(self._child_ids)
            child = StoredChild(emp_id=str(emp_id), child_id=str(child_id))
        child.firstname = keep(body.firstname, child.firstname)
        child.lastname = keep(body.lastname, child.lastname)
        child.birthdate = keep(body.birthdate, child.birthdate)
        self.children[child_id] = child
        return child

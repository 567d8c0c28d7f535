"""The 24SevenOffice Lønn simulator's company state and its write rules, free of HTTP.

Every method either applies a write the way the API would or raises `Invalid` (400),
`Conflict` (409) or `NotFound` (404) with a message naming the field. Stored values are the
API's strings, so a client's normalisation is tested against what the API really answers.

Updates merge (fields left out of the body stay) unless called with `replace=True`, when the
record is rebuilt from the body alone and fields left out are cleared to their empty value
(assumptions.PAYROLL_UPDATE_MODE). Fields the server owns are kept either way.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import msgspec

from payroll_sync.assumptions import (
    DEFAULT_ABSENCE_TYPES,
    PAYROLL_CREATE_REQUIRES,
    PAYROLL_DECIMAL_FIELDS,
)
from payroll_sync.schemas import payroll
from payroll_sync.schemas.payroll import (
    Absence,
    AbsenceType,
    AbsenceWrite,
    ChildWrite,
    Employee,
    EmployeeWrite,
    EmploymentWrite,
    StoredChild,
    StoredEmployment,
)
from payroll_sync.schemas.payroll_write import AccountingWrite

OSLO = ZoneInfo("Europe/Oslo")
_dataset_decoder = msgspec.json.Decoder(payroll.Dataset)
_encoder = msgspec.json.Encoder()


class Invalid(ValueError):
    """400: the object is invalid; the message names the field."""


class Conflict(ValueError):
    """409: the object already exists."""


class NotFound(LookupError):
    """404: no such employee (or absence type)."""


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


def parse_emp_id(raw: object, name: str = "empId") -> int:
    text = str(raw).strip()
    if not text.isdigit():
        raise Invalid(f"{name} must be an integer, got {raw!r}")
    return int(text)


def check_date(value: str | None, name: str) -> None:
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise Invalid(f"{name}: {value!r} is not a valid date (YYYY-MM-DD)") from None


#: Fields the OpenAPI file describes as numbers; any other field is free text.
NUMBER_FIELDS = PAYROLL_DECIMAL_FIELDS | {
    "vacation_days",
    "percent",
    "numberOfDays",
    "accounting.percentage",
}


def as_text(name: str, value: object) -> str:
    """The API's string for a written value: numbers as it prints them, decimals with two."""
    if isinstance(value, bool) or value is None:
        raise Invalid(f"{name}: unexpected value {value!r}")
    if isinstance(value, str) and name not in NUMBER_FIELDS:
        return value
    if isinstance(value, str) and value.strip() == "":
        return ""
    if not isinstance(value, (int, float, str)):
        raise Invalid(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} must be a number, got {value!r}") from None
    if name in PAYROLL_DECIMAL_FIELDS:
        return f"{number:.2f}"
    return str(int(number)) if number.is_integer() else str(number)


def _now_text() -> str:
    return datetime.now(OSLO).strftime("%Y-%m-%d %H:%M:%S")


def _absence_date(value: str) -> str:
    return f"{value} 00:00:00" if value else ""


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
        self._apply_employee(employee, body)
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
        self._apply_employee(updated, body)
        self.employees[emp_id] = updated
        return updated

    @staticmethod
    def _apply_employee(employee: Employee, body: EmployeeWrite) -> None:
        # Validate everything before changing anything: a 400 changes nothing.
        changes: dict[str, object] = {}
        for name in body.__struct_fields__:
            value = getattr(body, name)
            if value is None or name in ("emp_id", "international_id", *_EMPLOYEE_OBJECTS):
                continue
            if name.endswith(("_date", "_valid_from")):
                check_date(value, name)
            changes[name] = as_text(name, value)
        if body.international_id is not None:
            current = employee.international_id
            update = body.international_id
            changes["international_id"] = payroll.InternationalId(
                country_code=_keep(update.country_code, current.country_code),
                id=_keep(update.id, current.id),
                type=_keep(update.type, current.type),
            )
        if body.taxexemption is not None:
            exemption = body.taxexemption
            changes["taxexemption"] = payroll.TaxExemption(
                percentage=_keep(
                    _text_or_none(exemption.percentage), employee.taxexemption.percentage
                ),
                amount=_keep(_text_or_none(exemption.amount), employee.taxexemption.amount),
            )
        if body.accounting is not None:
            changes["accounting"] = _accounting(body.accounting)
        for name, value in changes.items():
            setattr(employee, name, value)

    # ------------------------------------------------------------ employments

    def employments_of(self, emp_id: int) -> list[StoredEmployment]:
        self.employee(emp_id)
        return self.employments[emp_id]

    def upsert_employments(
        self, emp_id: int, items: list[EmploymentWrite], *, replace: bool = False
    ) -> list[StoredEmployment]:
        current = list(self.employments_of(emp_id))
        by_id = {e.employment_id: i for i, e in enumerate(current)}
        next_number = itertools.count(len(current) + 1)
        for position, item in enumerate(items):
            where = f"employment[{position}]"
            existing = by_id.get(item.employment_id) if item.employment_id else None
            if existing is None:
                if not item.startdate:
                    raise Invalid(f"{where}.startdate is required for a new employment")
                employment_id = item.employment_id or self._new_employment_id(
                    emp_id, by_id, next_number
                )
                target = StoredEmployment(
                    emp_id=str(emp_id),
                    employment_id=employment_id,
                    primary_employment="0" if current else "1",
                )
            elif replace:
                # Only this employment is replaced; the employee's others stay.
                target = StoredEmployment(
                    emp_id=str(emp_id), employment_id=item.employment_id or ""
                )
            else:
                target = msgspec.structs.replace(current[existing])
            for name in item.__struct_fields__:
                value = getattr(item, name)
                if value is None or name == "employment_id":
                    continue
                if name in ("startdate", "enddate"):
                    check_date(value, f"{where}.{name}")
                setattr(target, name, as_text(name, value))
            if target.enddate and not target.enddate_reason:
                raise Invalid(f"{where}.enddate_reason is required when enddate is set")
            if existing is None:
                by_id[target.employment_id] = len(current)
                current.append(target)
            else:
                current[existing] = target
        self.employments[emp_id] = current  # only now: a 400 above changes nothing
        return current

    @staticmethod
    def _new_employment_id(
        emp_id: int, taken: dict[str, int], numbers: itertools.count[int]
    ) -> str:
        while (candidate := f"{emp_id}-{next(numbers)}") in taken:
            pass
        return candidate

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
            absence = Absence(emp_id=str(emp_id), serial_no="", request_date=_now_text())
        self._apply_absence(absence, body)
        if not absence.serial_no:
            serial = next(self._serials)
            absence.serial_no = str(serial)
        absence.last_changed = _now_text()
        self.absences[serial] = absence
        return absence

    def _apply_absence(self, absence: Absence, body: AbsenceWrite) -> None:
        code = body.absence_type if body.absence_type is not None else absence.absence_type
        if not code:
            raise Invalid("absenceType is required")
        kind = self.absence_types.get(code)
        if kind is None:
            raise Invalid(f"absenceType {code!r} is not an absence type of this company")
        # A date may come as read (`YYYY-MM-DD HH:MM:SS`); the time is always midnight.
        sent = {name: _day(getattr(body, name)) for name in _API_NAMES}
        for name, value in sent.items():
            check_date(value, _API_NAMES[name])
        start = _keep(sent["start_date"], absence.start_date[:10])
        end = _keep(sent["end_date"], absence.end_date[:10])
        if not start:
            raise Invalid("startDate is required")
        if not end and kind.category != "leave_of_absence":
            raise Invalid(f"endDate is required for absence type {code} ({kind.category})")
        if end and end < start:
            raise Invalid("endDate is before startDate")
        child_id = _keep(_text_or_none(body.child_id), absence.child_id)
        if kind.category == "sick_child":
            if not child_id:
                raise Invalid(f"childId is required for absence type {code} (sick_child)")
            child = self.children.get(parse_emp_id(child_id, "childId"))
            if child is None or child.emp_id != absence.emp_id:
                raise Invalid(f"childId {child_id} is not a child of employee {absence.emp_id}")
        parental = _keep(sent["startdate_parental"], absence.startdate_parental)
        if kind.leave_of_absence_type == "permisjonMedForeldrepenger" and not parental:
            raise Invalid(f"startdateParental is required for absence type {code}")
        percent = _keep(_text_or_none(body.percent, "percent"), absence.percent) or "100"
        if not 0 <= float(percent) <= 100:
            raise Invalid(f"percent must be between 0 and 100, got {percent}")
        approved = _keep(_text_or_none(body.approved), absence.approved)
        days = _keep(_text_or_none(body.number_of_days, "numberOfDays"), absence.number_of_days)
        permisjon = _keep(_text_or_none(body.permisjon_id), absence.permisjon_id)
        if kind.permisjon_id == "1" and not permisjon:
            permisjon = str(next(self._permisjon_ids))
        absence.absence_type, absence.description = code, kind.description
        absence.start_date, absence.end_date = _absence_date(start), _absence_date(end)
        absence.child_id, absence.startdate_parental = child_id, parental
        absence.percent, absence.approved, absence.number_of_days = percent, approved, days
        absence.permisjon_id = permisjon
        absence.comment = _keep(body.comment, absence.comment)
        absence.external_id = _keep(body.external_id, absence.external_id)

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
        child.firstname = _keep(body.firstname, child.firstname)
        child.lastname = _keep(body.lastname, child.lastname)
        child.birthdate = _keep(body.birthdate, child.birthdate)
        self.children[child_id] = child
        return child


_API_NAMES = {
    "start_date": "startDate",
    "end_date": "endDate",
    "startdate_parental": "startdateParental",
}


#: Employee fields that are objects or lists, applied apart from the scalar ones.
_EMPLOYEE_OBJECTS = ("taxexemption", "accounting")


def _accounting(rows: list[AccountingWrite]) -> list[payroll.Accounting]:
    """The stored form of `accounting`; 400 when the percentages add up to more than 100."""
    stored = [
        payroll.Accounting(
            percentage=_two_decimals(as_text("accounting.percentage", row.percentage)),
            dimensions=[
                payroll.AccountingDimension(dimid=str(d.dimid), value=str(d.value))
                for d in row.dimensions
            ],
        )
        for row in rows
    ]
    if sum(float(row.percentage or 0) for row in stored) > 100:
        raise Invalid("accounting: the percentages add up to more than 100")
    return stored


def _two_decimals(text: str) -> str:
    return f"{float(text):.2f}" if text else ""


def _day(value: str | None) -> str | None:
    return None if value is None else value[:10]


def _keep(new: str | None, old: str) -> str:
    return old if new is None else new


def _text_or_none(value: object, name: str | None = None) -> str | None:
    if value is None:
        return None
    return as_text(name, value) if name is not None else str(value)

"""Simployer One leave → 24SevenOffice absence: the code choice and its precedence, working days,
every field rule, every validation failure with the field to fix, the comparison, withdrawal and
children. Bodies also go through the payroll simulator's store, as the HTTP simulator decodes
them, so "the API accepts it and echoes no change" is checked against the real model."""

from __future__ import annotations

import datetime
from typing import Any, Final

import msgspec
import pytest

from payroll_sync.errors import Permanent
from payroll_sync.rules.absence import (
    CodeChoice,
    absence_changes,
    child_birthdate,
    child_first_name,
    child_last_name,
    child_write,
    choose_code,
    find_child,
    map_absence,
    normalise_code,
    sick_child,
    withdrawal,
    working_days,
)
from payroll_sync.schemas import payroll
from payroll_sync.schemas import simployer as s
from payroll_sync.schemas.absence_codes import ABSENCE_CODES, AbsenceCode
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.simulators.generator import generate_company
from payroll_sync.simulators.payroll_store import PayrollStore, default_absence_types
from tests.support.bundles import as_read

replace = msgspec.structs.replace
D = datetime.date

TYPES: Final = {t.code: t for t in default_absence_types()}
DESCRIPTION: Final = "Kneoperasjon etter skade, Kari 15108695088"


def leave_type(name: str = "Vacation", id_: str = "lt1") -> s.LeaveType:
    return s.LeaveType(id=id_, name=name)


def leave(**changes: Any) -> s.Leave:
    base = s.Leave(
        id="leave-1",
        employee_id="e1",
        type_id="lt1",
        status="APPROVED",
        start_date="2025-09-01T00:00:00.000Z",
        end_date="2025-09-12T00:00:00.000Z",
        description="Sommerferie",
    )
    return replace(base, **changes)


def mapped(code: str = "04", child_id: str | None = None, **changes: Any) -> payroll.AbsenceWrite:
    return map_absence(
        leave(**changes), emp_id=1001, code=code, absence_type=TYPES[code], child_id=child_id
    )


def failure(
    code: str = "04", absence_type: payroll.AbsenceType | None = None, **changes: Any
) -> Permanent:
    with pytest.raises(Permanent) as caught:
        map_absence(
            leave(**changes), emp_id=1001, code=code, absence_type=absence_type or TYPES[code]
        )
    return caught.value


# ------------------------------------------------------------------ choosing the code


@pytest.mark.parametrize("row", ABSENCE_CODES, ids=lambda row: row.code)
def test_every_leave_type_of_the_table_maps_by_name(row: AbsenceCode) -> None:
    choice = choose_code(leave_type(row.leave_type), None, {})
    assert choice == CodeChoice(
        row.code, "default_table", f"default code {row.code} for leave type {row.leave_type}"
    )


@pytest.mark.parametrize("row", ABSENCE_CODES, ids=lambda row: row.code)
def test_the_table_ignores_case_and_surrounding_space(row: AbsenceCode) -> None:
    for name in (row.leave_type.upper(), row.leave_type.lower(), f"  {row.leave_type}\t"):
        assert choose_code(leave_type(name), None, {}).code == row.code


def test_override_by_leave_type_id() -> None:
    choice = choose_code(leave_type("Vacation", "lt9"), "04", {"lt9": "13"})
    assert choice == CodeChoice(
        "13", "override", "integration override for leave type Vacation: 13"
    )


def test_override_by_name_ignores_case_and_space() -> None:
    choice = choose_code(leave_type("Vacation"), None, {"  vACATION ": "05"})
    assert (choice.code, choice.source) == ("05", "override")


def test_override_by_id_beats_override_by_name_in_any_order() -> None:
    for overrides in ({"Vacation": "05", "lt1": "06"}, {"lt1": "06", "Vacation": "05"}):
        assert choose_code(leave_type("Vacation", "lt1"), None, overrides).code == "06"


def test_override_for_another_leave_type_is_ignored() -> None:
    choice = choose_code(leave_type("Vacation", "lt1"), None, {"lt2": "05", "Sabbatical": "13"})
    assert (choice.code, choice.source) == ("04", "default_table")


def test_override_spelt_exactly_wins_over_other_case_of_the_same_name() -> None:
    overrides = {"VACATION": "05", "Vacation": "06"}
    assert choose_code(leave_type("Vacation"), None, overrides).code == "06"


def test_override_beats_the_leave_types_own_code() -> None:
    assert choose_code(leave_type("Vacation"), "04", {"Vacation": "21"}).code == "21"


def test_the_leave_types_own_code_beats_the_table() -> None:
    choice = choose_code(leave_type("Vacation"), "05", {})
    assert choice == CodeChoice("05", "leave_type", "leave type Vacation has code 05")


@pytest.mark.parametrize(
    ("typed", "code"), [("1", "01"), ("001", "01"), (" 4 ", "04"), ("20", "20")]
)
def test_an_own_code_written_as_a_number_gets_two_digits(typed: str, code: str) -> None:
    choice = choose_code(leave_type("Sabbatical"), typed, {})
    assert (choice.code, choice.source) == (code, "leave_type")


def test_an_own_code_that_is_no_24sevenoffice_code_falls_through_to_the_table() -> None:
    choice = choose_code(leave_type("Other absences"), "99", {})
    assert choice == CodeChoice(
        "21",
        "default_table",
        "default code 21 for leave type Other absences "
        "(its leaveTypeCode is not a 24SevenOffice code)",
    )


def test_no_code_names_the_leave_type() -> None:
    assert choose_code(leave_type(" Sabbatical "), None, {}) == CodeChoice(
        None, None, "no 24SevenOffice code for leave type Sabbatical"
    )


def test_no_code_with_an_unknown_own_code_says_so_without_echoing_it() -> None:
    choice = choose_code(leave_type("Sabbatical"), "X-secret-99", {})
    assert choice.code is None
    assert choice.reason.startswith("no 24SevenOffice code for leave type Sabbatical")
    assert "secret" not in choice.reason.casefold()


def test_normalise_code() -> None:
    assert [normalise_code(v) for v in ("4", "04", " 21 ", "", None, "ab")] == [
        "04",
        "04",
        "21",
        "",
        "",
        "AB",
    ]


def test_the_simulators_leave_types_map_as_spec_says() -> None:
    company = generate_company(20, seed=3, today=D(2025, 6, 2)).dataset
    own = {row.leave_type_id: row.code for row in company.leave_type_code}
    types = as_read(company.leave_type, s.LeaveType)
    chosen = {t.name: choose_code(t, own.get(t.id), {})[:2] for t in types}
    expected: dict[str, tuple[str | None, str | None]] = {
        row.leave_type: (row.code, "default_table") for row in ABSENCE_CODES
    }
    expected |= {
        "Sick leave (medical certificate)": ("01", "leave_type"),
        "Self-certified sick leave": ("03", "leave_type"),
        "Vacation": ("04", "leave_type"),
        "Parental leave": ("06", "leave_type"),
        "Other absences": ("21", "default_table"),  # its own code is "99"
        "Sabbatical": (None, None),
    }
    assert chosen == expected


# ------------------------------------------------------------------ working days


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (D(2025, 9, 1), D(2025, 9, 7), 5),  # Monday to Sunday
        (D(2025, 9, 6), D(2025, 9, 6), 0),  # a Saturday
        (D(2025, 9, 6), D(2025, 9, 7), 0),  # a weekend
        (D(2025, 9, 3), D(2025, 9, 3), 1),  # one Wednesday
        (D(2025, 9, 5), D(2025, 9, 8), 2),  # Friday to Monday
        (D(2026, 3, 30), D(2026, 4, 5), 3),  # Easter week: Maundy Thursday, Good Friday
        (D(2026, 4, 6), D(2026, 4, 6), 0),  # Easter Monday
        (D(2026, 3, 30), D(2026, 4, 12), 7),  # two weeks with Easter
        (D(2027, 5, 17), D(2027, 5, 17), 0),  # 17 May on a Monday (and Whit Monday)
        (D(2027, 5, 17), D(2027, 5, 21), 4),  # the two holidays on one day count once
        (D(2026, 5, 25), D(2026, 5, 29), 4),  # Whit Monday 2026
        (D(2026, 5, 1), D(2026, 5, 1), 0),  # 1 May
        (D(2026, 5, 14), D(2026, 5, 14), 0),  # Ascension Day
        (D(2025, 12, 22), D(2026, 1, 2), 7),  # Christmas to New Year
        (D(2025, 12, 24), D(2025, 12, 24), 1),  # Christmas Eve is a working day
        (D(2026, 12, 26), D(2026, 12, 26), 0),  # Boxing Day on a Saturday: no double count
        (D(2024, 1, 1), D(2024, 12, 31), 252),  # 262 weekdays, 10 holidays on weekdays
        (D(2025, 9, 8), D(2025, 9, 1), 0),  # end before start: an empty period
    ],
)
def test_working_days(start: D, end: D, days: int) -> None:
    assert working_days(start, end) == days


# ------------------------------------------------------------------ the absence body


def test_a_vacation_maps_to_every_field() -> None:
    assert mapped() == payroll.AbsenceWrite(
        emp_id="1001",
        start_date="2025-09-01",
        end_date="2025-09-12",
        absence_type="04",
        percent="100",
        approved="1",
        comment="Sommerferie",
        child_id="",
        number_of_days="10",
        startdate_parental="",
        external_id="leave-1",
    )


def test_dates_are_the_oslo_dates_of_the_instants() -> None:
    """SPEC "Reading the two APIs": an Oslo midnight written in UTC is that Oslo day; UTC
    midnights with Z or +00:00 are the same day."""
    body = mapped(start_date="2025-08-31T22:00:00.000Z", end_date="2025-09-05T00:00:00.000+00:00")
    assert (body.start_date, body.end_date, body.number_of_days) == (
        "2025-09-01",
        "2025-09-05",
        "5",
    )
    winter = mapped(start_date="2025-11-30T23:00:00.000Z", end_date="2025-12-01T00:00:00.000Z")
    assert (winter.start_date, winter.end_date) == ("2025-12-01", "2025-12-01")


def test_plain_dates_are_accepted() -> None:
    body = mapped(start_date="2025-09-01", end_date="2025-09-01")
    assert (body.start_date, body.end_date) == ("2025-09-01", "2025-09-01")


@pytest.mark.parametrize(
    ("grade", "percent"),
    [
        (None, "100"),
        (100.0, "100"),
        (50.0, "50"),
        (62.5, "62.5"),
        (33.333, "33.33"),
        (0.005, "0.01"),
    ],
)
def test_percent_is_the_grade_without_needless_decimals(grade: float | None, percent: str) -> None:
    assert mapped(grade_percentage=grade).percent == percent


def test_no_percent_for_a_type_that_cannot_carry_one() -> None:
    no_percentage = replace(TYPES["05"], percentage="0")
    body = map_absence(
        leave(grade_percentage=100.0), emp_id=1, code="05", absence_type=no_percentage
    )
    assert body.percent is None
    assert "percent" not in msgspec.json.decode(msgspec.json.encode(body))
    assert map_absence(leave(), emp_id=1, code="05", absence_type=no_percentage).percent is None


def test_a_graded_leave_of_a_type_that_cannot_carry_a_percentage_fails() -> None:
    error = failure("05", replace(TYPES["05"], percentage="0"), grade_percentage=50.0)
    assert error.field == "gradePercentage"
    assert error.reason == (
        "gradePercentage must be 100 or empty: 24SevenOffice absence type 05 "
        "cannot carry a percentage"
    )


def test_comment_is_the_description_stripped_or_empty() -> None:
    assert mapped(description="  Høstferie \n").comment == "Høstferie"
    assert mapped(description=None).comment == ""


def test_number_of_days_only_for_vacation() -> None:
    assert mapped("04").number_of_days == "10"
    for code in ("01", "03", "05", "06", "21"):
        assert mapped(code).number_of_days == "", code
    assert mapped("02", child_id="7").number_of_days == ""


def test_start_of_parental_benefit_only_for_parental_benefit_types() -> None:
    assert mapped("06").startdate_parental == "2025-09-01"
    assert mapped("19").startdate_parental == "2025-09-01"
    for code in ("01", "04", "05", "15", "18", "20"):
        assert mapped(code).startdate_parental == "", code


def test_child_only_for_sick_child() -> None:
    assert mapped("02", child_id="102701").child_id == "102701"
    assert mapped("16", child_id=" 5 ").child_id == "5"
    # Care benefit sick child (15) is a leave of absence in payroll, not sick_child.
    assert mapped("15", child_id="102701").child_id == ""
    assert mapped("04", child_id="102701").child_id == ""


@pytest.mark.parametrize("code", ["02", "16"])
def test_a_sick_child_leave_without_a_known_child_leaves_the_child_alone(code: str) -> None:
    """SPEC: exported without childId; not sending it keeps a child payroll staff picked."""
    for child_id in (None, "", "  "):
        body = map_absence(
            leave(), emp_id=1, code=code, absence_type=TYPES[code], child_id=child_id
        )
        assert body.child_id is None
        assert "childId" not in msgspec.to_builtins(body)


def test_external_id_is_the_leave_id_and_approved_is_1() -> None:
    body = mapped(id="65f0c0ffee")
    assert (body.external_id, body.approved, body.serial_no) == ("65f0c0ffee", "1", None)


def test_the_code_must_be_that_of_the_absence_type() -> None:
    with pytest.raises(ValueError, match="not the code of absence type"):
        map_absence(leave(), emp_id=1, code="04", absence_type=TYPES["05"])


# ------------------------------------------------------------------ validation


def test_end_before_start_fails_naming_end_date() -> None:
    error = failure(start_date="2025-09-12T00:00:00.000Z", end_date="2025-09-01T00:00:00.000Z")
    assert (error.field, error.reason) == ("endDate", "endDate is before startDate")


def test_an_invalid_date_fails_naming_its_field() -> None:
    error = failure(start_date="01.09.2025")
    assert (error.field, error.reason) == ("startDate", "startDate is not a valid date")
    error = failure(end_date="2025-02-30T00:00:00.000Z")
    assert (error.field, error.reason) == ("endDate", "endDate is not a valid date")


@pytest.mark.parametrize("grade", [0.0, -10.0, 100.5, 1000.0, 0.004, float("nan"), float("inf")])
def test_a_grade_outside_0_to_100_fails(grade: float) -> None:
    error = failure(grade_percentage=grade)
    assert (error.field, error.reason) == (
        "gradePercentage",
        "gradePercentage must be more than 0 and at most 100",
    )


def test_a_type_that_needs_a_comment_fails_without_description() -> None:
    needs_comment = replace(TYPES["13"], comment_mandatory="1")
    for description in (None, "", "   "):
        error = failure("13", needs_comment, description=description)
        assert error.field == "description"
        assert error.reason == (
            "description is required: 24SevenOffice absence type 13 needs a comment"
        )
    body = map_absence(
        leave(description="Flytting"), emp_id=1, code="13", absence_type=needs_comment
    )
    assert body.comment == "Flytting"


def test_no_reason_contains_the_description() -> None:
    needs_comment = replace(TYPES["04"], comment_mandatory="1", percentage="0")
    cases: list[tuple[dict[str, Any], payroll.AbsenceType]] = [
        ({"end_date": "2025-08-01T00:00:00.000Z"}, TYPES["04"]),
        ({"start_date": DESCRIPTION}, TYPES["04"]),
        ({"grade_percentage": 150.0}, TYPES["04"]),
        ({"grade_percentage": 50.0}, needs_comment),
    ]
    for changes, absence_type in cases:
        with pytest.raises(Permanent) as caught:
            map_absence(
                leave(description=DESCRIPTION, **changes),
                emp_id=1,
                code=absence_type.code,
                absence_type=absence_type,
            )
        for secret in (DESCRIPTION, "Kneoperasjon", "15108695088"):
            assert secret not in caught.value.reason
            assert secret not in str(caught.value)


# ------------------------------------------------------------------ comparing


def stored(body: payroll.AbsenceWrite, **changes: Any) -> payroll.Absence:
    """An absence as 24SevenOffice answers after storing `body`: every value a string, dates with
    a time, percent with two decimals."""
    row = payroll.Absence(
        emp_id=str(body.emp_id),
        serial_no="17",
        start_date=f"{body.start_date} 00:00:00",
        end_date=f"{body.end_date} 00:00:00",
        comment=body.comment or "",
        approved=str(body.approved),
        percent=f"{float(body.percent or 100):.2f}",
        absence_type=body.absence_type or "",
        child_id=str(body.child_id or ""),
        number_of_days=str(body.number_of_days or ""),
        startdate_parental=body.startdate_parental or "",
        external_id=body.external_id or "",
        description="Ferie",
        permisjon_id="",
    )
    return replace(row, **changes)


def test_identical_after_normalising_is_no_change() -> None:
    for body in (mapped(), mapped("06", grade_percentage=50.0), mapped("02", child_id="9")):
        assert absence_changes(body, stored(body)) == []


def test_a_moved_date_is_exactly_that_field() -> None:
    body = mapped()
    assert absence_changes(body, stored(body, end_date="2025-09-11 00:00:00")) == [
        FieldChange(field="endDate", old="2025-09-11", new="2025-09-12")
    ]


def test_percent_100_00_is_100() -> None:
    body = mapped()
    for held in ("100.00", "100", "100.0"):
        assert absence_changes(body, stored(body, percent=held)) == []
    assert absence_changes(body, stored(body, percent="50.00")) == [
        FieldChange(field="percent", old="50", new="100")
    ]


def test_several_changes_are_sorted_by_api_name() -> None:
    body = mapped()
    current = stored(
        body, absence_type="05", approved="", number_of_days="9", comment="Annet", external_id="x"
    )
    assert absence_changes(body, current) == [
        FieldChange(field="absenceType", old="05", new="04"),
        FieldChange(field="approved", old="", new="1"),
        FieldChange(field="comment", old="Annet", new="Sommerferie"),
        FieldChange(field="numberOfDays", old="9", new="10"),
    ]


def test_a_stale_value_of_a_field_that_no_longer_applies_is_a_change() -> None:
    body = mapped("01")  # was a vacation, now a sick leave: numberOfDays must be cleared
    assert absence_changes(body, stored(body, number_of_days="10")) == [
        FieldChange(field="numberOfDays", old="10", new="")
    ]


def test_fields_not_sent_and_keys_are_not_compared() -> None:
    no_percentage = replace(TYPES["05"], percentage="0")
    body = map_absence(leave(), emp_id=1, code="05", absence_type=no_percentage)
    current = stored(body, percent="80.00", emp_id="2", serial_no="99", external_id="other")
    assert absence_changes(body, current) == []


def test_empty_dates_and_zero_dates_are_the_same() -> None:
    body = mapped("01")
    assert absence_changes(body, stored(body, startdate_parental="0000-00-00")) == []


# ------------------------------------------------------------------ through the simulator's store


def post(store: PayrollStore, body: payroll.AbsenceWrite) -> payroll.Absence:
    """As the HTTP simulator does: the JSON body decoded into the write Struct, then stored."""
    decoded = msgspec.json.decode(msgspec.json.encode(body), type=payroll.AbsenceWrite)
    return store.post_absence(decoded)


@pytest.fixture
def store() -> PayrollStore:
    store = PayrollStore(
        payroll.Dataset(
            employee=[payroll.Employee(emp_id="1001", firstname="Kari", lastname="Nordmann")],
            child=[
                payroll.StoredChild(
                    emp_id="1001", child_id="5", firstname="Ola", birthdate="2018-04-01"
                )
            ],
            absencetypes=default_absence_types(),
        )
    )
    return store


@pytest.mark.parametrize("row", ABSENCE_CODES, ids=lambda row: row.code)
def test_the_payroll_simulator_stores_every_type_with_no_change_left(
    store: PayrollStore, row: AbsenceCode
) -> None:
    body = mapped(row.code, child_id="5", grade_percentage=62.5)
    held = post(store, body)
    assert absence_changes(body, held) == []
    assert (held.approved, held.external_id, held.absence_type) == ("1", "leave-1", row.code)


def test_an_update_with_the_serial_number_changes_what_differs(store: PayrollStore) -> None:
    held = post(store, mapped())
    moved = replace(mapped(end_date="2025-09-05T00:00:00.000Z"), serial_no=held.serial_no)
    assert [c.field for c in absence_changes(moved, held)] == ["endDate", "numberOfDays"]
    updated = post(store, moved)
    assert updated.serial_no == held.serial_no
    assert absence_changes(moved, updated) == []
    assert (updated.end_date, updated.number_of_days) == ("2025-09-05 00:00:00", "5")


def test_withdrawal_rejects_and_keeps_everything_else(store: PayrollStore) -> None:
    body = mapped("02", child_id="5", grade_percentage=50.0)
    held = post(store, body)
    rejection = withdrawal(held)
    # Keys and the rejection only: the client overlays them on the whole absence as read.
    assert rejection == payroll.AbsenceWrite(emp_id="1001", serial_no=held.serial_no, approved="2")
    assert absence_changes(rejection, held) == [FieldChange(field="approved", old="1", new="2")]
    after = post(store, rejection)
    assert after.approved == "2"
    assert replace(after, approved="1", last_changed="") == replace(held, last_changed="")
    assert absence_changes(withdrawal(after), after) == []  # already withdrawn: nothing to do


# ------------------------------------------------------------------ children


def kid(id_: str, employee: str = "e1") -> s.Child:
    return s.Child(id=id_, employee_id=employee, name=f"Barn {id_}", birthdate="2018-04-01")


def test_the_sick_child_is_the_named_one_else_the_only_one() -> None:
    """SPEC: the leave's childId when it carries one (not published), else the only child;
    otherwise none, with a note saying why."""
    one, two = kid("c1"), kid("c2")
    assert sick_child(leave(), [one]) == (one, "")
    assert sick_child(leave(child_id="c2"), [one, two]) == (two, "")
    assert sick_child(leave(), [one, two]) == (None, "child not set: 2 children in Simployer One")
    assert sick_child(leave(), []) == (None, "child not set: 0 children in Simployer One")
    named_elsewhere = sick_child(leave(child_id="c9"), [one])
    assert named_elsewhere[0] is None
    assert named_elsewhere[1].startswith("child not set")


def simployer_child(
    name: str = "Ola Nordmann", birthdate: str = "2018-04-01T00:00:00.000Z"
) -> s.Child:
    return s.Child(id="c1", employee_id="e1", name=name, birthdate=birthdate)


def payroll_child(
    child_id: str, firstname: str, birthdate: str, lastname: str = ""
) -> payroll.Child:
    return payroll.Child(
        child_id=child_id, firstname=firstname, lastname=lastname, birthdate=birthdate
    )


CHILDREN: Final = [
    payroll_child("1", "Kari", "2016-02-10"),
    payroll_child("2", "Ola", "2016-02-10 00:00:00"),
    payroll_child("3", "ola", "2018-04-01 00:00:00"),
    payroll_child("4", "Per", "2018-04-01"),
]


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("Ola Nordmann", "Ola", "Nordmann"),
        ("Ola", "Ola", ""),
        ("  Anne  Marie\tLunde-Hansen ", "Anne", "Marie Lunde-Hansen"),
        ("", "", ""),
    ],
)
def test_first_name_is_the_first_word_and_last_name_the_rest(
    name: str, first: str, last: str
) -> None:
    assert (child_first_name(name), child_last_name(name)) == (first, last)


def test_find_child_by_first_name_and_birth_date() -> None:
    assert find_child(CHILDREN, first_name="Ola", birthdate=D(2018, 4, 1)) == CHILDREN[2]
    assert find_child(CHILDREN, first_name="OLA", birthdate=D(2016, 2, 10)) == CHILDREN[1]
    assert find_child(CHILDREN, first_name="per", birthdate=D(2018, 4, 1)) == CHILDREN[3]


def test_find_child_without_a_match() -> None:
    assert find_child(CHILDREN, first_name="Ola", birthdate=D(2018, 4, 2)) is None
    assert find_child(CHILDREN, first_name="Kari", birthdate=D(2018, 4, 1)) is None
    assert find_child(CHILDREN, first_name="", birthdate=D(2018, 4, 1)) is None
    assert find_child([], first_name="Ola", birthdate=D(2018, 4, 1)) is None
    broken = [payroll_child("9", "Ola", ""), payroll_child("8", "Ola", "2018-13-01")]
    assert find_child(broken, first_name="Ola", birthdate=D(2018, 4, 1)) is None


def test_a_payroll_first_name_of_several_words_matches_on_its_first() -> None:
    children = [
        payroll_child("1", "Anne Marie", "2019-05-05"),
        payroll_child("2", "Anna", "2019-05-05"),
    ]
    assert find_child(children, first_name="anne", birthdate=D(2019, 5, 5)) == children[0]
    # One spelt exactly like ours wins over a first-word match.
    children.append(payroll_child("3", "ANNE", "2019-05-05"))
    assert find_child(children, first_name="Anne", birthdate=D(2019, 5, 5)) == children[2]


def test_child_write() -> None:
    assert child_write(1001, simployer_child()) == payroll.ChildWrite(
        emp_id="1001", firstname="Ola", lastname="Nordmann", birthdate="2018-04-01"
    )
    one_word = child_write(7, simployer_child("Nora", "2020-01-30T23:00:00.000Z"))
    assert (one_word.firstname, one_word.lastname, one_word.birthdate) == ("Nora", "", "2020-01-31")


def test_child_birthdate_is_the_calendar_date() -> None:
    assert child_birthdate(simployer_child(birthdate="2018-03-31T22:00:00.000Z")) == D(2018, 4, 1)


def test_a_child_that_cannot_be_written_fails_naming_the_field() -> None:
    with pytest.raises(Permanent) as caught:
        child_write(1, simployer_child(name="   "))
    assert (caught.value.field, caught.value.reason) == (
        "child.name",
        "the child of this sick-child leave cannot be determined: "
        "the child has no name in Simployer One",
    )
    with pytest.raises(Permanent) as caught:
        child_write(1, simployer_child(birthdate="01.04.2018"))
    assert caught.value.field == "child.birthdate"
    assert "01.04.2018" not in caught.value.reason
    assert caught.value.reason.startswith("the child of this sick-child leave cannot be determined")


def test_a_written_child_is_found_again_in_the_simulator(store: PayrollStore) -> None:
    child = simployer_child("Emma Nordmann", "2019-11-30T00:00:00.000Z")
    body = msgspec.json.decode(
        msgspec.json.encode(child_write(1001, child)), type=payroll.ChildWrite
    )
    created = store.post_child(body)
    found = find_child(
        store.children_of(1001),
        first_name=child_first_name(child.name),
        birthdate=child_birthdate(child),
    )
    assert found is not None
    assert found.child_id == created.child_id

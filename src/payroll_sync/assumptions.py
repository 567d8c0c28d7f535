"""Everything APIS.md marks ASSUMED, in one place.

Neither API documents these points. Simulators and connectors both read them from here, so
when the real services turn out to behave otherwise there is exactly one place to change.
"""

from __future__ import annotations

from typing import Final

# ---------------------------------------------------------------- Simployer One

#: Paging: largest and default `limit`. A larger limit is refused with 400 rather than clamped,
#: so a client that asks for more than it can get fails loudly in tests.
SIMPLOYER_MAX_LIMIT: Final = 100
SIMPLOYER_DEFAULT_LIMIT: Final = 20

#: Throttling is documented only as "429 with Retry-After"; the numbers are ours.
SIMPLOYER_RATE_LIMIT_PER_SECOND: Final = 25.0
SIMPLOYER_RATE_LIMIT_BURST: Final = 50

#: How `relations=<name>` joins rows is not published. For each published relation name:
#: (target table, this row's field, the target's field); the related rows are the target rows
#: whose field equals this row's. A target of None is a resource the simulator does not hold
#: (cost centres, emergency contacts, teams): the relation is accepted and comes back empty.
#: We assume the narrowest join the names allow: an employee's `employment` and
#: `compensation` relations hold only the row that `employmentId`/`compensationId` names, so
#: the client reads all compensations from `/compensation` (SPEC: the salary rule needs all).
SIMPLOYER_RELATIONS: Final[dict[str, dict[str, tuple[str | None, str, str]]]] = {
    "employee": {
        "office": ("office", "officeId", "id"),
        "costCenter": (None, "costCenterId", "id"),
        "effectiveCostCenter": (None, "costCenterId", "id"),
        "child": ("child", "id", "employeeId"),
        "department": ("department", "departmentId", "id"),
        "emergencyContact": (None, "id", "employeeId"),
        "employment": ("employment", "employmentId", "id"),
        "employmentType": ("employment-type", "employmentTypeId", "id"),
        "compensation": ("compensation", "compensationId", "id"),
        "managerEmployee": ("employee", "managerEmployeeId", "id"),
        "teamReference": (None, "id", "employeeId"),
    },
    "employment": {
        "type": ("employment-type", "typeId", "id"),
        "employee": ("employee", "employeeId", "id"),
    },
    "leave": {
        "type": ("leave-type", "typeId", "id"),
        "employee": ("employee", "employeeId", "id"),
    },
    # The payroll code a customer sets on a leave type: rows {id, companyId, leaveTypeId, code}.
    "leave-type": {"leaveTypeCode": ("leave-type-code", "id", "leaveTypeId")},
    "department": {
        "costCenter": (None, "costCenterId", "id"),
        "effectiveCostCenter": (None, "effectiveCostCenterId", "id"),
    },
}

#: Filterable fields where the publisher lists fewer than all of a resource's fields.
SIMPLOYER_FILTERABLE: Final[dict[str, frozenset[str]]] = {
    "leave": frozenset(
        {"id", "employeeId", "typeId", "status", "duration", "startDate", "endDate"}
    ),
}

# ---------------------------------------------------------------- 24SevenOffice Lønn

#: Rate limit per persistent access token (refreshing the bearer token does not reset it).
PAYROLL_RATE_LIMIT_PER_SECOND: Final = 10.0
PAYROLL_RATE_LIMIT_BURST: Final = 20

#: Lifetime of a bearer token from `GET /auth` (the example shows about an hour).
PAYROLL_TOKEN_TTL_SECONDS: Final = 3600

#: The OpenAPI file names an `authorization2` API-key header; APIS.md says `Authorization:
#: Bearer`. We follow APIS.md.
PAYROLL_AUTH_HEADER: Final = "Authorization"

#: `GET /employee/v2/{empId}` (and the employee's employments, absences, children) for an
#: unknown employee answers 404.
PAYROLL_UNKNOWN_EMPLOYEE_STATUS: Final = 404

#: `POST /employee/v2/{empId}` and the employment/absence/child upserts: whether an update
#: merges the fields sent into the record ("merge": fields left out stay unchanged) or replaces
#: it ("replace": fields left out are cleared) is unpublished. The simulator merges by default
#: and can replace (setting `update_mode`); the client is right under both, as it sends the
#: whole record as just read with its own fields overlaid (APIS.md). Under "replace" an
#: employment update replaces that one employment, never the employee's others; fields the
#: server owns (an absence's `requestDate`, `lastChanged`, `description`) are kept either way.
PAYROLL_UPDATE_MODE: Final = "merge"
PAYROLL_UPDATE_MODES: Final = ("merge", "replace")

#: The answer to a successful POST is unpublished ("Success! Item created returned", no
#: schema). The simulator answers 200 with an empty body by default, the least a client may
#: count on; setting `post_answer = "array"` answers with the stored object(s) as a JSON array
#: like the GETs do (the whole employment list for `POST /employment/v2/{empId}`). The client
#: treats any 2xx as success whatever its body and reads back with a GET the ids it needs.
PAYROLL_POST_ANSWER: Final = "empty"
PAYROLL_POST_ANSWERS: Final = ("empty", "array")

#: `empId` is published as an "integer" with no range; we take it to be a signed 32-bit one, so
#: a longer employee number is refused before any write rather than overflowing there.
PAYROLL_EMP_ID_MAX: Final = 2**31 - 1

#: Longest text 24SevenOffice keeps in each employee field we write. The OpenAPI file gives no
#: maxLength for any field, so these are ours: generous for real names and addresses, far below
#: anything that looks like garbage (a 10,000-character first name). The sync refuses a longer
#: value before any write (rules/plausibility.py), naming the Simployer One field; the
#: simulator does not enforce them, as the API does not publish them.
PAYROLL_TEXT_MAX_LENGTHS: Final[dict[str, int]] = {
    "firstname": 100,
    "lastname": 100,
    "email": 254,  # the longest address SMTP can deliver (RFC 5321's path limit)
    "postaddress": 200,
    "zipcode": 20,
    "city": 100,
}

#: `POST /employee/v2` refuses (400) a new employee without these fields.
PAYROLL_CREATE_REQUIRES: Final = ("firstname", "lastname")

#: Write bodies with fields the API does not list are refused (400) rather than ignored, so a
#: client that misspells a field fails in tests instead of silently writing nothing. Fields
#: every row read carries but the POST description does not list are accepted and ignored,
#: because a record read is a valid update body (the published update examples send whole
#: records): an absence's `requestDate`, `requestMotivation`, `description` and `lastChanged`.
#: Absence dates are accepted as `YYYY-MM-DD` or as read (`YYYY-MM-DD HH:MM:SS`). Custom employee
#: fields (`employee_field_{ID}`) are not modelled: the simulator neither serves nor takes them.

#: `GET /absence/v2?datefrom=&dateto=` returns absences that overlap the interval.
#: `GET /child/v2/{empId}` rows use `childId firstname lastname birthdate` as in APIS.md (the
#: OpenAPI example's `firstnamn`/`surname` contradicts its own POST fields); the client reads
#: either spelling.
#: `POST /absence/v2` declares a `text/html` body while every example is an object: we send JSON.

#: Fields the API answers with two decimals ("160.00", "100.00").
PAYROLL_DECIMAL_FIELDS: Final = frozenset(
    {
        "salary",
        "employment_rate",
        "hours_per_week",
        "vacation_percent",
        "percentage_tax_main_employer",
        "percentage_tax_bi_employer",
    }
)

#: Retry-After is sent in whole seconds (HTTP delay-seconds), rounded up, at least 1.
RETRY_AFTER_MIN_SECONDS: Final = 1

# The default absence types of a new 24SevenOffice company (SPEC.md; categories ASSUMED):
# code -> (description, category, leave_of_absence_type). permisjonId is "1" exactly for the
# leave_of_absence category.
DEFAULT_ABSENCE_TYPES: Final[dict[str, tuple[str, str, str]]] = {
    "01": ("Sykmelding", "sickness", ""),
    "02": ("Sykt barn", "sick_child", ""),
    "03": ("Egenmelding", "self_report", ""),
    "04": ("Ferie", "vacation", ""),
    "05": ("Permittering", "leave_of_absence", "permittering"),
    "06": ("Foreldrepenger", "leave_of_absence", "permisjonMedForeldrepenger"),
    "07": ("Militærtjeneste", "leave_of_absence", "permisjonVedMilitaertjeneste"),
    "10": (
        "Utdanningspermisjon - lovfestet",
        "leave_of_absence",
        "utdanningspermisjonLovfestet",
    ),
    "11": (
        "Utdanningspermisjon - ikke lovfestet",
        "leave_of_absence",
        "utdanningspermisjonIkkeLovfestet",
    ),
    "12": ("Andre permisjoner - lovfestet", "leave_of_absence", "andreLovfestedePermisjoner"),
    "13": (
        "Andre permisjoner - ikke lovfestet",
        "leave_of_absence",
        "andreIkkeLovfestedePermisjoner",
    ),
    "14": ("Pleiepenger livets siste faser", "leave_of_absence", "andreLovfestedePermisjoner"),
    "15": ("Pleiepenger sykt barn", "leave_of_absence", "andreLovfestedePermisjoner"),
    "16": ("Omsorgspenger (sykt barn dager)", "sick_child", ""),
    "17": ("Opplæringspenger", "leave_of_absence", "andreLovfestedePermisjoner"),
    "18": ("Svangerskapspenger", "leave_of_absence", "andreLovfestedePermisjoner"),
    "19": (
        "Svangerskapspermisjon (foreldrepenger)",
        "leave_of_absence",
        "permisjonMedForeldrepenger",
    ),
    "20": ("Omsorgspermisjon", "leave_of_absence", "andreLovfestedePermisjoner"),
    "21": ("Annet fravær", "leave_of_absence", "andreIkkeLovfestedePermisjoner"),
}

"""Reference data of the company generator: names, banks, places, jobs, leave types.

Plain constants (and the small tuples that shape them), kept apart from the generator's logic.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from payroll_sync.schemas import simployer as s

NO_FEMALE: Final = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Solveig", "Marianne", "Randi", "Ida", "Nora", "Emma", "Sara", "Ingeborg", "Silje",
    "Kristin", "Camilla", "Hanne", "Tone", "Maja", "Thea", "Åse", "Sigrid", "Tuva", "Live",
)  # fmt: skip
NO_MALE: Final = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Thomas",
    "Hans", "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "Jon",
    "Anders", "Håkon", "Magnus", "Jonas", "Sindre", "Øyvind", "Espen", "Eirik", "Even", "Aksel",
)  # fmt: skip
NO_LAST: Final = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen", "Berg", "Haugen", "Hagen", "Dahl",
    "Halvorsen", "Lund", "Sørensen", "Moen", "Strand", "Solberg", "Eide", "Bakken", "Lie",
    "Nygård", "Ødegård", "Sæther", "Næss", "Bøe", "Aas", "Myhre", "Haugland", "Rønning", "Vik",
    "Brekke", "Tveit", "Nguyen", "Ali", "Ahmed", "Lunde-Hansen",
)  # fmt: skip


class Names(NamedTuple):
    female: tuple[str, ...]
    male: tuple[str, ...]
    last_female: tuple[str, ...]
    last_male: tuple[str, ...]


def _neutral(female: tuple[str, ...], male: tuple[str, ...], last: tuple[str, ...]) -> Names:
    return Names(female, male, last, last)


# Foreign colleagues get names from home; Polish and Lithuanian surnames are gendered.
NAMES: Final[dict[str, Names]] = {
    "NO": _neutral(NO_FEMALE, NO_MALE, NO_LAST),
    "SE": _neutral(
        ("Anna", "Maria", "Elin", "Karin", "Sofia"),
        ("Erik", "Johan", "Mikael", "Björn", "Anders"),
        ("Andersson", "Johansson", "Karlsson", "Lindqvist", "Åberg"),
    ),
    "DK": _neutral(
        ("Mette", "Louise", "Camilla", "Line"),
        ("Mads", "Rasmus", "Søren", "Jesper"),
        ("Nielsen", "Jensen", "Kjær", "Østergaard"),
    ),
    "PL": Names(
        ("Anna", "Katarzyna", "Małgorzata", "Agnieszka"),
        ("Piotr", "Krzysztof", "Tomasz", "Łukasz", "Paweł"),
        ("Nowak", "Wójcik", "Kowalska", "Woźniak", "Lewandowska"),
        ("Nowak", "Wójcik", "Kowalski", "Woźniak", "Lewandowski"),
    ),
    "DE": _neutral(
        ("Julia", "Katharina", "Sabine", "Anja"),
        ("Jürgen", "Michael", "Stefan", "Jörg"),
        ("Müller", "Schmidt", "Schneider", "Weiß"),
    ),
    "LT": Names(
        ("Rūta", "Jurgita", "Asta"),
        ("Tomas", "Mindaugas", "Darius", "Andrius"),
        ("Kazlauskienė", "Petrauskaitė", "Jankauskienė"),
        ("Kazlauskas", "Petrauskas", "Stankevičius"),
    ),
    "GB": _neutral(
        ("Emma", "Sarah", "Laura"),
        ("James", "David", "Oliver"),
        ("Smith", "Taylor", "O'Neill", "Brown"),
    ),
}
NATIONALITY_WEIGHTS: Final = {"NO": 85, "SE": 4, "PL": 4, "DK": 2, "DE": 2, "LT": 2, "GB": 1}
D_NUMBER_SHARE: Final = 0.7  # of foreign nationals: D-numbers are issued to foreigners
LIVES_ABROAD_SHARE: Final = 0.25  # of foreign nationals: cross-border commuters
FOREIGN_ACCOUNT_SHARE: Final = 0.75  # of nationals of a country in IBAN_BANKS

# Norwegian bank registry prefixes (first 4 digits of a kontonummer).
NO_BANKS: Final = (
    ("1254", "DNB"), ("1503", "DNB"), ("6011", "Nordea"), ("8601", "Danske Bank"),
    ("3201", "SpareBank 1 Sør-Norge"), ("4202", "SpareBank 1 SMN"), ("3633", "Sparebanken Vest"),
    ("9041", "Handelsbanken"),
)  # fmt: skip


class ForeignBank(NamedTuple):
    name: str
    bban_prefix: str
    bic: str
    clearing_prefix: str  # Swedish clearing numbers start with the bank's digit(s)


IBAN_BANKS: Final[dict[str, tuple[ForeignBank, ...]]] = {
    "SE": (
        ForeignBank("SEB", "500", "ESSESESS", "5"),
        ForeignBank("Handelsbanken", "600", "HANDSESS", "6"),
        ForeignBank("Swedbank", "800", "SWEDSESS", "8"),
    ),
    "DK": (
        ForeignBank("Danske Bank", "3001", "DABADKKK", ""),
        ForeignBank("Nordea Danmark", "2191", "NDEADKKK", ""),
    ),
    "DE": (
        ForeignBank("Deutsche Bank", "50070010", "DEUTDEFFXXX", ""),
        ForeignBank("Commerzbank", "50040000", "COBADEFF", ""),
    ),
    "GB": (
        ForeignBank("Barclays", "BARC20", "BARCGB22", ""),
        ForeignBank("NatWest", "NWBK60", "NWBKGB2L", ""),
    ),
    "PL": (
        ForeignBank("PKO Bank Polski", "10205558", "BPKOPLPW", ""),
        ForeignBank("mBank", "11402004", "BREXPLPW", ""),
    ),
}
BBAN_LENGTH: Final = {"SE": 20, "DK": 14, "DE": 18, "GB": 18, "PL": 24}

OFFICE_CITIES: Final = ("Oslo", "Bergen", "Trondheim", "Stavanger")
OFFICE_WEIGHTS: Final = {"Oslo": 50, "Bergen": 20, "Trondheim": 15, "Stavanger": 15}
# Where the staff of each office live: (postnummer, poststed).
POSTAL_AREAS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "Oslo": (
        ("0150", "OSLO"), ("0468", "OSLO"), ("0555", "OSLO"), ("0661", "OSLO"), ("0870", "OSLO"),
        ("1352", "KOLSÅS"), ("1405", "LANGHUS"), ("2000", "LILLESTRØM"), ("1338", "SANDVIKA"),
    ),
    "Bergen": (
        ("5003", "BERGEN"), ("5045", "BERGEN"), ("5141", "FYLLINGSDALEN"), ("5221", "NESTTUN"),
    ),
    "Trondheim": (
        ("7010", "TRONDHEIM"), ("7030", "TRONDHEIM"), ("7080", "HEIMDAL"), ("7500", "STJØRDAL"),
    ),
    "Stavanger": (
        ("4006", "STAVANGER"), ("4014", "STAVANGER"), ("4306", "SANDNES"), ("4313", "SANDNES"),
    ),
}  # fmt: skip
STREETS: Final = (
    "Storgata", "Kirkeveien", "Skolegata", "Parkveien", "Bjørkeveien", "Granveien", "Sjøgata",
    "Fjordveien", "Solbakken", "Lindeveien", "Eikeveien", "Kongens gate", "Dronningens gate",
    "Strandveien", "Øvre Slottsgate", "Åsveien",
)  # fmt: skip
# Commuters' home addresses: (street, postal code, city).
FOREIGN_ADDRESSES: Final[dict[str, tuple[str, str, str]]] = {
    "SE": ("Storgatan 12", "451 30", "Uddevalla"),
    "DK": ("Vesterbrogade 41", "1620", "København V"),
    "PL": ("ul. Długa 15", "80-827", "Gdańsk"),
    "DE": ("Hauptstraße 7", "24937", "Flensburg"),
    "LT": ("Gedimino pr. 9", "01103", "Vilnius"),
    "GB": ("12 High Street", "AB10 1AB", "Aberdeen"),
}
EMAIL_DOMAINS: Final = ("nordlysteknikk.no", "fjordbygg.no", "vestkystdata.no", "tindeas.no")
PRIVATE_DOMAINS: Final = ("gmail.com", "hotmail.com", "online.no", "outlook.com", "icloud.com")

# Department tree (name, parent); parents come first.
DEPARTMENT_ROOTS: Final = ("Økonomi og administrasjon", "Salg og marked", "Teknologi", "Drift")
DEPARTMENT_CHILDREN: Final = (
    ("Regnskap", "Økonomi og administrasjon"),
    ("Lønn og HR", "Økonomi og administrasjon"),
    ("Salg Øst", "Salg og marked"),
    ("Salg Vest", "Salg og marked"),
    ("Marked", "Salg og marked"),
    ("Utvikling", "Teknologi"),
    ("Plattform", "Utvikling"),
    ("IT-drift", "Teknologi"),
    ("Kundeservice", "Drift"),
    ("Lager og logistikk", "Drift"),
)

PERMANENT: Final = "Permanent"
TEMPORARY: Final = "Temporary"
SUBSTITUTE: Final = "Temporary substitute"
PART_TIME: Final = "Permanent part-time"
EMPLOYMENT_TYPE_WEIGHTS: Final = {PERMANENT: 70, PART_TIME: 12, TEMPORARY: 12, SUBSTITUTE: 6}
RATES: Final[dict[str, tuple[float, ...]]] = {
    PERMANENT: (100.0,) * 9 + (80.0,),
    PART_TIME: (80.0, 60.0, 50.0, 40.0, 60.5, 20.0, 75.0),
    TEMPORARY: (100.0, 100.0, 50.0),
    SUBSTITUTE: (100.0, 50.0, 40.0, 60.5, 33.3),
}
HOURLY_SHARE: Final = {PERMANENT: 0.0, PART_TIME: 0.2, TEMPORARY: 0.1, SUBSTITUTE: 0.8}

# 7-digit yrkeskoder (4-digit STYRK-98 + 3-digit serial) with a matching job title.
PROFESSIONS: Final = (
    ("2130102", "Systemutvikler"), ("3121101", "IT-konsulent"), ("2411103", "Revisor"),
    ("3433101", "Regnskapsmedarbeider"), ("4115101", "Sekretær"), ("3415101", "Selger"),
    ("5220104", "Butikkmedarbeider"), ("1210160", "Daglig leder"), ("2412102", "HR-rådgiver"),
    ("7137102", "Elektriker"), ("9132101", "Renholder"), ("4222101", "Kundebehandler"),
    ("8322101", "Sjåfør"), ("4131101", "Lagermedarbeider"), ("0111101", "Offiser"),
)  # fmt: skip
SEED_EXAMPLE_NOTE: Final = "0111101:7"  # the seed's own example: reason 7 on an open employment
OPEN_NOTE_REASON_SHARE: Final = 0.35


class LeaveSpec(NamedTuple):
    name: str
    kind: s.LeaveKind
    paid: bool
    days: tuple[int, int]  # calendar days, inclusive range
    weight: int  # how often it is drawn for the random leaves
    descriptions: tuple[str, ...]
    needs_child: bool = False
    female_only: bool = False
    graded: bool = False  # may be taken at 50 %


LEAVE_SPECS: Final = (
    LeaveSpec("Sick leave (medical certificate)", "SICK_LEAVE", True, (4, 30), 8,
              ("Sykmelding fra lege", "Sykmeldt"), graded=True),
    LeaveSpec("Care of sick child", "CHILDCARE", True, (1, 2), 10,
              ("Sykt barn", "Barnet har feber"), needs_child=True),
    LeaveSpec("Self-certified sick leave", "SICK_LEAVE", True, (1, 3), 14,
              ("Egenmelding", "Syk")),
    LeaveSpec("Vacation", "VACATION", True, (1, 21), 30,
              ("Sommerferie", "Vinterferie", "Høstferie", "Ferie")),
    LeaveSpec("Off duty", "OFF_DUTY", False, (10, 60), 1, ("Permittert",), graded=True),
    LeaveSpec("Parental leave", "PARENTAL_LEAVE", True, (30, 90), 2, ("Foreldrepermisjon",),
              graded=True),
    LeaveSpec("Military service", "OFF_DUTY", True, (5, 20), 1, ("Repetisjonsøvelse",)),
    LeaveSpec("Educational leave statutory", "OFF_DUTY", False, (5, 30), 1, ("Etterutdanning",)),
    LeaveSpec("Educational leave non statutory", "OFF_DUTY", False, (5, 30), 1, ("Kurs",)),
    LeaveSpec("Other leaves statutory", "OFF_DUTY", True, (1, 5), 1, ("Velferdspermisjon",)),
    LeaveSpec("Other leaves non statutory", "OFF_DUTY", False, (1, 5), 1, ("Permisjon",)),
    LeaveSpec("Palliative care benefit", "OFF_DUTY", True, (5, 20), 1, ("Pleie av nærstående",)),
    LeaveSpec("Care benefit sick child", "CHILDCARE", True, (5, 20), 1, ("Pleiepenger",),
              needs_child=True),
    LeaveSpec("Childcare sickness days", "CHILDCARE", True, (1, 2), 4, ("Omsorgsdag",),
              needs_child=True),
    LeaveSpec("Training benefit", "CHILDCARE", True, (2, 5), 1, ("Opplæring",)),
    LeaveSpec("Pregnancy benefit", "PARENTAL_LEAVE", True, (14, 60), 1, ("Svangerskapspenger",),
              female_only=True),
    LeaveSpec("Maternity leave parental benefit", "PARENTAL_LEAVE", True, (21, 21), 1,
              ("Tre uker før termin",), female_only=True),
    LeaveSpec("Care leave", "PARENTAL_LEAVE", True, (10, 14), 1, ("Omsorgspermisjon ved fødsel",)),
    LeaveSpec("Other absences", "OFF_DUTY", True, (1, 2), 3, ("Legetime", "Flytting")),
    # Not in SPEC.md's table and without a code: the sync must skip it.
    LeaveSpec("Sabbatical", "OFF_DUTY", False, (30, 90), 1, ("Friår",)),
)  # fmt: skip
LEAVE_TYPE_NAMES: Final = tuple(spec.name for spec in LEAVE_SPECS[:19])
# Codes the customer set on some leave types; "99" is no 24SevenOffice code (falls back).
LEAVE_TYPE_CODES: Final = {
    "Sick leave (medical certificate)": "01",
    "Self-certified sick leave": "03",
    "Vacation": "04",
    "Parental leave": "06",
    "Other absences": "99",
}
LEAVE_PAST_DAYS: Final = 270
LEAVE_FUTURE_DAYS: Final = 90
LEAVES_PER_EMPLOYEE: Final = (0, 1, 1, 2, 2, 3, 3, 4, 5)
ALL_STATUSES: Final[tuple[s.LeaveStatus, ...]] = (
    "PENDING",
    "DENIED",
    "CANCELLED",
    "APPROVED",
    "CONFIRMED",
)
PAST_STATUS_WEIGHTS: Final[dict[s.LeaveStatus, int]] = {
    "APPROVED": 50,
    "CONFIRMED": 35,
    "CANCELLED": 7,
    "DENIED": 5,
    "PENDING": 3,
}
FUTURE_STATUS_WEIGHTS: Final[dict[s.LeaveStatus, int]] = {
    "PENDING": 35,
    "APPROVED": 50,
    "CANCELLED": 8,
    "DENIED": 7,
}

# Mod-11 weights: fødselsnummer check digits 1 and 2, kontonummer.

"""The 24SevenOffice absence codes we know, and SPEC.md's default leave type for each.

Only stdlib. Requests and settings may only name these codes; the mapping's default table
(leave type name -> code) is built from the same rows, so there is one list to change.
"""

from __future__ import annotations

from typing import Final, NamedTuple


class AbsenceCode(NamedTuple):
    code: str
    # The Simployer One leave type name that maps to this code by default (case-insensitive).
    leave_type: str
    # How 24SevenOffice names the absence type.
    payroll_name: str


ABSENCE_CODES: Final[tuple[AbsenceCode, ...]] = (
    AbsenceCode("01", "Sick leave (medical certificate)", "Sykmelding"),
    AbsenceCode("02", "Care of sick child", "Sykt barn"),
    AbsenceCode("03", "Self-certified sick leave", "Egenmelding"),
    AbsenceCode("04", "Vacation", "Ferie"),
    AbsenceCode("05", "Off duty", "Permittering"),
    AbsenceCode("06", "Parental leave", "Foreldrepenger"),
    AbsenceCode("07", "Military service", "Militærtjeneste"),
    AbsenceCode("10", "Educational leave statutory", "Utdanningspermisjon - lovfestet"),
    AbsenceCode("11", "Educational leave non statutory", "Utdanningspermisjon - ikke lovfestet"),
    AbsenceCode("12", "Other leaves statutory", "Andre permisjoner - lovfestet"),
    AbsenceCode("13", "Other leaves non statutory", "Andre permisjoner - ikke lovfestet"),
    AbsenceCode("14", "Palliative care benefit", "Pleiepenger livets siste faser"),
    AbsenceCode("15", "Care benefit sick child", "Pleiepenger sykt barn"),
    AbsenceCode("16", "Childcare sickness days", "Omsorgspenger (sykt barn dager)"),
    AbsenceCode("17", "Training benefit", "Opplæringspenger"),
    AbsenceCode("18", "Pregnancy benefit", "Svangerskapspenger"),
    AbsenceCode("19", "Maternity leave parental benefit", "Svangerskapspermisjon (foreldrepenger)"),
    AbsenceCode("20", "Care leave", "Omsorgspermisjon"),
    AbsenceCode("21", "Other absences", "Annet fravær"),
)

KNOWN_CODES: Final[frozenset[str]] = frozenset(row.code for row in ABSENCE_CODES)


def unknown_codes(codes: list[str] | tuple[str, ...]) -> list[str]:
    """The codes that are not 24SevenOffice absence codes, in the order given."""
    return [code for code in codes if code not in KNOWN_CODES]


def describe_unknown(where: str, codes: list[str] | tuple[str, ...]) -> str:
    known = ", ".join(row.code for row in ABSENCE_CODES)
    wrong = ", ".join(repr(code) for code in codes)
    return f"{where}: unknown absence code {wrong} (known: {known})"

"""Every identifier rule of the employee sync, in one place.

Each function returns the compact form we send, or raises `ValueError`. The messages never
contain the value: they end up in outcomes and logs, and the values are personal data.
"""

from __future__ import annotations

import datetime
import re
from typing import Final

import pycountry
from stdnum import bic as _bic
from stdnum import iban as _iban
from stdnum.exceptions import ValidationError
from stdnum.no import fodselsnummer, kontonr
from stdnum.util import isdigits

from payroll_sync.assumptions import PAYROLL_EMP_ID_MAX

__all__ = [
    "bic",
    "country_alpha2",
    "employee_id",
    "iban",
    "norwegian_account",
    "norwegian_person_number",
    "payroll_key",
    "person_key",
]

#: What may separate the digits of a person number as it is written.
_SEPARATORS: Final = re.compile(r"[\s.\-]")
#: D-nummer: 40 is added to the day of birth.
D_NUMBER_DAY_OFFSET: Final = 40
#: Synthetic test numbers (Skatteetaten's Tenor test data): 80 is added to the month.
SYNTHETIC_MONTH_OFFSET: Final = 80
#: Numbers issued from 2032 may have a first check digit 1, 2 or 3 above the classic one (mod 11):
#: Skatteetaten's "nytt fødselsnummer fra 2032". The second check digit is computed as before.
#: Accepting these now is safe: the classic rule is the first of the four.
FIRST_CHECK_DIGIT_STEPS: Final = range(4)


def norwegian_person_number(value: str) -> str:
    """The compact 11-digit fødselsnummer or D-nummer (or a synthetic test number).

    python-stdnum 2.2's `fodselsnummer.validate` is not used as a whole: it knows only the
    classic check digit rule (not the 2032 one), rejects synthetic numbers (it subtracts 40
    from the month, so month + 80 is no date), accepts H-numbers (month + 40, for internal
    use in health care, never for payroll), derives the century from the individual number
    (meaningless from 2032) and reads the clock ("not born yet"). Its compact form and check
    digit functions are used.
    """
    number = fodselsnummer.compact(value)
    if len(number) != 11 or not isdigits(number):
        raise ValueError("must be 11 digits")
    if not _check_digits_match(number):
        raise ValueError("check digits do not match")
    if not _has_birth_date(number):
        raise ValueError("does not start with a valid date of birth")
    return number


def _check_digits_match(number: str) -> bool:
    classic = int(fodselsnummer.calc_check_digit1(number))  # 10 when no classic digit fits
    allowed = {str((classic + step) % 11) for step in FIRST_CHECK_DIGIT_STEPS}
    return number[9] in allowed and number[10] == fodselsnummer.calc_check_digit2(number)


def _has_birth_date(number: str) -> bool:
    day, month, year = int(number[0:2]), int(number[2:4]), int(number[4:6])
    if day > D_NUMBER_DAY_OFFSET:
        day -= D_NUMBER_DAY_OFFSET
    if month > SYNTHETIC_MONTH_OFFSET:
        month -= SYNTHETIC_MONTH_OFFSET
    # The century cannot be told from numbers issued from 2032, so any year ending in these two
    # digits will do: 2000-2099 holds a leap year for every two digits that ever have one.
    try:
        datetime.date(2000 + year, month, day)
    except ValueError:
        return False
    return True


def norwegian_account(value: str) -> str:
    """The compact 11-digit Norwegian account number (mod 11); 7-digit postgiro is refused."""
    try:
        number = kontonr.validate(value)
    except ValidationError:
        raise ValueError("is not a valid Norwegian account number (11 digits)") from None
    if len(number) != 11:  # stdnum also accepts old 7-digit postgiro numbers
        raise ValueError("is not a valid Norwegian account number (11 digits)")
    return number


def iban(value: str) -> str:
    """The compact IBAN (checksum and the country's length and format checked)."""
    try:
        return str(_iban.validate(value))
    except ValidationError:
        raise ValueError("is not a valid IBAN") from None


def bic(value: str) -> str:
    """The compact, upper-case BIC (8 or 11 characters)."""
    try:
        return str(_bic.validate(value))
    except ValidationError:
        raise ValueError("is not a valid BIC") from None


def country_alpha2(value: str) -> str:
    """The ISO 3166-1 alpha-2 code, upper case; names and alpha-3 codes are refused."""
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("is not an ISO 3166 alpha-2 country code")
    return code


def employee_id(employee_number: str) -> int:
    """The 24SevenOffice empId of a Simployer One employee number: the same number.

    Only ASCII digits (str.isdigit also takes superscripts), no leading zero and at most
    `PAYROLL_EMP_ID_MAX`: empId is an integer, so "0001" would be stored as employee 1 and
    no longer be told apart from "1"; refusing it makes someone fix the number instead.
    """
    number = employee_number.strip()
    if not (number.isascii() and number.isdigit()):
        raise ValueError("must be numeric: 24SevenOffice uses it as the employee id")
    if number.startswith("0"):
        raise ValueError(
            "must not start with 0: 24SevenOffice keeps the employee id as a number, "
            "so the leading zeros would be lost"
        )
    if int(number) > PAYROLL_EMP_ID_MAX:
        raise ValueError(f"must be at most {PAYROLL_EMP_ID_MAX} (24SevenOffice's largest id)")
    return int(number)


def payroll_key(employee_number: str) -> str | None:
    """The empId 24SevenOffice shows for an employee number, None when it has none
    (`employee_id` refuses it)."""
    try:
        return str(employee_id(employee_number))
    except ValueError:
        return None


def person_key(value: str | None) -> str | None:
    """A person number as either system holds it, reduced for matching: without spaces, dots
    and dashes ("160243 01269" is "16024301269"); None unless that is 11 ASCII digits (payroll
    may hold "just birth date" in `personnr`, which identifies nobody). Check digits are not
    checked: a number payroll holds is matched as it is."""
    compact = _SEPARATORS.sub("", value or "")
    return compact if len(compact) == 11 and compact.isascii() and compact.isdigit() else None

"""The identifier rules: what is accepted, its compact form, and messages without the value."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from stdnum.no import fodselsnummer

from payroll_sync.rules.identifiers import (
    bic,
    country_alpha2,
    employee_id,
    iban,
    norwegian_account,
    norwegian_person_number,
    payroll_key,
    person_key,
)


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        pytest.param("15108695088", "15108695088", id="fodselsnummer"),
        pytest.param("151086 95088", "15108695088", id="with-space"),
        pytest.param(" 151086-95088 ", "15108695088", id="with-dash-and-padding"),
        pytest.param("55108695071", "55108695071", id="d-nummer"),
        pytest.param("15908695043", "15908695043", id="synthetic-month-plus-80"),
        pytest.param("55908695037", "55908695037", id="synthetic-d-nummer"),
        pytest.param("15108695096", "15108695096", id="2032-rule-first-digit-plus-1"),
        pytest.param("15108695002", "15108695002", id="2032-rule-first-digit-wraps"),
        pytest.param("01014560013", "01014560013", id="2032-century-not-in-individual-number"),
        pytest.param("29020050088", "29020050088", id="29-february-of-a-leap-year"),
    ],
)
def test_person_numbers_accepted(value: str, compact: str) -> None:
    assert norwegian_person_number(value) == compact


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("15108695077", id="first-check-digit"),
        pytest.param("15108695089", id="second-check-digit"),
        pytest.param("1510869508", id="ten-digits"),
        pytest.param("151086950888", id="twelve-digits"),
        pytest.param("1510869508A", id="letter"),
        pytest.param("", id="empty"),
        pytest.param("15508695060", id="h-nummer-month-plus-40"),
        pytest.param("15408695012", id="month-40"),
        pytest.param("81108695048", id="fh-nummer"),
        pytest.param("31028695015", id="31-february"),
        pytest.param("29020150007", id="29-february-of-a-common-year"),
        pytest.param("00000000000", id="zeros"),
    ],
)
def test_person_numbers_refused_without_the_value(value: str) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        norwegian_person_number(value)
    if value:
        assert value not in str(caught.value)


def test_stdnum_alone_would_refuse_synthetic_and_2032_numbers() -> None:
    # Why the rule is ours: python-stdnum 2.2 knows neither (a canary for a future upgrade).
    assert not fodselsnummer.is_valid("15908695043")
    assert not fodselsnummer.is_valid("15108695096")
    assert fodselsnummer.is_valid("15508695060")  # and it accepts H-numbers, which we refuse


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("86011117947", "86011117947"),
        ("8601.11.17947", "86011117947"),
        ("8601 11 17947", "86011117947"),
    ],
)
def test_norwegian_accounts_accepted(value: str, compact: str) -> None:
    assert norwegian_account(value) == compact


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("86011117949", id="checksum"),
        pytest.param("0000.4090403", id="postgiro-with-bank-code"),
        pytest.param("4090403", id="postgiro-seven-digits"),
        pytest.param("860111179", id="too-short"),
        pytest.param("8601111794X", id="letter"),
        pytest.param("", id="empty"),
    ],
)
def test_norwegian_accounts_refused(value: str) -> None:
    with pytest.raises(ValueError, match="Norwegian account") as caught:
        norwegian_account(value)
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "compact"),
    [
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89370400440532013000", "DE89370400440532013000"),
        ("NO93 8601 1117 947", "NO9386011117947"),
    ],
)
def test_ibans_accepted(value: str, compact: str) -> None:
    assert iban(value) == compact


@pytest.mark.parametrize(
    "value", ["DE89370400440532013001", "XX89370400440532013000", "NO938601111794", ""]
)
def test_ibans_refused(value: str) -> None:
    with pytest.raises(ValueError, match="IBAN") as caught:
        iban(value)
    if value:
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "compact"),
    [("DEUTDEFF", "DEUTDEFF"), ("deutdeffxxx", "DEUTDEFFXXX"), ("ESSE SESS", "ESSESESS")],
)
def test_bics_accepted(value: str, compact: str) -> None:
    assert bic(value) == compact


@pytest.mark.parametrize("value", ["DEUT1EFF", "DEUTDE", "DEUTXXFF", "DEUTDEFFXX", ""])
def test_bics_refused(value: str) -> None:
    with pytest.raises(ValueError, match="BIC"):
        bic(value)


@pytest.mark.parametrize(("value", "code"), [("NO", "NO"), ("no", "NO"), (" se ", "SE")])
def test_country_codes_accepted(value: str, code: str) -> None:
    assert country_alpha2(value) == code


@pytest.mark.parametrize("value", ["NOR", "Norway", "XX", "N0", "", "578"])
def test_country_codes_refused(value: str) -> None:
    with pytest.raises(ValueError, match="alpha-2"):
        country_alpha2(value)


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (norwegian_person_number, "15108695089"),
        (norwegian_account, "86011117949"),
        (iban, "DE89370400440532013001"),
    ],
)
def test_no_exception_in_the_chain_carries_the_value(
    check: Callable[[str], str], value: str
) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        check(value)
    # `from None`: stdnum's own exception is not chained into logs either.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# ------------------------------------------------------------------ employee numbers (issue 13)


@pytest.mark.parametrize(
    ("number", "emp_id"), [("1", 1), (" 1024 ", 1024), ("2147483647", 2_147_483_647)]
)
def test_employee_numbers_are_the_emp_id(number: str, emp_id: int) -> None:
    assert employee_id(number) == emp_id
    assert payroll_key(number) == str(emp_id)


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("0001", "must not start with 0"),  # was silently empId 1
        ("0", "must not start with 0"),
        ("²", "must be numeric"),  # str.isdigit takes it; int() does not
        ("١٢", "must be numeric"),
        ("12a", "must be numeric"),
        ("", "must be numeric"),
        ("2147483648", "must be at most"),
    ],
)
def test_employee_numbers_without_an_emp_id(number: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        employee_id(number)
    assert payroll_key(number) is None


@pytest.mark.parametrize(
    ("held", "key"),
    [
        ("16024301269", "16024301269"),
        (" 160243 01269", "16024301269"),
        ("160243-01269", "16024301269"),
        ("160243", None),  # "just birth date": nobody in particular
        ("", None),
        (None, None),
        ("1602430126X", None),
        ("160243012690", None),
    ],
)
def test_person_key_matches_the_number_however_it_is_written(
    held: str | None, key: str | None
) -> None:
    assert person_key(held) == key

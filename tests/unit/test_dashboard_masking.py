"""How the dashboard shows diff values: a table of fields and values to what is shown."""

from __future__ import annotations

import msgspec
import pytest

from payroll_sync.dashboard.masking import (
    EMPLOYMENT,
    FIELD_KINDS,
    FieldKind,
    api_change,
    field_kind,
    mask_identifier,
    mask_last4,
    mask_plain,
    shown_change,
)
from payroll_sync.schemas.outcomes import FieldChange
from payroll_sync.schemas.payroll import AbsenceWrite, EmployeeWrite, EmploymentWrite


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("20059800850", "•••••••0850"),
        ("2005 98 00850", "•••••••0850"),  # separators dropped, not counted
        ("6011.46.39071", "•••••••9071"),
        ("NO9386011117947", "•••••••••••7947"),
        ("12345", "•2345"),
        ("1234", "••••"),  # 4 or fewer: masked whole, else it would be shown whole
        ("12", "••"),
        ("", ""),
    ],
)
def test_mask_last4(value: str, shown: str) -> None:
    assert mask_last4(value) == shown


def test_international_id_keeps_its_type_and_country_but_masks_the_number() -> None:
    value = '{"countryCode":"NO","ID":"20059800850","type":"socialSecurityNumber"}'
    assert mask_identifier(value) == "NO •••••••0850 socialSecurityNumber"
    assert mask_identifier("{not json") == mask_last4("{not json")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("Nora", "Nora"),
        ("2024-08-29", "2024-08-29"),
        ("note 20059800850 here", "note •••••••0850 here"),
        ("6011 46 39071", "•••••••9071"),
        ("123456789012", "123456789012"),  # 12 digits: not the shape of an identifier
    ],
)
def test_plain_values_still_never_show_an_identifier(value: str, shown: str) -> None:
    assert mask_plain(value) == shown


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("personnr", "last4"),
        ("account", "last4"),
        ("internationalID", "last4"),
        ("clearingno", "last4"),
        ("salary", "hidden"),
        ("postaddress", "hidden"),
        ("zipcode", "hidden"),
        ("city", "hidden"),
        ("comment", "hidden"),
        ("firstname", "plain"),
        ("salary_type", "plain"),
        ("employment.employment_rate", "plain"),
        ("employment.startdate", "plain"),
        ("startDate", "plain"),
        ("somethingNew", "last4"),  # unknown: masked until someone decides
        ("employment.somethingNew", "last4"),
    ],
)
def test_field_kinds(field: str, kind: FieldKind) -> None:
    assert field_kind(field) == kind


@pytest.mark.parametrize(
    ("struct", "prefix"),
    [(EmployeeWrite, ""), (EmploymentWrite, EMPLOYMENT), (AbsenceWrite, "")],
)
def test_every_field_we_write_has_a_kind(struct: type[msgspec.Struct], prefix: str) -> None:
    """A new write field must be classified on purpose (else it is masked as an identifier)."""
    names = {prefix + info.encode_name for info in msgspec.structs.fields(struct)}
    assert names - set(FIELD_KINDS) == set()


def test_shown_change_masks_identifiers_and_keeps_hidden_values_for_the_details() -> None:
    assert shown_change(FieldChange(field="personnr", old="", new="20059800850")).new == (
        "•••••••0850"
    )
    assert shown_change(FieldChange(field="account", old="86014494725", new="60114639071")).old == (
        "•••••••4725"
    )
    salary = shown_change(FieldChange(field="salary", old="41000.00", new="42000.00"))
    assert (salary.kind, salary.old, salary.new) == ("hidden", "41000.00", "42000.00")
    name = shown_change(FieldChange(field="lastname", old="Hansen", new="Berg"))
    assert (name.kind, name.old, name.new) == ("plain", "Hansen", "Berg")


def test_the_api_leaves_hidden_values_out_and_masks_identifiers() -> None:
    def api(field: str, old: str, new: str) -> dict[str, object]:
        return api_change(shown_change(FieldChange(field=field, old=old, new=new)))

    assert api("salary", "41000.00", "42000.00") == {"field": "salary", "hidden": True}
    assert api("personnr", "", "20059800850") == {
        "field": "personnr",
        "old": "",
        "new": "•••••••0850",
    }
    assert api("lastname", "Hansen", "Berg") == {
        "field": "lastname",
        "old": "Hansen",
        "new": "Berg",
    }

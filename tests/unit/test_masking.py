"""`schemas.masking.mask_diff`: what a diff may hold when it is stored with an outcome."""

from __future__ import annotations

import re
from typing import Final

from hypothesis import given
from hypothesis import strategies as st

from payroll_sync.dashboard.masking import shown_change
from payroll_sync.schemas.masking import FIELD_KINDS, WITHHELD, mask_change, mask_diff
from payroll_sync.schemas.outcomes import FieldChange

SSN: Final = "20059800850"
ACCOUNT: Final = "60114639071"
ELEVEN_DIGITS: Final = re.compile(r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)")


def test_a_stored_diff_holds_only_what_the_dashboard_shows() -> None:
    diff = [
        FieldChange(field="personnr", old="", new=SSN),
        FieldChange(field="internationalID", old="", new=f'{{"countryCode":"NO","ID":"{SSN}"}}'),
        FieldChange(field="account", old="86014494725", new=ACCOUNT),
        FieldChange(field="salary", old="41000.00", new="42000.00"),
        FieldChange(field="postaddress", old="", new="Dronningens gate 92"),
        FieldChange(field="comment", old="sykmeldt", new=""),
        FieldChange(field="lastname", old="Hansen", new="Berg"),
        FieldChange(field="email", old="", new=f"{SSN}@example.no"),
        FieldChange(field="somethingNew", old="", new="ABCDEFGH1234"),
    ]
    assert mask_diff(diff) == [
        FieldChange(field="personnr", old="", new="•••••••0850"),
        FieldChange(field="internationalID", old="", new="NO •••••••0850"),
        FieldChange(field="account", old="•••••••4725", new="•••••••9071"),
        FieldChange(field="salary", old=WITHHELD, new=WITHHELD),
        FieldChange(field="postaddress", old="", new=WITHHELD),
        FieldChange(field="comment", old=WITHHELD, new=""),
        FieldChange(field="lastname", old="Hansen", new="Berg"),
        FieldChange(field="email", old="", new="•••••••0850@example.no"),
        FieldChange(field="somethingNew", old="", new="••••••••1234"),
    ]


def test_the_dashboard_shows_a_stored_diff_as_it_showed_the_original() -> None:
    """Masking twice (the worker, then the page) shows what masking once did."""
    for field in ("personnr", "account", "internationalID", "lastname", "somethingNew"):
        for value in (SSN, "6011.46.39071", f'{{"countryCode":"NO","ID":"{SSN}"}}', "Berg", ""):
            change = FieldChange(field=field, old="", new=value)
            assert shown_change(mask_change(change)) == shown_change(change), (field, value)


_FIELDS: Final = st.sampled_from([*FIELD_KINDS, "unknownField", "employment.unknown"])
_VALUES: Final = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789 .-", max_size=30),
    st.from_regex(r"\A[0-9]{11}\Z"),
    st.from_regex(r'\A\{"countryCode":"NO","ID":"[0-9]{11}"\}\Z'),
)
_CHANGES: Final = st.builds(FieldChange, field=_FIELDS, old=_VALUES, new=_VALUES)


@given(st.lists(_CHANGES, max_size=8))
def test_masking_is_idempotent_and_leaves_no_identifier(diff: list[FieldChange]) -> None:
    once = mask_diff(diff)
    assert mask_diff(once) == once
    assert [change.field for change in once] == [change.field for change in diff]
    for change in once:
        for value in (change.old, change.new):
            assert not ELEVEN_DIGITS.search(value), change
            if FIELD_KINDS.get(change.field) == "hidden":
                assert value in ("", WITHHELD)

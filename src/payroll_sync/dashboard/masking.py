"""How the dashboard shows the values of a record's diff. Pure.

The rule itself (which field is an identifier, which is hidden, what an identifier looks like)
is `schemas.masking`, shared with the worker, which stores diffs already masked. Here only the
page's and the API's shapes:
- `plain` and `last4` values are shown masked by that rule;
- `hidden` values (salary, address, free text) are shown only when the operator expands them
  (the page puts them inside a collapsed `<details>`; the JSON API leaves them out). Diffs
  stored since masking moved to the worker hold `•••` for them; older ones are shown through
  the 11-digit safety net.
"""

from __future__ import annotations

import msgspec

from payroll_sync.schemas.masking import (
    EMPLOYMENT,
    FIELD_KINDS,
    MASK_CHAR,
    SHOWN_DIGITS,
    FieldKind,
    field_kind,
    mask_identifier,
    mask_last4,
    mask_plain,
    mask_value,
)
from payroll_sync.schemas.outcomes import FieldChange

__all__ = [
    "EMPLOYMENT",
    "FIELD_KINDS",
    "MASK_CHAR",
    "SHOWN_DIGITS",
    "FieldKind",
    "ShownChange",
    "api_change",
    "field_kind",
    "mask_identifier",
    "mask_last4",
    "mask_plain",
    "shown_change",
]


class ShownChange(msgspec.Struct, kw_only=True, frozen=True):
    """One diff entry as a page shows it: `old` and `new` already masked unless `hidden`."""

    field: str
    kind: FieldKind
    old: str
    new: str


def shown_change(change: FieldChange) -> ShownChange:
    # Hidden values are shown only when expanded, and even then never a whole identifier.
    return ShownChange(
        field=change.field,
        kind=field_kind(change.field),
        old=mask_value(change.field, change.old),
        new=mask_value(change.field, change.new),
    )


def api_change(shown: ShownChange) -> dict[str, object]:
    """A diff entry for the JSON API: masked like the page, and hidden values left out."""
    if shown.kind == "hidden":
        return {"field": shown.field, "hidden": True}
    return {"field": shown.field, "old": shown.old, "new": shown.new}

"""Which 24SevenOffice absence code a Simployer One leave type exports as (SPEC "Absence sync").

Pure. Precedence: (1) the integration's override for the leave type, by id, else by name;
(2) the leave type's own `leaveTypeCode.code` when it is a 24SevenOffice code; (3) the default
table by leave type name; (4) no code, which the worker turns into `skipped`.

Decisions:
- Override keys: an id matches exactly (surrounding whitespace ignored); a name matches
  case-insensitively with surrounding whitespace ignored. An id key wins over a name key. If
  several keys spell the same name in different case, the one written exactly like the leave
  type's name wins, else the first in the settings' order.
- A code written as a number is read as one and given two digits ("1", "001" -> "01"), since
  customers type payroll codes by hand; anything else is upper-cased and stripped. A code that
  is then not one of the 24SevenOffice codes (e.g. "99") is ignored and the table decides.
- Reasons name the leave type (customer-defined, never personal data) but never echo the
  customer's own code text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, NamedTuple

from payroll_sync.schemas import simployer
from payroll_sync.schemas.absence_codes import ABSENCE_CODES, KNOWN_CODES

__all__ = ["CodeChoice", "CodeSource", "choose_code", "normalise_code"]

CodeSource = Literal["override", "leave_type", "default_table"]

# Leave type name (casefolded) -> code, from the one table in schemas/absence_codes.py.
DEFAULT_TABLE: Final[dict[str, str]] = {
    row.leave_type.casefold(): row.code for row in ABSENCE_CODES
}


class CodeChoice(NamedTuple):
    """The code a leave type exports as (None: it does not), where it came from, and why."""

    code: str | None
    source: CodeSource | None
    reason: str


def normalise_code(value: str | None) -> str:
    """A code as 24SevenOffice spells it: numbers with (at least) two digits, else upper case."""
    raw = (value or "").strip()
    if raw.isascii() and raw.isdigit():
        return f"{int(raw):02d}"
    return raw.upper()


def _name_key(name: str) -> str:
    return name.strip().casefold()


def _override(leave_type: simployer.LeaveType, overrides: Mapping[str, str]) -> str | None:
    for key, code in overrides.items():
        if key.strip() == leave_type.id:
            return code
    wanted = _name_key(leave_type.name)
    by_name = [(key, code) for key, code in overrides.items() if _name_key(key) == wanted]
    for key, code in by_name:
        if key.strip() == leave_type.name.strip():
            return code
    return by_name[0][1] if by_name else None


def choose_code(
    leave_type: simployer.LeaveType, type_code: str | None, overrides: Mapping[str, str]
) -> CodeChoice:
    """The 24SevenOffice absence code for `leave_type` (SPEC precedence), or code None."""
    name = leave_type.name.strip()
    override = _override(leave_type, overrides)
    if override is not None:
        code = normalise_code(override)
        return CodeChoice(code, "override", f"integration override for leave type {name}: {code}")
    own = normalise_code(type_code)
    if own in KNOWN_CODES:
        return CodeChoice(own, "leave_type", f"leave type {name} has code {own}")
    # The customer's own code is not one of 24SevenOffice's: say so, the table may still help.
    ignored = " (its leaveTypeCode is not a 24SevenOffice code)" if own else ""
    table = DEFAULT_TABLE.get(_name_key(name))
    if table is not None:
        return CodeChoice(
            table, "default_table", f"default code {table} for leave type {name}{ignored}"
        )
    return CodeChoice(None, None, f"no 24SevenOffice code for leave type {name}{ignored}")

"""The integration pages' forms, read and filled. Pure.

A settings form becomes the very body the wizard API takes (`PUT /api/v1/integrations/{id}`)
and goes through the same decoder (`wizard.payload.decode_integration`), so a wrong value is
refused naming the same field (`scope.exclude[0]`, `schedule.times[1]`,
`absences.overrides."Long leave"`). The form's field names are those paths: `simployer_url`,
`scope.offices`, `schedule.weekdays`, `absences.overrides`, ... The form holds the whole
`[integrations.ID]` table, so what it sends is what is stored.

Tokens are write-only: a blank token field keeps the stored one, and `FormValues` (what a form
is filled with) has no place for a token at all.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, get_args

import msgspec

from payroll_sync.errors import json_path, reword
from payroll_sync.registry.records import TokensUpdate
from payroll_sync.schemas.absence_codes import ABSENCE_CODES
from payroll_sync.schemas.messages import IntegrationId, SyncRequest
from payroll_sync.schemas.settings import Integration, Weekday
from payroll_sync.schemas.words import SCHEMA_WORDING
from payroll_sync.wizard.payload import decode_integration

WEEKDAYS: Final[tuple[str, ...]] = get_args(Weekday)
# Lists typed into one text field: "1001, 1002 1003" (commas, spaces or new lines).
_SEPARATORS: Final = re.compile(r"[\s,;]+")
# Paths as the API names them: `period.from`, `employees[0]`.
_FORM_WORDING: Final = dataclasses.replace(
    SCHEMA_WORDING, name=lambda parts: json_path(parts) or "form"
)


class FormError(ValueError):
    """A form value is wrong; the message names the field as the API would."""


class FormValues(msgspec.Struct, kw_only=True):
    """What a settings form shows: text as typed. No token, ever."""

    id: str = ""
    simployer_url: str = ""
    payroll_url: str = ""
    rate_limit_per_second: str = "10"
    rate_limit_burst: str = ""
    simployer_rate_limit_per_second: str = ""
    departments: list[str] = msgspec.field(default_factory=list)
    offices: list[str] = msgspec.field(default_factory=list)
    test_group: str = ""
    exclude: str = ""
    absence_codes: list[str] = msgspec.field(default_factory=list)
    # One `leave type = code` per line.
    absence_overrides: str = ""
    schedule_enabled: bool = False
    weekdays: list[str] = msgspec.field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    times: str = "06:00"
    schedule_employees: bool = True
    schedule_absences: bool = False
    absence_days_back: str = "31"
    absence_days_ahead: str = "31"


def values_of(integration_id: str, settings: Integration) -> FormValues:
    """The form filled from stored settings."""
    return FormValues(
        id=integration_id,
        simployer_url=settings.simployer_url,
        payroll_url=settings.payroll_url,
        rate_limit_per_second=_number(settings.rate_limit_per_second),
        rate_limit_burst=str(settings.rate_limit_burst or ""),
        simployer_rate_limit_per_second=_number(settings.simployer_rate_limit_per_second),
        departments=list(settings.scope.departments),
        offices=list(settings.scope.offices),
        test_group=", ".join(settings.scope.employees),
        exclude=", ".join(settings.scope.exclude),
        absence_codes=list(settings.absences.codes),
        absence_overrides=overrides_text(settings.absences.overrides),
        schedule_enabled=settings.schedule.enabled,
        weekdays=list(settings.schedule.weekdays),
        times=", ".join(settings.schedule.times),
        schedule_employees=settings.schedule.employees,
        schedule_absences=settings.schedule.absences,
        absence_days_back=str(settings.schedule.absence_days_back),
        absence_days_ahead=str(settings.schedule.absence_days_ahead),
    )


def values_from_form(form: Mapping[str, Sequence[str]]) -> FormValues:
    """The form as it was sent (to show it again beside its error); tokens are not kept."""
    return FormValues(
        id=_one(form, "id"),
        simployer_url=_one(form, "simployer_url"),
        payroll_url=_one(form, "payroll_url"),
        rate_limit_per_second=_one(form, "rate_limit_per_second"),
        rate_limit_burst=_one(form, "rate_limit_burst"),
        simployer_rate_limit_per_second=_one(form, "simployer_rate_limit_per_second"),
        departments=list(form.get("scope.departments", [])),
        offices=list(form.get("scope.offices", [])),
        test_group=_one(form, "scope.employees"),
        exclude=_one(form, "scope.exclude"),
        absence_codes=_codes(form),
        absence_overrides=_one(form, "absences.overrides"),
        schedule_enabled=bool(_one(form, "schedule.enabled")),
        weekdays=list(form.get("schedule.weekdays", [])),
        times=_one(form, "schedule.times"),
        schedule_employees=bool(_one(form, "schedule.employees")),
        schedule_absences=bool(_one(form, "schedule.absences")),
        absence_days_back=_one(form, "schedule.absence_days_back"),
        absence_days_ahead=_one(form, "schedule.absence_days_ahead"),
    )


def code_boxes(chosen: Sequence[str]) -> list[dict[str, object]]:
    """The absence code checkboxes: 24SevenOffice's known codes, then any chosen code it does
    not know (only a hand-made request sends one; shown so the error beside it makes sense)."""
    known = {row.code for row in ABSENCE_CODES}
    boxes: list[dict[str, object]] = [
        {"code": row.code, "name": row.payroll_name, "checked": row.code in chosen}
        for row in ABSENCE_CODES
    ]
    boxes += [
        {"code": code, "name": "unknown to 24SevenOffice", "checked": True}
        for code in chosen
        if code not in known
    ]
    return boxes


def overrides_text(overrides: Mapping[str, str]) -> str:
    """The overrides as the textarea shows them: one `leave type = code` per line."""
    return "\n".join(f"{name} = {code}" for name, code in overrides.items())


def parse_overrides(text: str) -> dict[str, str]:
    """`leave type = code` lines (blank lines skipped) -> the overrides table; FormError naming
    `absences.overrides` and the line. The codes are checked by the decoder, which names the
    leave type (`absences.overrides."Long leave"`)."""
    overrides: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        # The last "=": a leave type's name may hold one, a code never does.
        name, equals, code = line.rpartition("=")
        name = name.strip()
        if not equals or not name:
            raise FormError(f"absences.overrides: line {number}: expected 'leave type = code'")
        if name in overrides:
            raise FormError(f"absences.overrides: line {number}: {name!r} is given twice")
        overrides[name] = code.strip()
    return overrides


def settings_body(form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The API body the form stands for: the whole `[integrations.ID]` table (a blank number
    takes its default). FormError for an overrides line that is no `leave type = code`."""
    body: dict[str, Any] = {
        "simployer_url": _one(form, "simployer_url"),
        "payroll_url": _one(form, "payroll_url"),
        "rate_limit_per_second": _numeric(_one(form, "rate_limit_per_second")),
    }
    for name in ("rate_limit_burst", "simployer_rate_limit_per_second"):
        text = _one(form, name)
        if text:
            body[name] = _numeric(text)
    body["scope"] = {
        "departments": [value for value in form.get("scope.departments", []) if value],
        "offices": [value for value in form.get("scope.offices", []) if value],
        "employees": split_list(_one(form, "scope.employees")),
        "exclude": split_list(_one(form, "scope.exclude")),
    }
    body["absences"] = {
        "codes": _codes(form),
        "overrides": parse_overrides(_one(form, "absences.overrides")),
    }
    schedule: dict[str, Any] = {
        "enabled": bool(_one(form, "schedule.enabled")),
        "weekdays": list(form.get("schedule.weekdays", [])),
        "times": split_list(_one(form, "schedule.times")),
        "employees": bool(_one(form, "schedule.employees")),
        "absences": bool(_one(form, "schedule.absences")),
    }
    for name in ("absence_days_back", "absence_days_ahead"):
        text = _one(form, f"schedule.{name}")
        if text.strip():  # blank: the default
            schedule[name] = _numeric(text)
    body["schedule"] = schedule
    for name in ("simployer_token", "payroll_token"):
        token = _one(form, name)
        if token.strip():  # blank: keep the stored one
            body[name] = token
    return body


def decode_settings(form: Mapping[str, Sequence[str]]) -> tuple[Integration, TokensUpdate]:
    """The settings and new tokens of a sent form; `BadIntegration` (or `FormError`) naming the
    field."""
    return decode_integration(msgspec.json.encode(settings_body(form)))


def new_id(form: Mapping[str, Sequence[str]]) -> str:
    """The id a new integration is given; FormError naming `id`."""
    text = _one(form, "id").strip()
    try:
        return msgspec.convert(text, IntegrationId)
    except msgspec.ValidationError:
        raise FormError(
            "id: expected 1 to 64 letters, digits, '-' or '_', beginning with a letter or digit"
        ) from None


# ------------------------------------------------------------------ export absences


class ExportValues(msgspec.Struct, kw_only=True):
    """The Export absences form as typed."""

    start: str = ""
    end: str = ""
    employees: str = ""
    codes: str = ""


def export_values(form: Mapping[str, Sequence[str]]) -> ExportValues:
    return ExportValues(
        start=_one(form, "from"),
        end=_one(form, "to"),
        employees=_one(form, "employees"),
        codes=_one(form, "codes"),
    )


def default_period(today: datetime.date) -> ExportValues:
    """This month, as a first guess."""
    first = today.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return ExportValues(
        start=first.isoformat(), end=(following - datetime.timedelta(days=1)).isoformat()
    )


def export_request(integration_id: str, values: ExportValues, *, dry_run: bool) -> SyncRequest:
    """The absence sync the form asks for (trigger manual); FormError naming the field
    (`period.from`, `employees[0]`, `codes`)."""
    employees = split_list(values.employees)
    codes = split_list(values.codes)
    raw = {
        "integration": integration_id,
        "kind": "absences",
        "trigger": "manual",
        "dry_run": dry_run,
        "period": {"from": values.start.strip(), "to": values.end.strip()},
        "employees": employees or None,
        "codes": codes or None,
    }
    try:
        return msgspec.convert(raw, SyncRequest)
    except msgspec.ValidationError as error:
        raise FormError(reword(str(error), _FORM_WORDING)) from None


# ------------------------------------------------------------------ helpers


def split_list(text: str) -> list[str]:
    return [part for part in _SEPARATORS.split(text.strip()) if part]


def _codes(form: Mapping[str, Sequence[str]]) -> list[str]:
    # Checkboxes, one value each; a hand-made request may type several into one.
    return [code for value in form.get("absences.codes", []) for code in split_list(value)]


def _one(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = form.get(name)
    return values[0] if values else ""


def _numeric(text: str) -> object:
    """A number when the text is one; else the text, for the decoder to refuse by name."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)

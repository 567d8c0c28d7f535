"""Simployer One's list query language, as a pure function over stored rows.

As published: `limit`, `offset`, `select` and `relations` as comma-separated lists
(`relations=employment,compensation`: form style, not exploded), `sort[field]=asc|desc` and
`filters[field][$op]=value` with `$eq $neq $gt $gte $lt $lte $in[] $nin[] $between[]`
(`filters[field]=v` is `$eq`). The exploded form `relations[]=a` is refused, so a client that
relies on it fails here rather than against the real API. Rows are dicts in the API's shape; a
bad query raises `QueryError` with a message that names the parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import msgspec
from msgspec import inspect

from payroll_sync.assumptions import (
    SIMPLOYER_DEFAULT_LIMIT,
    SIMPLOYER_FILTERABLE,
    SIMPLOYER_MAX_LIMIT,
    SIMPLOYER_RELATIONS,
)
from payroll_sync.simulators.simployer_published import RESOURCES, TABLES

Row = dict[str, object]
Kind = Literal["bool", "number", "text", "object"]
OPERATORS = ("$eq", "$neq", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$between")
_LIST_OPERATORS = {"$in", "$nin", "$between"}
_FILTER_KEY = re.compile(r"^filters\[([^\]\[]+)\](?:\[([^\]\[]+)\])?(\[\])?$")
_SORT_KEY = re.compile(r"^sort\[([^\]\[]+)\]$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class QueryError(ValueError):
    """A malformed query; the message names the offending parameter."""


@dataclass(frozen=True)
class Filter:
    field: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    limit: int = SIMPLOYER_DEFAULT_LIMIT
    offset: int = 0
    select: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()  # (field, descending)
    filters: tuple[Filter, ...] = field(default_factory=tuple)


def _kind_of(type_info: inspect.Type) -> Kind:
    if isinstance(type_info, inspect.UnionType):
        kinds = {_kind_of(t) for t in type_info.types if not isinstance(t, inspect.NoneType)}
        return kinds.pop() if len(kinds) == 1 else "object"
    if isinstance(type_info, inspect.BoolType):
        return "bool"
    if isinstance(type_info, (inspect.IntType, inspect.FloatType)):
        return "number"
    if isinstance(type_info, (inspect.StrType, inspect.LiteralType)):
        return "text"
    return "object"


def _struct_of(type_info: inspect.Type) -> inspect.StructType | None:
    if isinstance(type_info, inspect.UnionType):
        structs = [t for t in type_info.types if isinstance(t, inspect.StructType)]
        return structs[0] if structs else None
    return type_info if isinstance(type_info, inspect.StructType) else None


def _field_kinds(struct: type[msgspec.Struct]) -> dict[str, Kind]:
    """API field name -> kind, with one level of dotted paths into nested objects."""
    info = inspect.type_info(struct)
    assert isinstance(info, inspect.StructType)
    kinds: dict[str, Kind] = {}
    for f in info.fields:
        kinds[f.encode_name] = _kind_of(f.type)
        nested = _struct_of(f.type)
        if nested is not None:
            for sub in nested.fields:
                kinds[f"{f.encode_name}.{sub.encode_name}"] = _kind_of(sub.type)
    return kinds


FIELD_KINDS: dict[str, dict[str, Kind]] = {name: _field_kinds(TABLES[name]) for name in RESOURCES}


def _int_param(name: str, raw: str, low: int, high: int | None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise QueryError(f"{name} must be {bound}, got {value}")
    return value


def parse_query(resource: str, params: Iterable[tuple[str, str]]) -> Query:
    """Parse the query string pairs of `GET /v1/<resource>`."""
    kinds = FIELD_KINDS[resource]
    relations_known = SIMPLOYER_RELATIONS.get(resource, {})
    limit, offset = SIMPLOYER_DEFAULT_LIMIT, 0
    select: list[str] = []
    relations: list[str] = []
    sort: list[tuple[str, bool]] = []
    filter_values: dict[tuple[str, str], list[str]] = {}
    for key, value in params:
        if key == "limit":
            limit = _int_param("limit", value, 1, SIMPLOYER_MAX_LIMIT)
        elif key == "offset":
            offset = _int_param("offset", value, 0, None)
        elif key in ("select[]", "relations[]"):
            raise QueryError(
                f"{key}: send {key[:-2]}=a,b (one parameter, comma-separated), as published"
            )
        elif key == "select":
            for name in _listed(key, value):
                if name not in kinds:
                    raise QueryError(f"select: unknown field {name!r} on {resource}")
                select.append(name)
        elif key == "relations":
            for name in _listed(key, value):
                if name not in relations_known:
                    known = ", ".join(sorted(relations_known)) or "none"
                    raise QueryError(
                        f"relations: unknown relation {name!r} on {resource} (known: {known})"
                    )
                relations.append(name)
        elif match := _SORT_KEY.match(key):
            name = match.group(1)
            if name not in kinds:
                raise QueryError(f"{key}: unknown field {name!r} on {resource}")
            if kinds[name] == "object":
                raise QueryError(f"{key}: field {name!r} cannot be sorted")
            if value not in ("asc", "desc"):
                raise QueryError(f"{key} must be asc or desc, got {value!r}")
            sort.append((name, value == "desc"))
        elif match := _FILTER_KEY.match(key):
            name, op, brackets = match.group(1), match.group(2) or "$eq", match.group(3)
            if name not in kinds:
                raise QueryError(f"{key}: unknown field {name!r} on {resource}")
            if op not in OPERATORS:
                raise QueryError(f"{key}: unknown operator {op!r} (known: {', '.join(OPERATORS)})")
            if brackets and op not in _LIST_OPERATORS:
                raise QueryError(f"{key}: {op} takes one value, not a list")
            if kinds[name] == "object" or name not in SIMPLOYER_FILTERABLE.get(resource, kinds):
                raise QueryError(f"{key}: field {name!r} cannot be filtered")
            _coerce(kinds[name], value, key)  # refuse a bad value even when no row matches
            filter_values.setdefault((name, op), []).append(value)
        else:
            raise QueryError(f"unknown query parameter {key!r}")
    filters = []
    for (name, op), values in filter_values.items():
        if op == "$between" and len(values) != 2:
            raise QueryError(f"filters[{name}][$between][] needs exactly two values")
        if op not in _LIST_OPERATORS and len(values) != 1:
            raise QueryError(f"filters[{name}][{op}] given more than once")
        filters.append(Filter(name, op, tuple(values)))
    return Query(limit, offset, tuple(select), tuple(relations), tuple(sort), tuple(filters))


def _listed(key: str, value: str) -> list[str]:
    names = [name.strip() for name in value.split(",")]
    if not all(names):
        raise QueryError(f"{key}: empty name in {value!r} (expected a comma-separated list)")
    return names


def _as_time(text: str) -> datetime | None:
    if not _ISO_DATE.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _coerce(kind: Kind, raw: str, key: str) -> object:
    if raw == "null":
        return None
    if kind == "bool":
        if raw.lower() in ("true", "1"):
            return True
        if raw.lower() in ("false", "0"):
            return False
        raise QueryError(f"{key}: expected true or false, got {raw!r}")
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise QueryError(f"{key}: expected a number, got {raw!r}") from None
    return raw


def _comparable(value: object) -> object:
    """Order dates by time, not by text, so `2024-08-01` and `...T00:00:00.000Z` compare."""
    if isinstance(value, str):
        as_time = _as_time(value)
        if as_time is not None:
            return as_time
    if isinstance(value, bool):
        return int(value)
    return value


def lookup(row: Mapping[str, object], name: str) -> object:
    head, _, tail = name.partition(".")
    value = row.get(head)
    if tail:
        return value.get(tail) if isinstance(value, Mapping) else None
    return value


def _order(a: object, b: object) -> int | None:
    """-1, 0 or 1 as a is below, equal to or above b; None when they cannot be compared."""
    try:
        if a == b:
            return 0
        return -1 if a < b else 1  # type: ignore[operator]
    except TypeError:  # e.g. a date against plain text: no match rather than a crash
        return None


_RANGE_TESTS: dict[str, Callable[[list[int | None]], bool]] = {
    "$gt": lambda o: o[0] == 1,
    "$gte": lambda o: o[0] in (0, 1),
    "$lt": lambda o: o[0] == -1,
    "$lte": lambda o: o[0] in (-1, 0),
    "$between": lambda o: o[0] in (0, 1) and o[1] in (-1, 0),
}


def _predicate(kind: Kind, flt: Filter) -> Callable[[Row], bool]:
    """A row test for one filter; the wanted values are converted once, not once per row."""
    wanted = [_comparable(_coerce(kind, v, flt.field)) for v in flt.values]
    name, op = flt.field, flt.op

    def have(row: Row) -> object:
        return _comparable(lookup(row, name))

    if op == "$eq":
        return lambda row: have(row) == wanted[0]
    if op == "$neq":
        return lambda row: have(row) != wanted[0]
    if op in ("$in", "$nin"):
        inside = op == "$in"
        return lambda row: (have(row) in wanted) is inside
    if any(w is None for w in wanted):
        return lambda row: False
    test = _RANGE_TESTS[op]

    def in_range(row: Row) -> bool:
        value = have(row)
        return value is not None and test([_order(value, w) for w in wanted])

    return in_range


def _sort_key(value: object) -> tuple[int, Any]:
    """Dates before numbers before text, so a column that mixes them still sorts."""
    comparable = _comparable(value)
    if isinstance(comparable, datetime):
        return (0, comparable)
    if isinstance(comparable, int | float):
        return (1, comparable)
    return (2, str(comparable))


def _sort_rows(rows: list[Row], sort: Sequence[tuple[str, bool]]) -> list[Row]:
    for name, descending in reversed(sort):  # stable sorts, last key first
        present = [r for r in rows if lookup(r, name) is not None]
        absent = [r for r in rows if lookup(r, name) is None]
        present.sort(key=lambda r: _sort_key(lookup(r, name)), reverse=descending)
        rows = absent + present if not descending else present + absent
    return rows


def _project(row: Row, select: Sequence[str]) -> Row:
    if not select:
        return row
    fields = {"id", *(name.partition(".")[0] for name in select)}
    return {k: v for k, v in row.items() if k in fields}


def related_rows(
    resource: str,
    rows: Sequence[Row],
    relations: Sequence[str],
    tables: Mapping[str, Sequence[Row]],
) -> dict[str, list[Row]]:
    """`relations.<name>`: the rows of each asked relation that belong to `rows`."""
    out: dict[str, list[Row]] = {}
    for name in relations:
        target, local, remote = SIMPLOYER_RELATIONS[resource][name]
        keys = {row.get(local) for row in rows} - {None}
        out[name] = [] if target is None else [r for r in tables[target] if r.get(remote) in keys]
    return out


Index = Mapping[object, Sequence[int]]
#: (resource, field) -> positions in the table by the field's comparable value.
IndexLookup = Callable[[str, str], Index]


def build_index(rows: Sequence[Row], name: str) -> dict[object, list[int]]:
    index: dict[object, list[int]] = {}
    for position, row in enumerate(rows):
        index.setdefault(_comparable(lookup(row, name)), []).append(position)
    return index


def _candidates(
    resource: str, query: Query, tables: Mapping[str, Sequence[Row]], indexes: IndexLookup | None
) -> Sequence[Row]:
    """The rows an `$eq`/`$in` filter can match, via an index, instead of the whole table."""
    if indexes is None:
        return tables[resource]
    kinds = FIELD_KINDS[resource]
    for flt in query.filters:
        if flt.op in ("$eq", "$in"):
            index = indexes(resource, flt.field)
            keys = {_comparable(_coerce(kinds[flt.field], v, flt.field)) for v in flt.values}
            positions = sorted({p for key in keys for p in index.get(key, ())})
            return [tables[resource][p] for p in positions]
    return tables[resource]


def run_query(
    resource: str,
    query: Query,
    tables: Mapping[str, Sequence[Row]],
    indexes: IndexLookup | None = None,
) -> dict[str, object]:
    """The list body of `GET /v1/<resource>` for a parsed query."""
    kinds = FIELD_KINDS[resource]
    tests = [_predicate(kinds[f.field], f) for f in query.filters]
    candidates = _candidates(resource, query, tables, indexes)
    rows = [row for row in candidates if all(test(row) for test in tests)]
    if query.sort:
        rows = _sort_rows(rows, query.sort)
    page = rows[query.offset : query.offset + query.limit]
    return {
        "status": "ok",
        "data": [_project(row, query.select) for row in page],
        "total": len(rows),
        "count": len(page),
        "offset": query.offset,
        "relations": related_rows(resource, page, query.relations, tables),
    }


#: Relations the published single-row answer gives as one object, not a list: the published
#: example of `GET /leave-type/{id}` has `relations.leaveTypeCode` as an object.
SINGLE_ROW_OBJECTS: Final = frozenset({("leave-type", "leaveTypeCode")})


def run_get_one(
    resource: str, row: Row, query: Query, tables: Mapping[str, Sequence[Row]]
) -> dict[str, object]:
    """The body of `GET /v1/<resource>/<id>`."""
    related: dict[str, object] = {}
    for name, rows in related_rows(resource, [row], query.relations, tables).items():
        one = (resource, name) in SINGLE_ROW_OBJECTS
        related[name] = (rows[0] if rows else None) if one else rows
    return {"status": "ok", "data": _project(row, query.select), "relations": related}

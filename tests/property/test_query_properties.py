"""Properties of Simployer One's query language that must hold for any data."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from payroll_sync.simulators.simployer_query import Row, parse_query, run_query


def _departments(names: list[str]) -> dict[str, list[Row]]:
    rows: list[Row] = [
        {"id": f"d{i}", "name": name, "parentId": None} for i, name in enumerate(names)
    ]
    return {"department": rows}


names = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=4), max_size=250)


@settings(max_examples=60, deadline=None)
@given(names=names, limit=st.integers(1, 100), sort=st.sampled_from(["", "asc", "desc"]))
def test_paging_returns_every_row_exactly_once(names: list[str], limit: int, sort: str) -> None:
    tables = _departments(names)
    seen: list[object] = []
    offset = 0
    while True:
        params = [("limit", str(limit)), ("offset", str(offset))]
        if sort:
            params.append(("sort[name]", sort))
        body = run_query("department", parse_query("department", params), tables)
        assert body["total"] == len(names)
        page = body["data"]
        assert isinstance(page, list)
        seen.extend(row["id"] for row in page)
        offset += len(page)
        if not page:
            break
    assert sorted(map(str, seen)) == sorted(f"d{i}" for i in range(len(names)))


def _ids(params: list[tuple[str, str]], tables: dict[str, list[Row]]) -> set[str]:
    query = parse_query("department", [*params, ("limit", "100")])
    data = run_query("department", query, tables)["data"]
    assert isinstance(data, list)
    return {str(row["id"]) for row in data}


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=100),
    chosen=st.lists(st.sampled_from(["a", "b", "c", "x"]), min_size=1, max_size=3),
)
def test_in_and_nin_partition_the_rows(names: list[str], chosen: list[str]) -> None:
    tables = _departments(names)
    inside = _ids([("filters[name][$in][]", v) for v in chosen], tables)
    outside = _ids([("filters[name][$nin][]", v) for v in chosen], tables)
    assert inside.isdisjoint(outside)
    assert inside | outside == {f"d{i}" for i in range(len(names))}


@settings(max_examples=60, deadline=None)
@given(
    names=st.lists(st.text(alphabet="abc", min_size=1, max_size=3), max_size=100),
    low=st.text(alphabet="abc", min_size=1, max_size=3),
    high=st.text(alphabet="abc", min_size=1, max_size=3),
)
def test_between_is_gte_and_lte(names: list[str], low: str, high: str) -> None:
    tables = _departments(names)
    between = _ids(
        [("filters[name][$between][]", low), ("filters[name][$between][]", high)], tables
    )
    both = _ids([("filters[name][$gte]", low), ("filters[name][$lte]", high)], tables)
    assert between == both

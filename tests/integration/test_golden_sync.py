"""The same company gives the same outcomes and the same 24SevenOffice state as the capture made
before the client read the published APIs (see `golden_sync`)."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
import pytest

from tests.integration.conftest import StartSimulators
from tests.integration.golden_sync import (
    GOLDEN,
    capture_day_tables,
    options,
    run_both,
    with_unknown_fields,
)
from tests.support.simulator_admin import put_simployer_state, simployer_rows

pytestmark = pytest.mark.integration


def _differences(want: Any, got: Any, path: str = "$") -> list[str]:
    """Where two captures differ, as paths (the first few are enough to see what changed)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}.{k}: missing" for k in want if k not in got]
        out += [f"{path}.{k}: unexpected" for k in got if k not in want]
        for key in want.keys() & got.keys():
            out += _differences(want[key], got[key], f"{path}.{key}")
        return out
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        return [
            d
            for i, (w, g) in enumerate(zip(want, got, strict=True))
            for d in _differences(w, g, f"{path}[{i}]")
        ]
    return [] if want == got else [f"{path}: {want!r} != {got!r}"]


@pytest.mark.parametrize("unknown_fields", [False, True], ids=["published", "unknown-fields"])
async def test_published_api_gives_the_golden_outcomes_and_payroll_state(
    start_simulators: StartSimulators, unknown_fields: bool
) -> None:
    """Full published rows, the published query style, empty POST answers, replace on update;
    with `unknown-fields`, every row also
    carries 20 fields nobody has published (nested ones too). The outcomes and the payroll
    company are those captured before the client read the published APIs."""
    # Today's data carried the sick child and the grade on each leave: served here as fields
    # beyond the published leave, which the client uses when present.
    # 24SevenOffice answers POSTs with an empty body and replaces a record on update (fields
    # left out are cleared): our writes must be right under that reading of its docs too.
    sims = start_simulators(
        **vars(options(payroll_post_answer="empty", payroll_update_mode="replace"))
    )
    tables = capture_day_tables(datetime.date.today())
    await put_simployer_state(sims, with_unknown_fields(tables) if unknown_fields else tables)
    if unknown_fields:
        served = msgspec.json.decode(await simployer_rows(sims))
        assert served["employee"][0]["notYetPublished6"] == {"deep": {"er": [None]}}
    got = msgspec.json.decode(msgspec.json.encode(await run_both(sims)))
    want = msgspec.json.decode(GOLDEN.read_bytes())
    assert _differences(want, got)[:20] == []

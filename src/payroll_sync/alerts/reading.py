"""The runs the rules look at, read in a bounded window: one pass costs a few pipelined round
trips whatever the number of integrations, not a scan of the runs kept (30 days).

Read: the runs created in the window (`P:runs` by creation time), plus each integration's
latest run of each kind (`P:lastrun:I`), so a run held for approval longer than the window is
still seen. Each run is one HMGET of the fields the rules need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Final, get_args

import redis.asyncio as aioredis

from payroll_sync.runs.encoding import text
from payroll_sync.runs.keys import Keys
from payroll_sync.schemas.messages import SyncKind
from payroll_sync.schemas.outcomes import OUTCOMES, Run

_FIELDS: Final = (
    "id",
    "integration",
    "kind",
    "trigger",
    "dry_run",
    "status",
    "created_at",
    "finished_at",
    "error",
    "total",
    *OUTCOMES,
)


def _run(values: Sequence[bytes | str | None]) -> Run | None:
    fields = {name: text(value) for name, value in zip(_FIELDS, values, strict=True) if value}
    if "id" not in fields or "integration" not in fields:
        return None  # expired meanwhile
    return Run(
        id=fields["id"],
        integration=fields["integration"],
        kind=fields.get("kind", "employees"),  # type: ignore[arg-type]
        trigger=fields.get("trigger", "manual"),  # type: ignore[arg-type]
        dry_run=fields.get("dry_run") == "1",
        status=fields.get("status", "queued"),  # type: ignore[arg-type]
        created_at=float(fields.get("created_at", 0)),
        finished_at=float(fields.get("finished_at", 0)),
        error=fields.get("error", ""),
        total=int(fields.get("total", 0)),
        counts={name: int(fields.get(name, 0)) for name in OUTCOMES},
    )


async def recent_runs(
    redis: aioredis.Redis, keys: Keys, integrations: Sequence[str], *, since: float
) -> dict[str, list[Run]]:
    """integration -> its runs created since `since`, and its latest of each kind."""
    kinds = list(get_args(SyncKind))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zrangebyscore(keys.runs(), since, "+inf")
        for integration in integrations:
            pipe.hmget(keys.last_run(integration), kinds)
        answers = await pipe.execute()
    ids = {text(run_id) for run_id in answers[0]}
    for latest in answers[1:]:
        ids.update(text(run_id) for run_id in latest if run_id)
    ordered = sorted(ids)
    async with redis.pipeline(transaction=False) as pipe:
        for run_id in ordered:
            pipe.hmget(keys.run(run_id), list(_FIELDS))
        rows = await pipe.execute()
    wanted = set(integrations)
    found: dict[str, list[Run]] = defaultdict(list)
    for row in rows:
        run = _run(row)
        if run is not None and run.integration in wanted:
            found[run.integration].append(run)
    return {integration: found.get(integration, []) for integration in integrations}

"""A run as plain text for the terminal: the counts and every record that needs attention."""

from __future__ import annotations

import time
from collections.abc import Sequence

from payroll_sync.schemas.outcomes import OUTCOMES, RecordOutcome, Run


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def run_summary(run: Run, outcomes: Sequence[RecordOutcome]) -> str:
    seconds = (run.finished_at or time.time()) - run.created_at
    noun = "leaves" if run.kind == "absences" else "employees"
    period = f"  period {run.period}" if run.period else ""
    lines = [
        f"run {run.id}  integration {run.integration}  {run.kind}{period}  {run.status}"
        f"{'  (dry run)' if run.dry_run else ''}  {run.total} {noun} in {seconds:.1f} s",
        "",
        format_table(["outcome", noun], [[n, str(run.counts.get(n, 0))] for n in OUTCOMES]),
    ]
    needs_attention = [item for item in outcomes if item.outcome in ("failed", "skipped")]
    if needs_attention:
        leave = ["leave"] if run.kind == "absences" else []
        lines += [
            "",
            format_table(
                ["employee", *leave, "outcome", "field", "reason"],
                [
                    [
                        item.employee_number,
                        *([item.leave_id] if leave else []),
                        item.outcome,
                        item.field or "-",
                        item.reason,
                    ]
                    for item in needs_attention
                ],
            ),
        ]
    return "\n".join(lines)

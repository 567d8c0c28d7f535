"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Sequence

from payroll_sync.runs.summary import format_table


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    print(format_table(header, rows))

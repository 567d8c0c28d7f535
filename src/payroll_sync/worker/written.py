"""What we last wrote to one integration's employees, as the worker's `WrittenPort`.

The digests of an employee's fields are read with the record's other state when it is taken up
(`RunStore.begin`, one round trip): `known` holds them, and only a record taken up without them
reads Redis here.
"""

from __future__ import annotations

from collections.abc import Mapping

from payroll_sync.runs.written import WrittenValues


class RememberedWrites:
    """One integration's `WrittenValues`, by 24SevenOffice empId.

    `known`: empId text -> the digests already read (field -> digest; empty: none remembered).
    """

    def __init__(
        self,
        written: WrittenValues,
        integration: str,
        *,
        known: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._written = written
        self._integration = integration
        self._known = {emp_id: dict(digests) for emp_id, digests in (known or {}).items()}

    async def remembered(self, emp_id: int) -> Mapping[str, str]:
        key = str(emp_id)
        if key not in self._known:
            # Taken up without its digests (none asked for): one read of them all.
            self._known[key] = await self._written.everything(self._integration, key)
        return self._known[key]

    async def digests(self, values: Mapping[str, str]) -> dict[str, str]:
        return await self._written.digests(values)

    async def remember(self, emp_id: int, values: Mapping[str, str]) -> None:
        await self._written.remember(self._integration, str(emp_id), values)
        self._known.pop(str(emp_id), None)

"""What we last wrote to one integration's employees, as the worker's `WrittenPort`.

Whether anything is remembered for an employee is read with the record's other state when it
is taken up (`RunStore.begin`, one round trip): `known` holds those counts, so an unchanged
record asks Redis nothing more. The digests themselves are read only by dry runs (drift).
"""

from __future__ import annotations

from collections.abc import Mapping

from payroll_sync.runs.written import WrittenValues


class RememberedWrites:
    """One integration's `WrittenValues`, by 24SevenOffice empId.

    `known`: empId text -> how many fields are remembered for it, as read with the record.
    """

    def __init__(
        self,
        written: WrittenValues,
        integration: str,
        *,
        known: Mapping[str, int] | None = None,
    ) -> None:
        self._written = written
        self._integration = integration
        self._known = dict(known or {})

    async def anything(self, emp_id: int) -> bool:
        key = str(emp_id)
        if key in self._known:
            return self._known[key] > 0
        return bool(await self.remembered(emp_id))

    async def remembered(self, emp_id: int) -> Mapping[str, str]:
        return await self._written.everything(self._integration, str(emp_id))

    async def digests(self, values: Mapping[str, str]) -> dict[str, str]:
        return await self._written.digests(values)

    async def remember(self, emp_id: int, values: Mapping[str, str]) -> None:
        await self._written.remember(self._integration, str(emp_id), values)
        self._known.pop(str(emp_id), None)

"""The producer's 24SevenOffice bulk reads, each call retried alone on a transient fault.

A worker retries a whole record; the producer must not restart a whole sync request because one
of its reads met a 503 (SPEC "Reading the two APIs"), so each call is retried here with the
same policy as the Simployer One pages (connectors/retrying.py). A 429 also pushes the
integration's shared 24SevenOffice limit back, so the workers hold off too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from payroll_sync.connectors.payroll import PayrollClient
from payroll_sync.connectors.ratelimit import SharedRateLimiter
from payroll_sync.connectors.retrying import OnRetry, ReadRetry, retried
from payroll_sync.errors import RateLimited, Retryable
from payroll_sync.producer.payroll_index import PayrollEmployees
from payroll_sync.schemas import payroll

T = TypeVar("T")


class RetriedPayroll:
    """What the expansions read of 24SevenOffice (`PayrollSource`), retried per call."""

    def __init__(
        self,
        client: PayrollClient,
        policy: ReadRetry,
        *,
        limiter: SharedRateLimiter,
        key: str,
        on_retry: OnRetry | None = None,
    ) -> None:
        self._client = client
        self._policy = policy
        self._limiter = limiter
        self._key = key
        self._on_retry = on_retry

    async def _heard(self, error: Retryable, attempt: int, wait: float) -> None:
        if isinstance(error, RateLimited):
            await self._limiter.penalise(self._key, wait)
        if self._on_retry is not None:
            await self._on_retry(error, attempt, wait)

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await retried(call, self._policy, on_retry=self._heard)

    async def list_employees(self) -> list[payroll.Employee]:
        return await self._call(self._client.list_employees)

    async def employees_by_id(self) -> Mapping[str, payroll.Employee]:
        """Every employee by empId, each row decoded when looked up (producer/payroll_index.py)."""
        return PayrollEmployees(await self._call(self._client.list_employees_body))

    async def list_all_absences(self) -> list[payroll.Absence]:
        return await self._call(self._client.list_all_absences)

    async def absence_types(self) -> list[payroll.AbsenceType]:
        return await self._call(self._client.absence_types)

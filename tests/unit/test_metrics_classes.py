"""The answer class of a request: a status or a missing answer to one of a few fixed words."""

from __future__ import annotations

import aiohttp
import pytest

from payroll_sync.metrics.classes import ANSWER_CLASSES, answer_class, no_answer_class


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, "2xx"),
        (201, "2xx"),
        (204, "2xx"),
        (301, "3xx"),
        (400, "4xx"),
        (401, "4xx"),
        (404, "4xx"),
        (409, "4xx"),
        (429, "429"),
        (500, "5xx"),
        (503, "5xx"),
        (599, "5xx"),
        (100, "other"),
        (600, "other"),
        (0, "other"),
    ],
)
def test_a_status_falls_in_its_class(status: int, expected: str) -> None:
    assert answer_class(status) == expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TimeoutError(), "timeout"),
        (aiohttp.ServerTimeoutError("read"), "timeout"),
        (aiohttp.ServerDisconnectedError(), "connection_error"),
        (aiohttp.ClientPayloadError("cut short"), "connection_error"),
        (ConnectionResetError(), "connection_error"),
    ],
)
def test_no_answer_is_a_timeout_or_a_connection_error(error: BaseException, expected: str) -> None:
    assert no_answer_class(error) == expected


def test_every_class_is_listed() -> None:
    made = {answer_class(status) for status in range(0, 700)}
    made |= {no_answer_class(TimeoutError()), no_answer_class(OSError())}
    assert made == set(ANSWER_CLASSES)

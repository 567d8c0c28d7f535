"""The connection check's wording of each way a side can fail (pure; the real exchanges with the
simulators are in tests/integration/test_intake_integrations.py)."""

from __future__ import annotations

import aiohttp
import msgspec
import pytest

from payroll_sync.connectors.answers import Api, classify, network_error, unexpected_answer
from payroll_sync.errors import SyncError
from payroll_sync.wizard.check import did_not_answer, host_of, place_of, side_reason

URL = "https://user:secret@api.example.com:8443/v1"


def _answer(status: int, api: Api = "simployer", body: bytes = b"{}") -> SyncError:
    error = classify(status, {}, body, api=api, what="read employees")
    assert error is not None
    return error


def _unexpected() -> SyncError:
    try:
        msgspec.json.decode(b'["x"]', type=list[int])
    except msgspec.ValidationError as exc:
        return unexpected_answer(exc, api="payroll", what="read absence types")
    raise AssertionError("decoded")


@pytest.mark.parametrize(
    ("api", "error", "reason"),
    [
        pytest.param(
            "payroll",
            _answer(401, "payroll"),
            "24SevenOffice refused the token (HTTP 401); check payroll_token",
            id="401",
        ),
        pytest.param(
            "simployer",
            _answer(403),
            "Simployer One refused the token (HTTP 403); check simployer_token",
            id="403",
        ),
        pytest.param(
            "simployer",
            _answer(404),
            "Simployer One was not found at api.example.com:8443/v1 (HTTP 404); check "
            "simployer_url",
            id="404-wrong-url",
        ),
        pytest.param(
            "payroll",
            _answer(503, "payroll"),
            "24SevenOffice is not working right now (HTTP 503); try again later",
            id="5xx",
        ),
        pytest.param(
            "simployer",
            _answer(429),
            "Simployer One is busy (rate limit, HTTP 429); try again shortly",
            id="429",
        ),
        pytest.param(
            "payroll",
            network_error(aiohttp.ClientConnectionError(), api="payroll", what="token exchange"),
            "24SevenOffice did not answer at api.example.com:8443 (no connection); check "
            "payroll_url",
            id="no-connection-names-the-host-only",
        ),
        pytest.param(
            "simployer",
            _answer(400),
            "Simployer One gave an unexpected answer (Simployer One refused read employees "
            "(HTTP 400)); check simployer_url",
            id="other-4xx",
        ),
        pytest.param(
            "payroll",
            _unexpected(),
            "24SevenOffice gave an unexpected answer (24SevenOffice answered read absence types "
            "in an unexpected shape at $[0]); check payroll_url",
            id="wrong-shape",
        ),
    ],
)
def test_each_failure_in_words(api: Api, error: SyncError, reason: str) -> None:
    assert side_reason(api, error, URL) == reason


def test_no_answer_in_time_names_the_deadline_and_host() -> None:
    assert did_not_answer("simployer", URL, 10.0) == (
        "Simployer One did not answer within 10 s at api.example.com:8443"
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:9/v1", "127.0.0.1:9"),
        ("https://payroll.example.com/api", "payroll.example.com"),
        (URL, "api.example.com:8443"),
    ],
)
def test_host_of_leaves_out_path_and_user_info(url: str, host: str) -> None:
    assert host_of(url) == host
    assert "secret" not in place_of(url)


def test_classify_keeps_the_status_it_read() -> None:
    assert _answer(418).status == 418
    assert network_error(TimeoutError(), api="payroll", what="x").status is None

"""The simulators' knobs: token bucket, settings validation, Retry-After, fault draws."""

from __future__ import annotations

import pytest

from payroll_sync.simulators.controls import (
    Controls,
    Settings,
    SettingsPatch,
    TokenBucket,
    apply_patch,
    retry_after_header,
)


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    bucket = TokenBucket(rate=4.0, burst=3)  # times chosen to be exact binary fractions
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == 0.25
    assert bucket.take(100.125) == 0.125  # half a token back after 125 ms
    assert bucket.take(100.25) == 0.0
    assert bucket.take(200.0) == 0.0  # long idle: full again, but never above the burst
    assert [bucket.take(200.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take(200.0) > 0


@pytest.mark.parametrize(
    ("wait", "header"), [(0.01, "1"), (0.5, "1"), (1.0, "1"), (1.01, "2"), (7.2, "8")]
)
def test_retry_after_rounds_up_to_whole_seconds(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header


def test_patch_changes_only_what_it_sets() -> None:
    base = Settings(tokens=["a"], latency_ms=30)
    patched = apply_patch(base, SettingsPatch(error_rate=0.2, error_statuses=[503]))
    assert patched.error_rate == 0.2
    assert patched.error_statuses == [503]
    assert patched.latency_ms == 30
    assert patched.tokens == ["a"]


@pytest.mark.parametrize(
    ("patch", "words"),
    [
        (SettingsPatch(error_rate=1.5), "error_rate"),
        (SettingsPatch(drop_rate=-0.1), "drop_rate"),
        (SettingsPatch(error_rate=0.6, timeout_rate=0.6), "must not exceed 1"),
        (SettingsPatch(rate_limit_burst=0), "rate_limit_burst"),
        (SettingsPatch(error_statuses=[404]), "5xx"),
        (SettingsPatch(error_statuses=[]), "error_statuses"),
    ],
)
def test_nonsense_settings_are_refused(patch: SettingsPatch, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        apply_patch(Settings(tokens=[]), patch)


def test_fault_draws_follow_the_shares() -> None:
    controls = Controls(
        settings=Settings(tokens=[], error_rate=0.1, drop_rate=0.2, timeout_rate=0.3),
        api_prefix="/api",
    )
    controls.rng.seed(7)
    draws = [controls.draw_fault() for _ in range(20_000)]
    for fault, share in [("error", 0.1), ("drop", 0.2), ("timeout", 0.3), (None, 0.4)]:
        assert draws.count(fault) / len(draws) == pytest.approx(share, abs=0.015)


def test_no_rate_limit_means_no_wait() -> None:
    controls = Controls(settings=Settings(tokens=[], rate_limit_per_second=0), api_prefix="")
    assert all(controls.wait_for("t") == 0 for _ in range(1000))


def test_each_key_has_its_own_bucket() -> None:
    controls = Controls(
        settings=Settings(tokens=[], rate_limit_per_second=1, rate_limit_burst=1), api_prefix=""
    )
    assert controls.wait_for("a") == 0
    assert controls.wait_for("a") > 0
    assert controls.wait_for("b") == 0

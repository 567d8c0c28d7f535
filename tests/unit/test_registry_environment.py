"""`DATABASE_URL` in the process environment: unset or empty means the settings file is the
source."""

from __future__ import annotations

import pytest

from payroll_sync.config import environment


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_database_url_is_none(value: str | None) -> None:
    env = {} if value is None else {"DATABASE_URL": value}
    assert environment(env).database_url is None


def test_a_database_url_is_taken_trimmed() -> None:
    url = "postgresql://payroll@db:5432/payroll_sync"
    assert environment({"DATABASE_URL": f" {url}\n"}).database_url == url

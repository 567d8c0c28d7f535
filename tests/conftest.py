"""Suite-wide checks.

No token the tests hand to our processes may rest in any file a test wrote: every process's log
lands under pytest's base temporary directory, which is searched for them once the last test is
done (tests/support/leaks.py). A hit fails the session's last test at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.leaks import files_holding_tokens


@pytest.fixture(scope="session", autouse=True)
def no_token_in_any_file_a_test_wrote(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    yield
    found = files_holding_tokens(tmp_path_factory.getbasetemp())
    assert not found, f"tokens in files the suite wrote: {found}"

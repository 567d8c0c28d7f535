"""Tokens the tests hand to our processes, remembered so that the suite can look for them, at
its end, in every file a test wrote (tests/conftest.py): the processes' logs all land under
pytest's base temporary directory."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Final

from payroll_sync.simulators.serve import SimulatorOptions

#: The simulators' default tokens: nearly every integration test's processes hold them.
_remembered: Final[set[str]] = {
    SimulatorOptions.simployer_token,
    SimulatorOptions.payroll_token,
}
#: Files larger than this are not read (no log of the suite comes near it).
MAX_BYTES: Final = 64 * 2**20


def remember(*tokens: str) -> None:
    _remembered.update(tokens)


def minted(label: str) -> str:
    """A fresh random token (only this run's can match), remembered."""
    token = f"{label}-{secrets.token_hex(16)}"
    remember(token)
    return token


def files_holding_tokens(folder: Path) -> list[str]:
    """`path: which token` for every file under `folder` holding a remembered token; the
    token itself is never named (the report may be printed)."""
    found: list[str] = []
    tokens = sorted(_remembered)
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.stat().st_size > MAX_BYTES:
            continue
        text = path.read_bytes()
        found += [
            f"{path.relative_to(folder)}: remembered token #{index}"
            for index, token in enumerate(tokens)
            if token.encode() in text
        ]
    return found

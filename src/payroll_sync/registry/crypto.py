"""Tokens encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) under one
or more keys from `PAYROLL_SYNC_SECRET_KEY`.

Several keys make rotation possible: the first key encrypts, every key decrypts (MultiFernet).
Errors name the variable and the key's position, never a key, a token or a ciphertext.
"""

from __future__ import annotations

import re
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from payroll_sync.config import SECRET_KEY_VAR
from payroll_sync.errors import ConfigError

__all__ = ["TokenCipher", "UndecryptableToken", "new_key", "parse_keys"]

_SEPARATORS: Final = re.compile(r"[\s,]+")


class UndecryptableToken(ConfigError):
    """A stored token that no key of `PAYROLL_SYNC_SECRET_KEY` decrypts."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, url-safe base64), for `payroll-sync new-key`."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(value: str) -> list[Fernet]:
    """The keys in `value` (separated by commas or whitespace), first one first."""
    texts = [text for text in _SEPARATORS.split(value) if text]
    if not texts:
        raise ConfigError(f"{SECRET_KEY_VAR} holds no key (make one with `payroll-sync new-key`)")
    keys: list[Fernet] = []
    for position, text in enumerate(texts, start=1):
        try:
            keys.append(Fernet(text.encode("ascii")))
        except (ValueError, UnicodeEncodeError):
            # Fernet's own message is harmless, but nothing of the value is repeated anyway.
            raise ConfigError(
                f"{SECRET_KEY_VAR}: key {position} of {len(texts)} is not a Fernet key "
                "(32 bytes in url-safe base64; make one with `payroll-sync new-key`)"
            ) from None
    return keys


class TokenCipher:
    """Encrypts with the first key of `PAYROLL_SYNC_SECRET_KEY`, decrypts with any of them."""

    def __init__(self, secret_keys: str) -> None:
        self._fernet = MultiFernet(parse_keys(secret_keys))

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str, *, what: str) -> str:
        """The token; `what` (e.g. "integration acme: payroll_token") names it in the error."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise UndecryptableToken(_undecryptable(what)) from None

    def rotate(self, ciphertext: str, *, what: str) -> str:
        """The same token encrypted under the first key (for `payroll-sync rotate-key`)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise UndecryptableToken(_undecryptable(what)) from None


def _undecryptable(what: str) -> str:
    return (
        f"{what}: no key in {SECRET_KEY_VAR} decrypts this token; put back the key it was "
        f"written with (next to the new one) and run `payroll-sync rotate-key`, or store the "
        f"token again"
    )

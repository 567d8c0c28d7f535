"""Tokens under one or more Fernet keys: the first encrypts, all decrypt; bad keys and tokens no
key decrypts are refused naming the variable, never repeating a key, a token or a ciphertext."""

from __future__ import annotations

import pytest

from payroll_sync.config import SECRET_KEY_VAR, secret_keys
from payroll_sync.errors import ConfigError
from payroll_sync.registry.crypto import TokenCipher, UndecryptableToken, new_key, parse_keys

TOKEN = "s1mployer-token-\u00e6\u00f8\u00e5-123"


def test_a_token_comes_back_and_is_not_in_its_ciphertext() -> None:
    cipher = TokenCipher(new_key())
    sealed = cipher.encrypt(TOKEN)
    assert TOKEN not in sealed
    assert cipher.decrypt(sealed, what="t") == TOKEN
    # Fernet is randomised: the same token twice gives two ciphertexts.
    assert cipher.encrypt(TOKEN) != sealed


@pytest.mark.parametrize("separator", [",", " ", "\n", " , "])
def test_several_keys_the_first_encrypts_all_decrypt(separator: str) -> None:
    old, new = new_key(), new_key()
    sealed_old = TokenCipher(old).encrypt(TOKEN)
    both = TokenCipher(f"{new}{separator}{old}")
    assert both.decrypt(sealed_old, what="t") == TOKEN
    sealed_new = both.encrypt(TOKEN)
    # Written under the first key only: the old key alone cannot read it, the new one can.
    assert TokenCipher(new).decrypt(sealed_new, what="t") == TOKEN
    with pytest.raises(UndecryptableToken):
        TokenCipher(old).decrypt(sealed_new, what="t")


def test_rotate_re_encrypts_under_the_first_key() -> None:
    old, new = new_key(), new_key()
    sealed = TokenCipher(old).encrypt(TOKEN)
    rotated = TokenCipher(f"{new},{old}").rotate(sealed, what="t")
    assert TokenCipher(new).decrypt(rotated, what="t") == TOKEN


def test_a_token_no_key_decrypts_names_the_variable_and_rotate_key() -> None:
    sealed = TokenCipher(new_key()).encrypt(TOKEN)
    with pytest.raises(ConfigError) as caught:
        TokenCipher(new_key()).decrypt(sealed, what="integration acme: payroll_token")
    message = str(caught.value)
    assert "integration acme: payroll_token" in message
    assert SECRET_KEY_VAR in message
    assert "rotate-key" in message
    assert sealed not in message
    assert TOKEN not in message


def test_garbage_in_the_column_is_refused_like_a_wrong_key() -> None:
    with pytest.raises(UndecryptableToken):
        TokenCipher(new_key()).decrypt("not-a-fernet-token", what="t")


@pytest.mark.parametrize(
    "value",
    [
        "short",
        "x" * 44,
        "\u00e6" * 44,
        # The second of two is wrong.
        f"{new_key()},{'A' * 43}",
    ],
)
def test_a_malformed_key_names_the_variable_not_the_value(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_keys(value)
    message = str(caught.value)
    assert SECRET_KEY_VAR in message
    for part in value.split(","):
        assert part not in message


def test_the_position_of_the_bad_key_is_said() -> None:
    with pytest.raises(ConfigError, match="key 2 of 2"):
        parse_keys(f"{new_key()} nonsense")


@pytest.mark.parametrize("value", ["", " , ,\n"])
def test_no_key_at_all_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=SECRET_KEY_VAR):
        parse_keys(value)


def test_the_variable_unset_or_empty_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=SECRET_KEY_VAR):
        secret_keys({})
    with pytest.raises(ConfigError, match=SECRET_KEY_VAR):
        secret_keys({SECRET_KEY_VAR: "  "})
    key = new_key()
    assert secret_keys({SECRET_KEY_VAR: f" {key}\n"}) == key


def test_the_cipher_repr_shows_no_key() -> None:
    key = new_key()
    assert key not in repr(TokenCipher(key))

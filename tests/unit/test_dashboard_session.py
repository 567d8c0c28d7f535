"""Session cookies, CSRF tokens, token comparison and the after-login redirect. Pure."""

from __future__ import annotations

import base64

import msgspec
import pytest

from payroll_sync.dashboard.session import (
    ANONYMOUS_SECONDS,
    SESSION_SECONDS,
    Session,
    csrf_ok,
    decode_session,
    encode_session,
    new_session,
    safe_next,
    tokens_equal,
)

NOW = 1_800_000_000.0
SECRET = b"s" * 32


def test_a_session_survives_the_round_trip() -> None:
    session = new_session(authenticated=True, now=NOW)
    assert session.expires == NOW + SESSION_SECONDS
    assert new_session(authenticated=False, now=NOW).expires == NOW + ANONYMOUS_SECONDS
    assert decode_session(encode_session(session, SECRET), SECRET, now=NOW + 1) == session


def test_each_session_has_its_own_id_and_csrf_token() -> None:
    first, second = (new_session(authenticated=True, now=NOW) for _ in range(2))
    assert first.sid != second.sid
    assert first.csrf != second.csrf
    assert len(first.csrf) >= 40


def _forge(session: Session, signature: str) -> str:
    payload = base64.urlsafe_b64encode(msgspec.json.encode(session)).rstrip(b"=").decode()
    return f"{payload}.{signature}"


def test_forged_tampered_expired_and_foreign_cookies_are_refused() -> None:
    session = new_session(authenticated=False, now=NOW)
    value = encode_session(session, SECRET)
    payload, signature = value.split(".")
    promoted = msgspec.structs.replace(session, authenticated=True)
    assert decode_session(_forge(promoted, signature), SECRET, now=NOW) is None, "tampered"
    assert decode_session(value, b"another secret", now=NOW) is None, "other process"
    assert decode_session(value, SECRET, now=session.expires) is None, "expired"
    for garbage in ("", None, "no-dot", ".", f"{payload}.", f".{signature}", "é.é", "x" * 5000):
        assert decode_session(garbage, SECRET, now=NOW) is None, garbage
    # A well-signed payload that is not a session.
    import hashlib
    import hmac

    odd = base64.urlsafe_b64encode(b'{"sid": 1}').rstrip(b"=").decode()
    mac = hmac.new(SECRET, odd.encode(), hashlib.sha256).digest()
    signed = f"{odd}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    assert decode_session(signed, SECRET, now=NOW) is None


def test_csrf_token_must_be_the_sessions_own() -> None:
    session = new_session(authenticated=True, now=NOW)
    other = new_session(authenticated=True, now=NOW)
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, other.csrf)
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, "")
    assert not csrf_ok(session, "ø" * 10)
    assert not csrf_ok(None, session.csrf)


@pytest.mark.parametrize(
    ("given", "expected", "equal"),
    [
        ("token-1", "token-1", True),
        ("token-1", "token-2", False),
        ("token", "token-1", False),
        ("", "token", False),
        ("søt", "søt", True),
    ],
)
def test_tokens_equal(given: str, expected: str, equal: bool) -> None:
    assert tokens_equal(given, expected) is equal


@pytest.mark.parametrize(
    ("target", "where"),
    [
        ("/failures?reason=note", "/failures?reason=note"),
        ("/runs/20260101T000000-abcd", "/runs/20260101T000000-abcd"),
        (None, "/runs"),
        ("", "/runs"),
        ("https://evil.example/", "/runs"),
        ("//evil.example/", "/runs"),
        ("/\\evil.example", "/runs"),
        ("/runs\r\nSet-Cookie: x=y", "/runs"),
        ("runs", "/runs"),
        # What browsers normalise into another host (issue 13): tabs and newlines dropped,
        # backslashes read as slashes, encoded ones decoded by a proxy.
        ("/\t/evil.com", "/runs"),
        ("/\n/evil.com", "/runs"),
        ("/\r/evil.com", "/runs"),
        ("\t//evil.com", "/runs"),
        (" //evil.com", "/runs"),
        ("/ /evil.com", "/runs"),
        ("/\\/evil.com", "/runs"),
        ("\\\\evil.com", "/runs"),
        ("/%09/evil.com", "/runs"),
        ("/%0a/evil.com", "/runs"),
        ("/%5C/evil.com", "/runs"),
        ("/%5c%5cevil.com", "/runs"),
        ("/%2F/evil.com", "/runs"),
        ("/%2f%2fevil.com", "/runs"),
        ("/%252F%252Fevil.com", "/runs"),
        ("/%25252F%25252Fevil.com", "/runs"),
        ("/runs//evil.com", "/runs"),
        ("javascript:alert(1)", "/runs"),
        ("/\x00", "/runs"),
        ("/runs\u2028", "/runs"),
        ("/failures?reason=ssn&integration=acme", "/failures?reason=ssn&integration=acme"),
        ("/failures/acme%3Aemployees%3A1", "/failures/acme%3Aemployees%3A1"),
        ("/runs?next=//x", "/runs?next=//x"),  # a query is not where a host goes
    ],
)
def test_safe_next_stays_on_this_site(target: str | None, where: str) -> None:
    assert safe_next(target) == where

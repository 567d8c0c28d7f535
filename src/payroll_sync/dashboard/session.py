"""Signed session cookies, CSRF tokens and constant-time token checks. Pure (stdlib + msgspec).

A session is a small JSON object signed with HMAC-SHA256 under a key derived from the operator
token (`secret_for`), so every dashboard process accepts it. The cookie holds no personal data
and not the operator token: only a random session id, whether it is logged in, its CSRF token
and expiry.
Every form that changes something carries the session's CSRF token in a hidden field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from typing import Final
from urllib.parse import unquote

import msgspec

COOKIE_NAME: Final = "payroll_sync_session"
#: A logged-in session lasts one working day; a login form's anonymous session an hour.
SESSION_SECONDS: Final = 12 * 3600
ANONYMOUS_SECONDS: Final = 3600
SECRET_BYTES: Final = 32
MAX_COOKIE_LENGTH: Final = 1024


class Session(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    sid: str
    authenticated: bool
    csrf: str
    expires: float


_DECODER: Final = msgspec.json.Decoder(Session)


def secret_for(operator_token: str) -> bytes:
    """The signing key of every dashboard process with this operator token.

    Derived, not drawn: processes behind one address accept each other's sessions, a restart
    keeps people logged in, and rotating the operator token ends every session.
    """
    return hmac.new(
        operator_token.encode(), b"payroll-sync dashboard sessions v1", hashlib.sha256
    ).digest()


def new_session(*, authenticated: bool, now: float) -> Session:
    lifetime = SESSION_SECONDS if authenticated else ANONYMOUS_SECONDS
    return Session(
        sid=secrets.token_urlsafe(16),
        authenticated=authenticated,
        csrf=secrets.token_urlsafe(32),
        expires=now + lifetime,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: bytes) -> str:
    return _b64(hmac.new(secret, payload.encode("ascii"), hashlib.sha256).digest())


def encode_session(session: Session, secret: bytes) -> str:
    """`<payload>.<signature>`, both base64url."""
    payload = _b64(msgspec.json.encode(session))
    return f"{payload}.{_signature(payload, secret)}"


def decode_session(value: str | None, secret: bytes, *, now: float) -> Session | None:
    """The session in a cookie value; None when missing, malformed, forged or expired."""
    if not value or len(value) > MAX_COOKIE_LENGTH or not value.isascii():
        return None
    payload, dot, signature = value.partition(".")
    if not dot or not hmac.compare_digest(signature, _signature(payload, secret)):
        return None
    try:
        session = _DECODER.decode(_unb64(payload))
    except (binascii.Error, ValueError):  # msgspec's errors are ValueErrors
        return None
    return session if session.expires > now else None


def csrf_ok(session: Session | None, submitted: object) -> bool:
    """Whether a form's hidden `csrf` field is this session's token."""
    if session is None or not isinstance(submitted, str) or not submitted.isascii():
        return False
    return hmac.compare_digest(submitted, session.csrf)


def tokens_equal(given: str, expected: str) -> bool:
    """Constant-time, whatever the lengths: both are hashed to the same size first."""
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


#: A path (and query) of this site, as a browser sends it: percent-encoded, nothing else.
_SITE_PATH: Final = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")


def safe_next(target: str | None, default: str = "/runs") -> str:
    """Where to go after logging in: a path on this site only, else `default`.

    Judged as a browser reads a Location header (WHATWG URL: tabs and newlines are dropped
    anywhere, a backslash is a slash), so a tab or backslash between two slashes means
    `//evil.com`, another host. Only the characters of an encoded path pass (no control
    characters, spaces or backslashes), and the path may hold no `//` (a scheme-relative
    URL), neither as sent nor once or twice percent-decoded (a proxy may decode it), nor a
    backslash or a control character once decoded.
    """
    if not target or not _SITE_PATH.fullmatch(target):
        return default
    path = target.partition("?")[0]
    for _ in range(3):
        if "//" in path or "\\" in path or _has_control(path):
            return default
        decoded = unquote(path)
        if decoded == path:
            return target
        path = decoded
    return default  # encoded three times over: not a path anyone typed


def _has_control(text: str) -> bool:
    return any(ord(char) < 0x20 or ord(char) == 0x7F for char in text)

"""structlog set-up: one JSON event per line, with personal data stripped by a processor.

Events name what happened (`record.synced`) and carry ids, outcomes and field *names*. The
redacting processor is the safety net for a value that slips in anyway: it drops keys that hold
personal data or secrets and masks digit runs shaped like a fødselsnummer or account number.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Final, TextIO

import structlog

#: Keys whose values are never logged, whatever they hold.
SENSITIVE_KEYS: Final = frozenset(
    {
        "ssn",
        "personnr",
        "account",
        "iban",
        "bic",
        "clearingno",
        "salary",
        "amount",
        "address",
        "postaddress",
        "street",
        "zipcode",
        "token",
        "access_token",
        "authorization",
        "password",
        "body",
    }
)
# 11 digits (fødselsnummer, D-nummer, account number), with or without separators.
_ELEVEN_DIGITS: Final = re.compile(r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)")
MASK: Final = "***"


def redact_value(value: object) -> object:
    if isinstance(value, str):
        return _ELEVEN_DIGITS.sub(MASK, value)
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    if isinstance(value, dict):
        return {key: MASK if _sensitive(key) else redact_value(item) for key, item in value.items()}
    return value


def redact_personal_data(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask sensitive keys and identifier-shaped values."""
    for key in list(event_dict):
        event_dict[key] = MASK if _sensitive(key) else redact_value(event_dict[key])
    return event_dict


def _sensitive(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SENSITIVE_KEYS


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler `configure_logging` installs (recognised so it is replaced, not added)."""


def configure_logging(*, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """JSON lines on `stream` (stderr by default) for our events and the stdlib's.

    Records from the standard library's `logging` (Dramatiq, aiohttp) go through the same
    redaction: a library may print what it was handed. Plain stream handlers already on the root
    logger (Dramatiq's worker processes install one) are replaced, so nothing is printed twice
    or unredacted.
    """
    out = stream or sys.stderr
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_personal_data,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    handler = _OurHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_personal_data,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        # Exactly StreamHandler or ours: test frameworks' capturing subclasses stay.
        if type(old) in (logging.StreamHandler, _OurHandler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))

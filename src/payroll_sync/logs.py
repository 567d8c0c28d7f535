"""structlog set-up: one JSON event per line, with personal data stripped by a processor.

Events name what happened (`record.synced`) and carry ids, outcomes and field *names*. The
redacting processor is the safety net for a value that slips in anyway: it drops keys that hold
personal data or secrets and masks digit runs shaped like a fødselsnummer or account number.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, MutableMapping
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
ELEVEN_DIGITS: Final = r"(?<!\d)\d(?:[ .-]?\d){10}(?!\d)"
# A run id (`runs.store.new_run_id`: "20261201T023640-1a2b3c4d") is never personal data, but
# its time and a hex part that starts with five digits ("023640-12345abc", about 1 id in 28)
# read as 11 digits with a dash: matched first, and kept.
RUN_ID: Final = r"(?<![0-9A-Za-z])\d{8}T\d{6}-[0-9a-f]{8}(?![0-9A-Za-z])"
_IDENTIFIER_OR_RUN_ID: Final = re.compile(f"(?P<run_id>{RUN_ID})|(?P<identifier>{ELEVEN_DIGITS})")
MASK: Final = "***"


def mask_identifiers(text: str, mask: Callable[[str], str]) -> str:
    """`text` with each identifier-shaped run of 11 digits replaced by `mask(run)`.

    The one rule for what looks like a fødselsnummer or account number, shared by the logs and
    by the masking of stored diffs (`schemas.masking`). Run ids are left whole.
    """

    def replace(match: re.Match[str]) -> str:
        found = match.group("identifier")
        return match.group() if found is None else mask(found)

    return _IDENTIFIER_OR_RUN_ID.sub(replace, text)


def _masked(_: str) -> str:
    return MASK


def redact_value(value: object) -> object:
    if isinstance(value, str):
        return mask_identifiers(value, _masked)
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


class LineWriter:
    """structlog's logger: each rendered event written whole, under the stdlib handler's lock.

    structlog's PrintLogger and logging's StreamHandler each hold a lock of their own, and
    `print` writes the line and its newline in two calls: a Dramatiq record written from another
    thread could land between them, two JSON objects on one line. One lock, one write per line.
    """

    def __init__(self, handler: logging.StreamHandler) -> None:  # type: ignore[type-arg]
        self._handler = handler

    def msg(self, message: str) -> None:
        self._handler.acquire()
        try:
            stream = self._handler.stream
            stream.write(message + "\n")
            stream.flush()
        finally:
            self._handler.release()

    # The names structlog's bound loggers call, one per level.
    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


class WithoutMessageBodies(logging.Filter):
    """Dramatiq's own records name a message by its id, never by its body.

    Dramatiq formats a whole message (`Message.__str__`: the actor's arguments, i.e. our task
    with the employee's snapshot) into "Received message %s", "Message %s was skipped", "Failed
    to process message %s with unhandled exception" and "Rate limit exceeded in message %s",
    and an actor's arguments into "Received args=%r kwargs=%r". Such arguments become the
    actor's name and the message id; bare argument tuples and dicts become a placeholder.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # An actor's logger is named after its function's module, not "dramatiq…".
        if isinstance(record.args, tuple) and (
            record.name.startswith("dramatiq") or record.msg in _ACTOR_TEMPLATES
        ):
            record.args = tuple(_without_body(arg) for arg in record.args)
        return True


# What `dramatiq.Actor.__call__` logs at debug level, on a logger of the actor's module.
_ACTOR_TEMPLATES: Final = frozenset({"Received args=%r kwargs=%r."})


WITHHELD: Final = "<withheld>"


def _without_body(arg: object) -> object:
    message_id = getattr(arg, "message_id", None)
    if isinstance(message_id, str):
        return f"{getattr(arg, 'actor_name', 'message')}({message_id})"
    if isinstance(arg, tuple | dict):
        return WITHHELD
    return arg


def configure_logging(*, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """JSON lines on `stream` (stderr by default) for our events and the stdlib's.

    Records from the standard library's `logging` (Dramatiq, aiohttp) go through the same
    redaction: a library may print what it was handed, and Dramatiq's records lose message
    bodies (`WithoutMessageBodies`). Plain stream handlers already on the root logger
    (Dramatiq's worker processes install one) are replaced, so nothing is printed twice or
    unredacted. Both write through one lock, a whole line at a time (`LineWriter`).
    """
    out = stream or sys.stderr
    handler = _OurHandler(out)
    writer = LineWriter(handler)
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
        logger_factory=lambda *_: writer,
        cache_logger_on_first_use=False,
    )
    handler.addFilter(WithoutMessageBodies())
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

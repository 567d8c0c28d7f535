"""Values to and from Redis: structs as JSON text, answers as str."""

from __future__ import annotations

from typing import Final

import msgspec

from payroll_sync.schemas.outcomes import RecordOutcome

ENCODER: Final = msgspec.json.Encoder()
OUTCOME_DECODER: Final = msgspec.json.Decoder(RecordOutcome)


def json_text(value: object) -> str:
    return ENCODER.encode(value).decode()


def text(value: object) -> str:
    """Redis answers bytes, or str on a client made with decode_responses=True."""
    if isinstance(value, bytes):
        return value.decode()
    return str(value)

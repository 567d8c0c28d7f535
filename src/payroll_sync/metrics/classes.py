"""The answer class of one request to either API, the label of `payroll_sync_api_requests_total`.

Pure: a status code, or the exception that stood for no answer, to one of a few fixed words, so
the label never holds a URL, a message or a body.
"""

from __future__ import annotations

from typing import Final, Literal

AnswerClass = Literal["2xx", "3xx", "4xx", "5xx", "429", "other", "timeout", "connection_error"]

#: Every class, in the order the docs list them.
ANSWER_CLASSES: Final[tuple[AnswerClass, ...]] = (
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "429",
    "other",
    "timeout",
    "connection_error",
)


def answer_class(status: int) -> AnswerClass:
    """The class of an HTTP status: 429 has its own (the APIs' rate limits), the rest by their
    hundred; anything outside 200-599 is "other"."""
    if status == 429:
        return "429"
    if 200 <= status < 300:
        return "2xx"
    if 300 <= status < 400:
        return "3xx"
    if 400 <= status < 500:
        return "4xx"
    if 500 <= status < 600:
        return "5xx"
    return "other"


def no_answer_class(error: BaseException) -> AnswerClass:
    """The class of a request that got no answer: a timeout, or any other connection error."""
    return "timeout" if isinstance(error, TimeoutError) else "connection_error"

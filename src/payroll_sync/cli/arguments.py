"""The argument types every command shares: argparse calls one with the text given and shows
the `ArgumentTypeError`'s message as "argument --port: must be between 0 and 65535, got 70000"
(exit 2)."""

from __future__ import annotations

import argparse
import datetime
import math
from collections.abc import Callable
from typing import Final, TypeAlias

from payroll_sync.scheduler.slots import OSLO

#: What each command's module adds its parser to (`add_command`).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """A whole number from `low` to `high` (both included; no `high`: no upper limit)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {_range(low, high)}, got {text}")
        return value

    return parse


def number(low: float, high: float | None = None, *, above: bool = False) -> Callable[[str], float]:
    """A number from `low` (or more than `low`: `above`) to `high` (included)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if value < low or (above and value == low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f"must be {_range(low, high, above=above)}, got {text}"
            )
        return value

    return parse


def _range(low: float, high: float | None, *, above: bool = False) -> str:
    start = f"more than {low:g}" if above else f"at least {low:g}"
    if high is None:
        return start
    if above:
        return f"{start} and at most {high:g}"
    return f"between {low:g} and {high:g}"


port: Final = whole_number(0, 65535)
#: Processes, threads, a company's size.
positive: Final = whole_number(1)
#: Requests per second, seconds, milliseconds.
non_negative: Final = number(0)
#: A share of calls, 0 to 1.
share: Final = number(0, 1)


def add_listen_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    """--host and --port of a command that serves HTTP."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=port,
        default=default_port,
        help=f"port to listen on (default {default_port}; 0 = any free port)",
    )


def comma_list(what: str, example: str) -> Callable[[str], list[str]]:
    """`12, 40` -> ["12", "40"]; `what` and `example` say what to give when nothing was."""

    def parse(text: str) -> list[str]:
        items = [part.strip() for part in text.split(",") if part.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"give {what} separated by commas, e.g. {example}")
        return items

    return parse


employee_numbers: Final = comma_list("employee numbers", "12,40")
absence_codes: Final = comma_list("absence codes", "01,04")


def iso_date(text: str) -> str:
    """A date as YYYY-MM-DD, kept as text (the request decodes it)."""
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None
    return text


def oslo_time(text: str) -> datetime.datetime:
    """An ISO 8601 time; without an offset it is a time on the Oslo clock."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2026-03-29T01:00 or 2026-03-29T01:00:00+01:00, "
            f"got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=OSLO)
    return moment

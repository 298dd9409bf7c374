"""Dates as each user reads them: in the formats of their language (Django's, per language), or
in the order they chose in Settings (``User.date_format``: ``iso``, ``dmy``, ``mdy``).

Like Django's language and time zone, the choice is active for a request (set by
``accounts.middleware.UserLanguageMiddleware``) or for a block of code (``override``), and
everything that shows a date asks ``pattern`` or ``shown``: the list's date column, the message
and conversation pages, the attribution line of a reply, the outbox (through the ``shown``
template filter of ``userdates``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from asgiref.local import Local
from django.utils import formats

# The date part of each choice; the time keeps the language's clock (ISO has its own).
ORDERS = {"iso": "Y-m-d", "dmy": "d/m/Y", "mdy": "m/d/Y"}
DATE_NAMES = frozenset({"DATE_FORMAT", "SHORT_DATE_FORMAT"})
DATETIME_NAMES = frozenset({"DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"})

_active = Local()


def activate(choice: str) -> None:
    """Make ``choice`` (a ``User.date_format``; anything else means the language's own) the
    current one."""
    _active.value = choice if choice in ORDERS else ""


def current() -> str:
    return getattr(_active, "value", "")


@contextmanager
def override(choice: str) -> Iterator[None]:
    previous = current()
    activate(choice)
    try:
        yield
    finally:
        activate(previous)


def pattern(name: str) -> str:
    """What to give Django's ``date_format`` for the format ``name`` (``DATE_FORMAT``,
    ``SHORT_DATETIME_FORMAT``, ``TIME_FORMAT``...): the name itself, the language deciding,
    unless the current choice replaces the order of the date."""
    choice = current()
    day = ORDERS.get(choice)
    if day is None:
        return name
    if name in DATE_NAMES:
        return day
    if name in DATETIME_NAMES:
        clock = "H:i" if choice == "iso" else str(formats.get_format("TIME_FORMAT"))
        return f"{day} {clock}"
    return name


def shown(value: date | datetime, name: str = "DATETIME_FORMAT") -> str:
    """``value`` (already in the reader's time zone) as the reader wants it."""
    return formats.date_format(value, pattern(name))

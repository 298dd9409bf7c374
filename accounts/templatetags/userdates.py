"""``{{ value|shown:"SHORT_DATETIME_FORMAT" }}``: Django's ``date`` filter for a Django format
name, in the date order the user chose (``accounts.dates``)."""

from __future__ import annotations

from datetime import date

from django import template

from accounts import dates

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def shown(value: date | None, name: str = "DATETIME_FORMAT") -> str:
    if not value:
        return ""
    return dates.shown(value, name)

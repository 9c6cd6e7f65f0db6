"""Query-string values the API parses itself, with errors that name the parameter."""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mostrador.core.errors import ValidationFailed

# An unencoded "+" in a query string arrives as a space: "…T10:00:00 02:00".
_SPACE_OFFSET_RE = re.compile(r"(T[\d:.]+) (\d\d(:?\d\d)?)$")


def page_limit(limit: int) -> int:
    most = settings.MOSTRADOR["API_PAGE_MAX"]
    if not 1 <= limit <= most:
        raise ValidationFailed(_("limit must be between 1 and %(max)s.") % {"max": most},
                               field="limit")
    return limit


def moment(value: str, *, field: str) -> dt.datetime:
    """An ISO 8601 date-time; without an offset it is read as UTC."""
    text = _SPACE_OFFSET_RE.sub(r"\1+\2", value.strip())
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(_("%(field)s must be an ISO 8601 date-time such as "
                                 "2025-03-01T09:30:00Z.") % {"field": field}, field=field)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def split_values(values: list[str] | None) -> list[str]:
    """Repeated parameters and comma-separated lists alike: ``?status=new,open&status=pending``."""
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]

"""Each agent sees the desk in their own language and time zone."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class AgentPreferencesMiddleware:
    """After authentication: the agent's saved language wins over the browser's (which
    LocaleMiddleware already chose), and times render in the agent's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        agent = getattr(request.user, "agent", None) if request.user.is_authenticated else None
        language = getattr(agent, "language", "")
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = language
        zone = getattr(agent, "time_zone", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(zone) if zone else settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

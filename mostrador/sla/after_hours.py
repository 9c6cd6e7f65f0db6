"""After hours: a customer who opens a conversation while the channel is closed learns, in their
language, when a person will answer (the next opening of the channel's calendar).

The notice goes out through ``do_send_automatic_reply``, so it carries ``Auto-Submitted`` and
never answers automatic mail or mail that asks not to be auto-answered; it is sent at most once
per conversation in ``AFTER_HOURS_QUIET_HOURS``. The request itself waits in the queue with its
waiting time counted from its arrival, so at opening it is first in line in the "waiting"
order, and its SLA clocks start only when the calendar opens.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Message
from mostrador.sla import calendars, events
from mostrador.sla.models import Calendar

QUIET_HOURS = 12


def opening_phrase(opens: dt.datetime, zone: str) -> str:
    """When the desk opens, in the active language and the calendar's zone ("Friday 27
    November at 08:00")."""
    local = opens.astimezone(ZoneInfo(zone))
    return _("%(day)s at %(time)s") % {
        "day": f'{formats.date_format(local, "l")} '
               f'{formats.date_format(local, "MONTH_DAY_FORMAT")}',
        "time": formats.time_format(local, "H:i")}


def notice_text(opens: dt.datetime, zone: str, language: str, number: int) -> str:
    with translation.override(language):
        when = opening_phrase(opens, zone)
        return _("Thank you for writing to us. Our team is not available right now; a person "
                 "will answer you from %(when)s (%(zone)s time). Your request is registered as "
                 "#%(number)s and is first in line when we open. You don't need to write "
                 "again.") % {"when": when, "zone": zone, "number": number}


def customer_language(conversation: Conversation) -> str:
    available = {code for code, _name in settings.LANGUAGES}
    for candidate in (conversation.customer.language, conversation.language,
                      settings.LANGUAGE_CODE):
        code = (candidate or "").split("-")[0].lower()
        if code in available:
            return code
    return settings.LANGUAGE_CODE


def reply_after_hours_many(conversation_ids: list[int], *,
                           now: dt.datetime | None = None) -> int:
    """The after-hours notice for each of these conversations whose channel is closed now."""
    now = now or timezone.now()
    default = Calendar.objects.filter(is_default=True).first()
    conversations = (Conversation.objects.select_related("inbox__calendar", "customer")
                     .filter(pk__in=conversation_ids, status__in=Conversation.ACTIVE_STATUSES))
    sent = 0
    for conversation in conversations:
        calendar = conversation.inbox.calendar or default
        if calendar is None or not calendar.after_hours_reply:
            continue
        if calendars.for_row(calendar).is_open(now):
            continue
        sent += _reply(conversation, calendar, now)
    return sent


def maybe_reply_after_hours(conversation_id: int, *, now: dt.datetime | None = None) -> bool:
    """Send the after-hours notice if the channel is closed now; True when one was queued."""
    return reply_after_hours_many([conversation_id], now=now) == 1


def _reply(conversation: Conversation, calendar: Calendar, now: dt.datetime) -> bool:
    hours = calendars.for_row(calendar)
    recent = conversation.messages.filter(
        direction=Message.Direction.OUTBOUND, meta__automatic="after_hours",
        created_at__gte=now - dt.timedelta(hours=QUIET_HOURS)).exists()
    if recent:
        return False
    opens = hours.next_open(now)
    text = notice_text(opens, calendar.time_zone, customer_language(conversation),
                       conversation.number)
    message = conversation_actions.do_send_automatic_reply(conversation, text,
                                                           reason="after_hours")
    if message is None:
        return False
    conversation_actions.record_event(conversation, events.AFTER_HOURS, at=now,
                                      message=message, after={"opens": opens.isoformat()})
    return True

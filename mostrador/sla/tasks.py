"""Background work of the SLA app: the minute sweep, re-computation after a policy or calendar
change, and the e-mails that tell agents about warnings and breaches."""

from __future__ import annotations

import dataclasses
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _
from huey import crontab

from mostrador.core.tasks import periodic_task, task
from mostrador.sla import actions
from mostrador.sla.models import Target

logger = logging.getLogger(__name__)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@periodic_task(crontab(minute="*"))
def sweep_sla() -> dict[str, int]:
    """Every minute: the warnings and breaches that fell due (read through partial indexes on
    the due moments, never a scan of open conversations)."""
    return dataclasses.asdict(actions.sweep())


@task()
def recompute_sla() -> dict[str, float]:
    result = actions.recompute_open()
    logger.info("SLA re-computed for %d open conversations in %.1fs", result.conversations,
                result.seconds)
    return dataclasses.asdict(result)


@task(retries=3, retry_delay=60)
def notify_agents(user_ids: list[int], conversation_id: int, target_id: int, what: str) -> int:
    """Tell agents by e-mail, each in their own language, that a promise is at risk or
    broken."""
    target = Target.objects.filter(pk=target_id).select_related("conversation").first()
    if target is None:
        return 0
    conversation = target.conversation
    sent = 0
    users = get_user_model().objects.filter(pk__in=user_ids, is_active=True).select_related(
        "agent")
    for user in users:
        if not user.email:
            continue
        agent = getattr(user, "agent", None)
        language = getattr(agent, "language", "") or None
        zone = _zone(getattr(agent, "time_zone", ""))
        due = target.due_at or target.breached_at
        with translation.override(language):
            kind = Target.Kind(target.kind).label
            values = {"kind": kind, "number": conversation.number,
                      "subject": conversation.subject,
                      "due": due.astimezone(zone).strftime("%Y-%m-%d %H:%M") if due else "-",
                      "zone": getattr(zone, "key", "UTC")}
            if what == "breach":
                subject = _("SLA breached: %(kind)s on #%(number)s") % values
                body = _("Conversation #%(number)s (%(subject)s): %(kind)s was due at "
                         "%(due)s (%(zone)s).") % values
            else:
                subject = _("SLA at risk: %(kind)s on #%(number)s") % values
                body = _("Conversation #%(number)s (%(subject)s): %(kind)s is due at "
                         "%(due)s (%(zone)s).") % values
        send_mail(subject, body, None, [user.email])
        sent += 1
    return sent

"""Background work of automation: webhook deliveries and their minute sweep."""

from __future__ import annotations

import logging

from huey import crontab

from mostrador.automation import webhooks
from mostrador.core.tasks import enqueue_on_commit, periodic_task, task

logger = logging.getLogger(__name__)


# --- webhooks --------------------------------------------------------------------------------


@task()
def deliver_webhook(delivery_id: int) -> str:
    """Post one webhook delivery; safe to run twice (only the worker whose claim succeeds
    posts). A failure that will be retried schedules the next attempt for when it falls due."""
    status = webhooks.attempt_delivery(delivery_id)
    if status == webhooks.Status.RETRYING:
        delay = webhooks.seconds_until_due(delivery_id)
        if delay is not None:
            enqueue_on_commit(deliver_webhook, delivery_id, delay=delay)
    return status


@periodic_task(crontab(minute="*"))
def retry_due_webhooks() -> int:
    """Every minute: deliveries due for a while that no task took (lost with a restart, or
    claimed by a worker that died), through the due index."""
    ids = webhooks.due_delivery_ids()
    for delivery_id in ids:
        enqueue_on_commit(deliver_webhook, delivery_id)
    if ids:
        logger.info("re-enqueued %d webhook deliveries", len(ids))
    return len(ids)


# --- time rules and notifications ----------------------------------------------------------


@periodic_task(crontab(minute="*"))
def run_time_rules() -> dict[str, int]:
    """Every minute: the time rules whose threshold conversations crossed since the last run
    (see ``automation.actions.run_time_rules``)."""
    import dataclasses

    from mostrador.automation import actions

    return dataclasses.asdict(actions.run_time_rules())


@task(retries=3, retry_delay=60)
def notify_agents(user_ids: list[int], conversation_id: int, label: str, text: str) -> int:
    """E-mail agents about a conversation for a trigger or time rule, each in their language."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from mostrador.conversations.models import Conversation

    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return 0
    sent = 0
    for user in get_user_model().objects.filter(pk__in=user_ids, is_active=True) \
            .select_related("agent"):
        if not user.email:
            continue
        agent = getattr(user, "agent", None)
        with translation.override((agent.language if agent else "") or settings.LANGUAGE_CODE):
            subject = _("[#%(number)s] %(rule)s: %(subject)s") % {
                "number": conversation.pk, "rule": label, "subject": conversation.subject}
            body = text or _("Conversation #%(number)s (%(subject)s) needs your attention.") % {
                "number": conversation.pk, "subject": conversation.subject}
        send_mail(subject[:200], body, None, [user.email])
        sent += 1
    return sent

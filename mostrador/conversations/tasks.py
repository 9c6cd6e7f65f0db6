"""Background work for conversations: outbound delivery and the safety sweeps."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone
from huey import crontab

from mostrador.channels.base import DeliveryError
from mostrador.channels.registry import get_adapter
from mostrador.conversations import actions
from mostrador.conversations.models import Message, RawInbound
from mostrador.core.tasks import periodic_task, task

logger = logging.getLogger(__name__)


def backoff_seconds(attempt: int) -> int:
    """30 s, 1 min, 2 min, 4 min … capped at one hour."""
    return min(30 * 2 ** max(attempt - 1, 0), 3600)


@task()
def deliver_message(message_id: int) -> str:
    """Send one queued outbound message; safe to run twice (the claim is a conditional
    UPDATE, so only one worker ever sends a given message)."""
    if not actions.claim_for_delivery(message_id):
        return "not queued"
    message = (Message.objects.select_related("conversation__inbox", "conversation__customer",
                                              "inbox", "author_user")
               .get(pk=message_id))
    try:
        adapter = get_adapter(message.channel_kind)
    except LookupError:
        actions.do_mark_failed(message, f"no channel adapter for {message.channel_kind!r}; "
                                        f"only replies on a customer's channel are delivered")
        return "refused"
    refusal = adapter.check_outbound(message)
    if refusal:
        actions.do_mark_failed(message, refusal)
        return "refused"
    if not message.provider_id:
        # Fixed before the first attempt, so a retry after an unclear failure re-sends the same
        # id and the customer's client shows one message.
        provider_id = adapter.new_provider_id(message)
        if provider_id:
            Message.objects.filter(pk=message.pk).update(provider_id=provider_id)
            message.provider_id = provider_id
    try:
        provider_id = adapter.send(message)
    except DeliveryError as exc:
        return _after_failure(message, exc.reason, permanent=exc.permanent)
    except Exception as exc:  # an adapter bug: keep the message, try again later
        logger.exception("delivering message %s failed unexpectedly", message.pk)
        return _after_failure(message, f"{type(exc).__name__}: {exc}", permanent=False)
    actions.do_mark_sent(message, provider_id)
    return "sent"


def _after_failure(message: Message, reason: str, *, permanent: bool) -> str:
    attempts = message.delivery_attempts
    limit = settings.MOSTRADOR["DELIVERY_MAX_ATTEMPTS"]
    if permanent or attempts >= limit:
        if not permanent:
            reason = f"{reason} (gave up after {attempts} attempts)"
        actions.do_mark_failed(message, reason)
        return "failed"
    actions.requeue_after_failure(message, reason)
    deliver_message.schedule(args=(message.pk,), delay=backoff_seconds(attempts))
    return "retrying"


@periodic_task(crontab(minute="*/5"))
def sweep_stuck_work() -> dict[str, int]:
    """Pick up what a crash or an unreachable queue left behind: payloads still pending,
    replies queued but never tried, replies stuck in ``sending``."""
    now = timezone.now()
    counts = {"raw": 0, "queued": 0, "sending": 0}
    for raw in RawInbound.objects.filter(status=RawInbound.Status.PENDING,
                                         received_at__lt=now - dt.timedelta(minutes=2))[:500]:
        actions.process_raw(raw)
        counts["raw"] += 1
    never_tried = Message.objects.filter(delivery_status=Message.Delivery.QUEUED,
                                         delivery_attempts=0,
                                         created_at__lt=now - dt.timedelta(minutes=10))
    for message_id in never_tried.values_list("pk", flat=True)[:500]:
        deliver_message(message_id)
        counts["queued"] += 1
    # A worker that died mid-send leaves the row in ``sending``; half an hour is far beyond
    # any SMTP timeout, so nobody is still working on it.
    stuck = list(Message.objects.filter(delivery_status=Message.Delivery.SENDING,
                                        created_at__lt=now - dt.timedelta(minutes=30))
                 .values_list("pk", flat=True)[:500])
    for message_id in stuck:
        if Message.objects.filter(pk=message_id, delivery_status=Message.Delivery.SENDING).update(
                delivery_status=Message.Delivery.QUEUED):
            deliver_message(message_id)
            counts["sending"] += 1
    return counts

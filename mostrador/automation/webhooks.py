"""Outbound webhooks: subscriptions to event kinds, signed JSON deliveries, retries with backoff,
a log of every attempt, and subscriptions turned off when their receiver keeps failing.

The database is the queue. A delivery row is written (``pending``, due at once) in the same
transaction that enqueues its task; :func:`attempt_delivery` claims it with a conditional UPDATE
whose row count is checked, so a delivery is posted by one worker at a time however many tasks
name it. ``next_attempt_at`` always says when somebody may next work on a delivery: the moment
it is due while it waits, the end of the claim's lease while it is being sent. The minute sweep
(``automation.tasks.retry_due_webhooks``) reads it through the partial index
``webhook_delivery_due_idx`` and picks up whatever a restart left behind.

Each POST carries ``X-Mostrador-Signature: t=<unix time>,v1=<hex HMAC-SHA256>`` over
``f"{t}.".encode() + body`` with the subscription's secret; :func:`verify` is what a receiver
written in Python runs (docs/webhooks.md shows it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.automation.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    new_webhook_secret,
)
from mostrador.conversations import events as conversation_events
from mostrador.conversations.models import Conversation, Event
from mostrador.core.errors import Conflict, PermissionDenied, ValidationFailed
from mostrador.core.http import HttpResult, post_json
from mostrador.core.tasks import enqueue_on_commit
from mostrador.customers.models import Identity
from mostrador.customers.queries import decode_time_cursor, encode_time_cursor
from mostrador.sla import events as sla_events

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status

ALL_EVENTS = "*"
# Every timeline kind of a conversation, in the order events.py lists them.
CONVERSATION_EVENT_TYPES = tuple(
    value for name, value in vars(conversation_events).items()
    if name.isupper() and isinstance(value, str)
)
EVENT_TYPES: tuple[str, ...] = (
    *CONVERSATION_EVENT_TYPES,
    sla_events.WARNING,
    sla_events.BREACHED,
    "routing.assigned",
    "routing.escalated",
    "routing.deescalated",
    "routing.transferred",
    "automation.fired",
    ALL_EVENTS,
)
# What "*" stands for: the documented kinds, not every internal step (sla.paused…).
SUBSCRIBABLE = frozenset(EVENT_TYPES) - {ALL_EVENTS}
# Deliveries that are not about a timeline event.
TEST_EVENT = "webhook.test"
TRIGGER_EVENT = "automation.webhook"

USER_AGENT = "Mostrador-Webhooks/1"
# The waits after the 1st, 2nd … 6th failed attempt; the 7th failure is final.
BACKOFF = (
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=8),
    dt.timedelta(hours=24),
)
# A claim older than this belongs to a worker that died (posts time out after 15 s).
SENDING_LEASE = dt.timedelta(minutes=10)
# The sweep leaves alone what fell due this recently: its own task is about to take it.
SWEEP_GRACE = dt.timedelta(minutes=2)
SWEEP_BATCH = 500
WAITING = (Status.PENDING, Status.RETRYING)
# The partial index's condition, in its order.
UNFINISHED = (Status.PENDING, Status.RETRYING, Status.SENDING)
SUBSCRIPTION_DISABLED = "subscription disabled"
SECRET_SHOWN = 10
MAX_NAME = 150
MAX_URL = 1000

_url_validator = URLValidator(schemes=["http", "https"])


# --- who may ---------------------------------------------------------------------------------


def may_manage_webhooks(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    agent = getattr(user, "agent", None)
    return bool(user.is_superuser or (agent is not None and agent.is_admin))


def check_may_manage_webhooks(user) -> None:
    """Administrators only: a webhook sends conversation data to any address it names.
    ``None`` is the system itself (commands, seeding)."""
    if user is not None and not may_manage_webhooks(user):
        raise PermissionDenied(_("Only administrators may manage webhooks."))


# --- signatures ------------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Mostrador-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300,
           now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` and was made within ``tolerance``
    seconds of ``now`` (default: the clock), which refuses replays of old requests."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        key, _sep, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).partition(",v1=")[2]
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)


def serialise(payload: dict[str, Any]) -> bytes:
    """The body as sent and signed: compact, keys sorted, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode()


def secret_prefix(secret: str) -> str:
    """What lists show of a secret: enough to tell two apart, too little to sign with."""
    return secret[:SECRET_SHOWN]


# --- subscriptions ---------------------------------------------------------------------------


def _clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A webhook needs a name."), field="name")
    if len(name) > MAX_NAME:
        raise ValidationFailed(_("The name is at most %(max)d characters.") % {"max": MAX_NAME},
                               field="name")
    return name


def _clean_url(url: str | None) -> str:
    url = (url or "").strip()
    if len(url) > MAX_URL:
        raise ValidationFailed(_("The URL is at most %(max)d characters.") % {"max": MAX_URL},
                               field="url")
    try:
        _url_validator(url)
    except DjangoValidationError:
        raise ValidationFailed(_("Give the receiver's full address, starting with https:// "
                                 "(or http://)."), field="url") from None
    return url


def _clean_event_types(event_types: Iterable[str] | None) -> list[str]:
    chosen = [str(kind).strip() for kind in (event_types or [])]
    chosen = [kind for kind in chosen if kind]
    if not chosen:
        raise ValidationFailed(_("Choose at least one event type (or * for all)."),
                               field="event_types")
    unknown = sorted(set(chosen) - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed(_("Unknown event type %(kind)s; see the list of event types in "
                                 "the webhooks documentation.") % {"kind": unknown[0]},
                               field="event_types")
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS]
    order = {kind: index for index, kind in enumerate(EVENT_TYPES)}
    return sorted(set(chosen), key=order.__getitem__)


@transaction.atomic
def do_create_webhook(*, name: str, url: str, event_types: Iterable[str], acting_user,
                      active: bool = True) -> WebhookSubscription:
    check_may_manage_webhooks(acting_user)
    subscription = WebhookSubscription(
        name=_clean_name(name), url=_clean_url(url), event_types=_clean_event_types(event_types),
        active=bool(active), created_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    subscription.save()
    logger.info("webhook %s created for %s", subscription.pk, subscription.url)
    return subscription


@transaction.atomic
def do_update_webhook(subscription: WebhookSubscription, *, acting_user, name: str | None = None,
                      url: str | None = None, event_types: Iterable[str] | None = None,
                      active: bool | None = None) -> WebhookSubscription:
    """Change what is given. Turning a webhook back on forgets why it was turned off and its
    count of failures; turning it off fails the deliveries still waiting (with
    :data:`SUBSCRIPTION_DISABLED`). The row is locked (``select_for_update``) so a delivery
    finishing meanwhile cannot undo the change."""
    check_may_manage_webhooks(acting_user)
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    fields: set[str] = set()
    if name is not None:
        subscription.name = _clean_name(name)
        fields.add("name")
    if url is not None:
        subscription.url = _clean_url(url)
        fields.add("url")
    if event_types is not None:
        subscription.event_types = _clean_event_types(event_types)
        fields.add("event_types")
    if active is not None and bool(active) != subscription.active:
        subscription.active = bool(active)
        fields.add("active")
        if subscription.active:
            subscription.disabled_at = None
            subscription.disabled_reason = ""
            subscription.consecutive_failures = 0
            fields |= {"disabled_at", "disabled_reason", "consecutive_failures"}
        else:
            _fail_waiting(subscription.pk)
    if fields:
        subscription.save(update_fields=[*sorted(fields), "updated_at"])
    return subscription


@transaction.atomic
def do_delete_webhook(subscription: WebhookSubscription, *, acting_user) -> None:
    """The subscription goes, and its delivery log with it."""
    check_may_manage_webhooks(acting_user)
    subscription_id = subscription.pk
    subscription.delete()
    logger.info("webhook %s deleted", subscription_id)


@transaction.atomic
def do_rotate_webhook_secret(subscription: WebhookSubscription, *, acting_user) -> str:
    """A new secret, in force at once (the old one signs nothing more): the only moment it can
    be read in full."""
    check_may_manage_webhooks(acting_user)
    secret = new_webhook_secret()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret,
                                                                  updated_at=timezone.now())
    subscription.secret = secret
    return secret


@transaction.atomic
def do_send_test_webhook(subscription: WebhookSubscription, *,
                         acting_user) -> WebhookDelivery:
    """A ``webhook.test`` delivery, sent once in the background, even to a webhook that is off
    (to check a receiver before turning it on). It is not retried and never counts towards
    turning the webhook off."""
    check_may_manage_webhooks(acting_user)
    now = timezone.now()
    return _create_delivery(subscription.pk, TEST_EVENT, {
        "webhook": {"id": subscription.pk, "name": subscription.name},
        "text": "This is a test delivery from Mostrador.",
    }, now)


@transaction.atomic
def do_redeliver_webhook(delivery: WebhookDelivery, *, acting_user) -> WebhookDelivery:
    """Send a delivery again as soon as a worker is free, with the same id and body (receivers
    deduplicate on ``X-Mostrador-Delivery``). The retry schedule starts afresh."""
    check_may_manage_webhooks(acting_user)
    subscription = WebhookSubscription.objects.filter(pk=delivery.subscription_id).first()
    if subscription is None:
        raise Conflict(_("The webhook of this delivery was deleted."))
    if not subscription.active and delivery.event_type != TEST_EVENT:
        raise Conflict(_("The webhook %(name)s is off; turn it on before sending again.")
                       % {"name": subscription.name})
    now = timezone.now()
    changed = (WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=Status.SENDING)
               .update(status=Status.PENDING, attempts=0, next_attempt_at=now, error=""))
    if not changed:
        raise Conflict(_("This delivery is being sent right now; look again in a moment."))
    delivery.refresh_from_db()
    _enqueue(delivery.pk)
    return delivery


def _fail_waiting(subscription_id: int) -> int:
    return (WebhookDelivery.objects.filter(subscription_id=subscription_id, status__in=WAITING)
            .exclude(event_type=TEST_EVENT)
            .update(status=Status.FAILED, next_attempt_at=None, error=SUBSCRIPTION_DISABLED))


# --- reads -----------------------------------------------------------------------------------


def list_deliveries(subscription: WebhookSubscription, *, cursor: str | None = None,
                    limit: int = 50, status: str | None = None,
                    with_attempts: bool = False) -> tuple[list[WebhookDelivery], str | None]:
    """A subscription's deliveries, newest first, keyset by (created_at, id) through
    ``webhook_delivery_log_idx``."""
    queryset = WebhookDelivery.objects.filter(subscription=subscription)
    if status:
        if status not in Status.values:
            raise ValidationFailed(_("Unknown status %(status)s; use one of %(choices)s.")
                                   % {"status": status, "choices": ", ".join(Status.values)},
                                   field="status")
        queryset = queryset.filter(status=status)
    if cursor:
        moment, pk = decode_time_cursor(cursor, "webhook-deliveries")
        queryset = queryset.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))
    if with_attempts:
        queryset = queryset.prefetch_related("attempt_log")
    rows = list(queryset.order_by("-created_at", "-pk")[:limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_time_cursor("webhook-deliveries", rows[-1].created_at, rows[-1].pk)
    return rows, None


def last_deliveries(subscription_ids: Iterable[int]) -> dict[int, WebhookDelivery]:
    """The newest delivery of each subscription, in one query (one index probe each)."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    newest = (WebhookDelivery.objects.filter(subscription_id=OuterRef("pk"))
              .order_by("-created_at", "-pk").values("pk")[:1])
    wanted = (WebhookSubscription.objects.filter(pk__in=ids)
              .annotate(last_id=Subquery(newest)).values_list("last_id", flat=True))
    rows = WebhookDelivery.objects.filter(pk__in=Subquery(wanted))
    return {row.subscription_id: row for row in rows}


# --- what a delivery says --------------------------------------------------------------------


def _iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _actor(event: Event) -> dict[str, Any]:
    if event.actor_user_id:
        user = event.actor_user
        agent = getattr(user, "agent", None)
        return {"kind": "agent", "id": event.actor_user_id,
                "name": agent.display_name if agent else user.get_username()}
    if event.actor_customer_id:
        return {"kind": "customer", "id": event.actor_customer_id,
                "name": event.actor_customer.name}
    return {"kind": "system", "id": None, "name": ""}


def _events(event_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = set(event_ids)
    if not ids:
        return {}
    rows = (Event.objects.filter(pk__in=ids)
            .select_related("actor_user__agent", "actor_customer"))
    return {e.pk: {"id": e.pk, "kind": e.kind, "before": e.before, "after": e.after,
                   "at": _iso(e.at), "actor": _actor(e)} for e in rows}


def conversation_summaries(conversation_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """What a delivery says about each conversation, in two queries (the rows with their
    customer and the customer's e-mail address; the tags)."""
    ids = set(conversation_ids)
    if not ids:
        return {}
    email = (Identity.objects.filter(customer=OuterRef("customer_id"),
                                     kind=Identity.Kind.EMAIL)
             .order_by("-verified", "pk").values("external_id")[:1])
    rows = (Conversation.objects.filter(pk__in=ids).select_related("customer")
            .annotate(customer_email=Subquery(email)).prefetch_related("tags"))
    return {c.pk: {
        "id": c.pk, "number": c.number, "subject": c.subject, "status": c.status,
        "priority": c.priority, "channel": c.channel_kind, "inbox_id": c.inbox_id,
        "team_id": c.team_id, "tier": c.tier, "assignee_id": c.assignee_id,
        "customer": {"id": c.customer_id, "name": c.customer.name,
                     "email": c.customer_email or None},
        "tags": sorted(t.name for t in c.tags.all()),
        "custom_fields": c.custom_fields or {},
        "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
    } for c in rows}


def _document(uid: str, event_type: str, data: dict[str, Any], now: dt.datetime) -> dict:
    return {"id": uid, "type": event_type, "created_at": _iso(now), "data": data}


def _new_delivery(subscription_id: int, event_type: str, data: dict[str, Any],
                  now: dt.datetime) -> WebhookDelivery:
    uid = uuid.uuid4().hex
    # Due at once: the sweep finds it through the due index should its task be lost.
    return WebhookDelivery(subscription_id=subscription_id, uid=uid, event_type=event_type,
                           payload=_document(uid, event_type, data, now), status=Status.PENDING,
                           next_attempt_at=now, created_at=now)


def _create_delivery(subscription_id: int, event_type: str, data: dict[str, Any],
                     now: dt.datetime) -> WebhookDelivery:
    delivery = _new_delivery(subscription_id, event_type, data, now)
    delivery.save(force_insert=True)
    _enqueue(delivery.pk)
    return delivery


def _enqueue(delivery_id: int, *, delay: float | None = None) -> None:
    from mostrador.automation.tasks import deliver_webhook

    enqueue_on_commit(deliver_webhook, delivery_id, delay=delay)


# --- producing deliveries --------------------------------------------------------------------


def enqueue_for_batch(batch: list[tuple[str, dict[str, Any]]]) -> int:
    """A committed transaction's events → one delivery per (event, active subscription that
    wants its kind). Costs nothing when no event is of a subscribable kind, one query when no
    subscription is active, and otherwise a fixed number of queries whatever the batch's size.
    Returns how many deliveries were queued."""
    wanted = [(kind, payload) for kind, payload in batch
              if kind in SUBSCRIBABLE and payload.get("conversation_id")]
    if not wanted:
        return 0
    subscriptions = list(WebhookSubscription.objects.filter(active=True)
                         .values_list("pk", "event_types"))
    if not subscriptions:
        return 0
    plan = [(subscription_id, kind, payload)
            for kind, payload in wanted
            for subscription_id, kinds in subscriptions
            if kind in (kinds or ()) or ALL_EVENTS in (kinds or ())]
    if not plan:
        return 0
    found_events = _events(p["event_id"] for _s, _k, p in plan if p.get("event_id"))
    summaries = conversation_summaries(p["conversation_id"] for _s, _k, p in plan)
    now = timezone.now()
    rows = []
    for subscription_id, kind, payload in plan:
        summary = summaries.get(payload["conversation_id"])
        if summary is None:
            continue  # deleted since
        event = found_events.get(payload.get("event_id")) or {
            "id": payload.get("event_id"), "kind": kind, "before": None, "after": None,
            "at": _iso(now), "actor": {"kind": "system", "id": None, "name": ""}}
        rows.append(_new_delivery(subscription_id, kind,
                                  {"event": event, "conversation": summary}, now))
    if not rows:
        return 0
    with transaction.atomic():
        created = WebhookDelivery.objects.bulk_create(rows)
        for delivery in created:
            _enqueue(delivery.pk)
    return len(created)


def enqueue_trigger_webhook(subscription_id: int, conversation_id: int, *,
                            trigger_name: str) -> WebhookDelivery | None:
    """A trigger's "webhook" action: one ``automation.webhook`` delivery with the conversation,
    sent after the surrounding transaction commits. Nothing when the subscription is off or
    gone, or the conversation is."""
    if not WebhookSubscription.objects.filter(pk=subscription_id, active=True).exists():
        return None
    summary = conversation_summaries([conversation_id]).get(conversation_id)
    if summary is None:
        return None
    with transaction.atomic():
        return _create_delivery(subscription_id, TRIGGER_EVENT,
                                {"trigger": {"name": trigger_name}, "conversation": summary},
                                timezone.now())


# --- sending ---------------------------------------------------------------------------------


def attempt_delivery(delivery_id: int) -> str:
    """Post one delivery if it is due and nobody else is posting it; returns its status
    afterwards ("delivered", "retrying", "failed", or the status that kept it from being
    claimed; "missing" if it is gone).

    The claim is a conditional UPDATE (waiting and due → sending, lease until
    :data:`SENDING_LEASE` from now) whose row count is checked; no transaction is held open
    during the HTTP call."""
    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimable = (Q(status__in=WAITING) & due) | Q(status=Status.SENDING, next_attempt_at__lte=now)
    claimed = (WebhookDelivery.objects.filter(claimable, pk=delivery_id)
               .update(status=Status.SENDING, next_attempt_at=now + SENDING_LEASE))
    if not claimed:
        status = (WebhookDelivery.objects.filter(pk=delivery_id)
                  .values_list("status", flat=True).first())
        return status or "missing"
    delivery = WebhookDelivery.objects.select_related("subscription").filter(
        pk=delivery_id).first()
    if delivery is None:
        return "missing"  # its webhook was deleted meanwhile
    subscription = delivery.subscription
    is_test = delivery.event_type == TEST_EVENT
    if not subscription.active and not is_test:
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(
            status=Status.FAILED, next_attempt_at=None, error=SUBSCRIPTION_DISABLED)
        return Status.FAILED
    body = serialise(delivery.payload)
    headers = {
        "X-Mostrador-Event": delivery.event_type,
        "X-Mostrador-Delivery": delivery.uid,
        "X-Mostrador-Signature": sign(subscription.secret, body, int(time.time())),
        "User-Agent": USER_AGENT,
    }
    result = post_json(subscription.url, body, headers)
    return _record(delivery, subscription, result, is_test=is_test)


def _record(delivery: WebhookDelivery, subscription: WebhookSubscription, result: HttpResult,
            *, is_test: bool) -> str:
    """Log the attempt, settle the delivery and the subscription's health, in one
    transaction."""
    gone = result.status_code == 410
    attempts = delivery.attempts + 1
    with transaction.atomic():
        at = timezone.now()
        WebhookAttempt.objects.create(delivery=delivery, at=at, response_code=result.status_code,
                                      error=result.error, duration_ms=result.duration_ms)
        fields: dict[str, Any] = {
            "attempts": attempts, "last_attempt_at": at, "response_code": result.status_code,
            "response_body": result.body, "error": result.error,
            "duration_ms": result.duration_ms, "next_attempt_at": None,
        }
        if result.ok:
            status = Status.DELIVERED
            fields["delivered_at"] = at
        elif gone and not is_test:
            status = Status.FAILED
            fields["error"] = "410 Gone: the receiver asked to stop; the webhook was turned off"
        elif is_test or attempts > len(BACKOFF):
            status = Status.FAILED
        else:
            status = Status.RETRYING
            fields["next_attempt_at"] = at + BACKOFF[attempts - 1]
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(
            status=status, **fields)
        if is_test:
            return status
        if result.ok:
            WebhookSubscription.objects.filter(pk=subscription.pk,
                                               consecutive_failures__gt=0).update(
                consecutive_failures=0)
            return status
        if gone:
            _disable(subscription, _("The receiver answered 410 Gone, asking for no more "
                                     "deliveries."), at)
            return status
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_failures=F("consecutive_failures") + 1)
        failures = (WebhookSubscription.objects.filter(pk=subscription.pk)
                    .values_list("consecutive_failures", flat=True).first()) or 0
        limit = settings.WEBHOOK_DISABLE_AFTER
        if limit and failures >= limit:
            answer = (f"HTTP {result.status_code}" if result.status_code is not None
                      else result.error[:150])
            _disable(subscription, _("Turned off after %(count)d failed attempts in a row; the "
                                     "last one got %(answer)s.")
                     % {"count": failures, "answer": answer}, at)
            return Status.FAILED
    return status


def _disable(subscription: WebhookSubscription, reason: str, at: dt.datetime) -> bool:
    """Turn the subscription off (once: the UPDATE is conditional on it being on) and fail
    its waiting deliveries."""
    changed = WebhookSubscription.objects.filter(pk=subscription.pk, active=True).update(
        active=False, disabled_at=at, disabled_reason=reason[:300], updated_at=at)
    if changed:
        _fail_waiting(subscription.pk)
        logger.warning("webhook %s (%s) turned off: %s", subscription.pk, subscription.url,
                       reason)
    return bool(changed)


def seconds_until_due(delivery_id: int) -> float | None:
    """How long until a waiting delivery falls due (for scheduling its next attempt)."""
    due = (WebhookDelivery.objects.filter(pk=delivery_id, status__in=WAITING)
           .values_list("next_attempt_at", flat=True).first())
    if due is None:
        return None
    return max((due - timezone.now()).total_seconds(), 0.0)


def due_delivery_ids(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> list[int]:
    """Deliveries due for a while with nobody on them (waiting ones whose task was lost,
    claims whose lease ran out), oldest first, through ``webhook_delivery_due_idx``."""
    moment = (now or timezone.now()) - SWEEP_GRACE
    return list(WebhookDelivery.objects
                .filter(status__in=UNFINISHED, next_attempt_at__lte=moment)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])

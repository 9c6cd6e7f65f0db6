"""Outbound webhooks (administrators only): subscriptions to event kinds, their signing
secret, a test delivery, and the delivery log with every attempt. See docs/webhooks.md for
what a receiver gets and how it checks the signature."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from mostrador.api import parse
from mostrador.api.schemas_automation_webhooks import (
    DeliveryOut,
    DeliveryPage,
    SecretOut,
    WebhookCreateIn,
    WebhookOut,
    WebhookPage,
    WebhookPatchIn,
    WebhookWithSecretOut,
)
from mostrador.automation import webhooks
from mostrador.automation.models import WebhookDelivery, WebhookSubscription
from mostrador.core.errors import NotFound, ValidationFailed

router = Router(tags=["webhooks"])


# --- reading --------------------------------------------------------------------------------


def access_webhook(user, webhook_id: int) -> WebhookSubscription:
    webhooks.check_may_manage_webhooks(user)
    subscription = WebhookSubscription.objects.filter(pk=webhook_id).first()
    if subscription is None:
        raise NotFound(_("Webhook %(id)s not found.") % {"id": webhook_id}, field="webhook")
    return subscription


def access_delivery(user, delivery_id: int) -> WebhookDelivery:
    webhooks.check_may_manage_webhooks(user)
    delivery = (WebhookDelivery.objects.prefetch_related("attempt_log")
                .filter(pk=delivery_id).first())
    if delivery is None:
        raise NotFound(_("Delivery %(id)s not found.") % {"id": delivery_id}, field="delivery")
    return delivery


# --- rendering ------------------------------------------------------------------------------


def _webhook(s: WebhookSubscription, *, with_secret: bool = False) -> dict[str, Any]:
    out = {"id": s.pk, "name": s.name, "url": s.url, "event_types": list(s.event_types or []),
           "active": s.active, "secret_prefix": webhooks.secret_prefix(s.secret),
           "consecutive_failures": s.consecutive_failures, "disabled_at": s.disabled_at,
           "disabled_reason": s.disabled_reason, "created_at": s.created_at,
           "updated_at": s.updated_at}
    if with_secret:
        out["secret"] = s.secret
    return out


def _delivery(d: WebhookDelivery, *, with_attempts: bool = True) -> dict[str, Any]:
    return {"id": d.pk, "uid": d.uid, "webhook": d.subscription_id, "event_type": d.event_type,
            "status": d.status, "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
            "response_code": d.response_code, "response_body": d.response_body,
            "error": d.error, "duration_ms": d.duration_ms, "created_at": d.created_at,
            "last_attempt_at": d.last_attempt_at, "delivered_at": d.delivered_at,
            "payload": d.payload,
            "attempt_log": [{"at": a.at, "response_code": a.response_code, "error": a.error,
                             "duration_ms": a.duration_ms} for a in d.attempt_log.all()]
            if with_attempts else None}


# --- subscriptions --------------------------------------------------------------------------


@router.get("/webhooks", response=WebhookPage)
def list_webhooks(request: HttpRequest):
    """Every webhook (a desk has a handful), by name."""
    webhooks.check_may_manage_webhooks(request.user)
    rows = WebhookSubscription.objects.order_by("name", "id")
    return {"items": [_webhook(s) for s in rows], "next_cursor": None}


@router.post("/webhooks", response={201: WebhookWithSecretOut})
def create_webhook(request: HttpRequest, payload: WebhookCreateIn):
    """The answer holds the signing ``secret`` in full: keep it, it is not shown again (rotate
    it to get a new one)."""
    subscription = webhooks.do_create_webhook(
        name=payload.name, url=payload.url, event_types=payload.event_types,
        active=payload.active, acting_user=request.user)
    return Status(201, _webhook(subscription, with_secret=True))


@router.get("/webhooks/{int:webhook_id}", response=WebhookOut)
def get_webhook(request: HttpRequest, webhook_id: int):
    return _webhook(access_webhook(request.user, webhook_id))


@router.patch("/webhooks/{int:webhook_id}", response=WebhookOut)
def update_webhook(request: HttpRequest, webhook_id: int, payload: WebhookPatchIn):
    """Change what is given. ``"active": true`` turns a webhook that was turned off for
    failing back on, with its count of failures at zero."""
    subscription = access_webhook(request.user, webhook_id)
    changes = payload.model_dump(include=payload.model_fields_set)
    for field, value in changes.items():
        if value is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    if changes:
        subscription = webhooks.do_update_webhook(subscription, acting_user=request.user,
                                                  **changes)
    return _webhook(subscription)


@router.delete("/webhooks/{int:webhook_id}", response={204: None})
def delete_webhook(request: HttpRequest, webhook_id: int):
    """The webhook and its delivery log go."""
    webhooks.do_delete_webhook(access_webhook(request.user, webhook_id),
                               acting_user=request.user)
    return Status(204, None)


@router.post("/webhooks/{int:webhook_id}/rotate-secret", response=SecretOut)
def rotate_secret(request: HttpRequest, webhook_id: int):
    """A new signing secret, in force at once; the answer is the only place it is shown."""
    subscription = access_webhook(request.user, webhook_id)
    secret = webhooks.do_rotate_webhook_secret(subscription, acting_user=request.user)
    return {"secret": secret, "secret_prefix": webhooks.secret_prefix(secret)}


@router.post("/webhooks/{int:webhook_id}/test", response={202: DeliveryOut})
def send_test(request: HttpRequest, webhook_id: int):
    """Queue a ``webhook.test`` delivery (sent once, also to a webhook that is off); its result
    shows in the delivery log."""
    subscription = access_webhook(request.user, webhook_id)
    delivery = webhooks.do_send_test_webhook(subscription, acting_user=request.user)
    return Status(202, _delivery(delivery, with_attempts=False))


# --- the delivery log -----------------------------------------------------------------------


@router.get("/webhooks/{int:webhook_id}/deliveries", response=DeliveryPage)
def list_deliveries(request: HttpRequest, webhook_id: int, cursor: str | None = None,
                    limit: int = 50, status: str | None = None):
    """Newest first, each with its attempts; ``status`` keeps one status (e.g. ``failed``)."""
    subscription = access_webhook(request.user, webhook_id)
    rows, next_cursor = webhooks.list_deliveries(subscription, cursor=cursor, status=status,
                                                 limit=parse.page_limit(limit),
                                                 with_attempts=True)
    return {"items": [_delivery(d) for d in rows], "next_cursor": next_cursor}


@router.post("/webhooks/deliveries/{int:delivery_id}/redeliver", response={202: DeliveryOut})
def redeliver(request: HttpRequest, delivery_id: int):
    """Send a delivery again, with the same id and body, as soon as a worker is free; the retry
    schedule starts afresh. 409 while it is being sent or when its webhook is off."""
    delivery = access_delivery(request.user, delivery_id)
    delivery = webhooks.do_redeliver_webhook(delivery, acting_user=request.user)
    return Status(202, _delivery(delivery, with_attempts=False))

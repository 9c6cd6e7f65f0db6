"""Settings → Webhooks: an administrator creates a webhook through the form, sees its secret
once, rotates it, sends a test and reads the delivery log; nobody else gets in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from mostrador.automation import webhooks
from mostrador.automation.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from mostrador.core.tasks import huey

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _empty_schedule():
    huey.storage.flush_schedule()
    yield
    huey.storage.flush_schedule()


@pytest.fixture
def diego(client, desk):
    """Diego, the administrator, signed in."""
    client.force_login(desk.diego)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def field_errors(response, name: str) -> str:
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def test_an_administrator_creates_a_webhook_and_sees_its_secret_once(diego, desk):
    page = diego.get(reverse("web:settings_webhooks"))
    assert page.status_code == 200
    assert "No webhooks yet" in text_of(page)
    assert reverse("web:settings_webhooks") in page.content.decode()  # the tab

    form = diego.get(reverse("web:settings_webhook_new"))
    assert 'value="conversation.created"' in form.content.decode()
    assert 'value="sla.breached"' in form.content.decode()

    response = diego.post(reverse("web:settings_webhook_new"), {
        "name": "CRM", "url": "https://crm.example.org/hooks/desk",
        "event_types": ["conversation.created", "status.changed"], "active": "on"})
    subscription = WebhookSubscription.objects.get()
    assert response["Location"] == reverse("web:settings_webhook", args=[subscription.pk])
    assert (subscription.name, subscription.url, subscription.event_types, subscription.active) == (
        "CRM", "https://crm.example.org/hooks/desk", ["conversation.created", "status.changed"],
        True)
    assert subscription.created_by == desk.diego

    shown = diego.get(response["Location"])
    assert subscription.secret in shown.content.decode()
    again = diego.get(response["Location"])
    assert subscription.secret not in again.content.decode()
    assert subscription.secret[:10] in again.content.decode()

    listed = text_of(diego.get(reverse("web:settings_webhooks")))
    assert "CRM" in listed and "active" in listed and "Nothing sent yet" in listed


def test_mistakes_are_shown_next_to_their_fields(diego):
    response = diego.post(reverse("web:settings_webhook_new"), {
        "name": "CRM", "url": "crm.example.org", "event_types": ["note.added"]})
    assert response.status_code == 200
    assert "https://" in field_errors(response, "url")
    response = diego.post(reverse("web:settings_webhook_new"), {
        "name": "CRM", "url": "https://crm.example.org/in"})
    assert "Choose at least one event" in field_errors(response, "event_types")
    assert not WebhookSubscription.objects.exists()


def test_edit_rotate_test_and_the_delivery_log(diego, desk):
    subscription = webhooks.do_create_webhook(name="CRM", url="https://crm.example.org/in",
                                              event_types=["*"], acting_user=desk.diego)
    edit = reverse("web:settings_webhook", args=[subscription.pk])
    response = diego.post(edit, {"name": "CRM ventas", "url": "https://crm.example.org/v2",
                                 "event_types": ["note.added"]})
    assert response["Location"] == reverse("web:settings_webhooks")
    subscription.refresh_from_db()
    assert (subscription.name, subscription.url, subscription.event_types,
            subscription.active) == ("CRM ventas", "https://crm.example.org/v2",
                                     ["note.added"], False)

    old = subscription.secret
    response = diego.post(reverse("web:settings_webhook_rotate", args=[subscription.pk]),
                          headers=HX)
    assert response.status_code == 204 and response["HX-Redirect"] == edit
    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret in diego.get(edit).content.decode()

    response = diego.post(reverse("web:settings_webhook_test", args=[subscription.pk]))
    log = reverse("web:settings_webhook_deliveries", args=[subscription.pk])
    assert response["Location"] == log
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.event_type == "webhook.test"
    # What the worker recorded for it.
    WebhookAttempt.objects.create(delivery=delivery, at=timezone.now(), response_code=502,
                                  duration_ms=31)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=1, response_code=502, duration_ms=31,
        response_body="Bad gateway", last_attempt_at=timezone.now(), next_attempt_at=None)

    page = diego.get(log)
    text = text_of(page)
    assert "webhook.test" in text and "Failed" in text and "502" in text and "31 ms" in text
    assert delivery.uid in text and "Bad gateway" in text
    assert "&quot;type&quot;: &quot;webhook.test&quot;" in page.content.decode()  # payload
    assert text_of(diego.get(log, {"status": "delivered"})).count("webhook.test") == 0

    response = diego.post(reverse("web:settings_webhook_redeliver", args=[delivery.pk]))
    assert response["Location"] == f"{log}#delivery-{delivery.pk}"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)

    listed = text_of(diego.get(reverse("web:settings_webhooks")))
    assert "off" in listed and "Waiting to be sent" in listed

    response = diego.post(reverse("web:settings_webhook_delete", args=[subscription.pk]),
                          headers=HX)
    assert response["HX-Redirect"] == reverse("web:settings_webhooks")
    assert not WebhookSubscription.objects.exists() and not WebhookDelivery.objects.exists()


def test_a_webhook_turned_off_for_failing_says_why(diego, desk):
    subscription = webhooks.do_create_webhook(name="CRM", url="https://crm.example.org/in",
                                              event_types=["*"], acting_user=desk.diego)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        active=False, disabled_at=timezone.now() - dt.timedelta(hours=1),
        disabled_reason="Turned off after 15 failed attempts in a row; the last one got HTTP 500.")
    assert "the last one got HTTP 500" in text_of(diego.get(reverse("web:settings_webhooks")))
    edit = reverse("web:settings_webhook", args=[subscription.pk])
    assert "Tick Active and save" in text_of(diego.get(edit))
    diego.post(edit, {"name": "CRM", "url": "https://crm.example.org/in", "event_types": ["*"],
                      "active": "on"})
    subscription.refresh_from_db()
    assert subscription.active and subscription.disabled_reason == ""


@pytest.mark.parametrize("who", ["ana", "carla"])
def test_agents_and_supervisors_are_refused(client, desk, who):
    subscription = webhooks.do_create_webhook(name="CRM", url="https://crm.example.org/in",
                                              event_types=["*"], acting_user=desk.diego)
    client.force_login(getattr(desk, who))
    for name in ("settings_webhooks", "settings_webhook_new"):
        response = client.get(reverse(f"web:{name}"))
        assert response.status_code == 403
        assert "Only administrators may manage webhooks" in text_of(response)
    response = client.post(reverse("web:settings_webhook_new"), {
        "name": "Mine", "url": "https://evil.example.org/", "event_types": ["*"]})
    assert response.status_code == 403
    for name in ("settings_webhook_rotate", "settings_webhook_delete", "settings_webhook_test"):
        assert client.post(reverse(f"web:{name}", args=[subscription.pk])).status_code == 403
    assert list(WebhookSubscription.objects.values_list("name", flat=True)) == ["CRM"]
    assert not WebhookDelivery.objects.exists()
    # The tab is not offered either (supervisors see the other settings tabs).
    if who == "carla":
        page = client.get(reverse("web:settings_sla"))
        assert page.status_code == 200
        assert reverse("web:settings_webhooks") not in page.content.decode()

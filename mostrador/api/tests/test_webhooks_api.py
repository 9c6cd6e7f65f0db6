"""Webhooks through the API: administrators create, change, test and delete them; the secret is
shown in full only when it is made; the delivery log pages newest first; nobody else gets in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mostrador.api.tests.conftest import error, ok
from mostrador.automation import webhooks
from mostrador.automation.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from mostrador.core.tasks import huey

CRM = {"name": "CRM", "url": "https://crm.example.org/hooks/mostrador",
       "event_types": ["conversation.created", "status.changed"]}


@pytest.fixture
def diego(client_for, desk):
    """Diego, the administrator."""
    return client_for(desk.diego)


@pytest.fixture(autouse=True)
def _empty_schedule():
    huey.storage.flush_schedule()
    yield
    huey.storage.flush_schedule()


def test_create_read_change_and_delete_a_webhook(diego):
    created = ok(diego.post("/webhooks", CRM), 201)
    assert (created["name"], created["url"], created["active"]) == (
        "CRM", CRM["url"], True)
    assert created["event_types"] == ["conversation.created", "status.changed"]
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    assert created["secret_prefix"] == secret[:10]
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == secret

    # Elsewhere only the first characters.
    read = ok(diego.get(f"/webhooks/{created['id']}"))
    assert "secret" not in read and read["secret_prefix"] == secret[:10]
    listed = ok(diego.get("/webhooks"))
    assert [w["id"] for w in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0] and listed["next_cursor"] is None

    changed = ok(diego.patch(f"/webhooks/{created['id']}",
                             {"event_types": ["*"], "name": "CRM (ventas)"}))
    assert (changed["event_types"], changed["name"], changed["url"]) == (
        ["*"], "CRM (ventas)", CRM["url"])
    assert "secret" not in changed

    assert diego.delete(f"/webhooks/{created['id']}").status_code == 204
    error(diego.get(f"/webhooks/{created['id']}"), 404)
    assert not WebhookSubscription.objects.exists()


def test_mistakes_answer_400_naming_the_field(diego):
    assert error(diego.post("/webhooks", {**CRM, "url": "crm.example.org"}), 400)["field"] == "url"
    assert error(diego.post("/webhooks", {**CRM, "event_types": []}), 400)["field"] == (
        "event_types")
    body = error(diego.post("/webhooks", {**CRM, "event_types": ["ticket.created"]}), 400)
    assert body["field"] == "event_types" and "ticket.created" in body["detail"]
    assert error(diego.post("/webhooks", {**CRM, "secret": "mine"}), 400)["field"] == "secret"
    created = ok(diego.post("/webhooks", CRM), 201)
    assert error(diego.patch(f"/webhooks/{created['id']}", {"url": None}), 400)["field"] == "url"
    assert error(diego.get(f"/webhooks/{created['id']}/deliveries", {"status": "lost"}),
                 400)["field"] == "status"
    error(diego.get("/webhooks/999999"), 404)


def test_rotating_shows_the_new_secret_once(diego):
    created = ok(diego.post("/webhooks", CRM), 201)
    rotated = ok(diego.post(f"/webhooks/{created['id']}/rotate-secret"))
    assert rotated["secret"] != created["secret"]
    assert rotated["secret_prefix"] == rotated["secret"][:10]
    assert WebhookSubscription.objects.get(pk=created["id"]).secret == rotated["secret"]
    assert ok(diego.get(f"/webhooks/{created['id']}"))["secret_prefix"] == (
        rotated["secret"][:10])


@pytest.mark.parametrize("who", ["ana", "carla"])
def test_only_administrators_get_in(client_for, desk, diego, who):
    """Agents and supervisors alike: a webhook sends conversation data anywhere it names."""
    created = ok(diego.post("/webhooks", CRM), 201)
    delivery = webhooks.do_send_test_webhook(
        WebhookSubscription.objects.get(pk=created["id"]), acting_user=desk.diego)
    other = client_for(getattr(desk, who))
    webhook = f"/webhooks/{created['id']}"
    for response in (other.get("/webhooks"), other.post("/webhooks", CRM),
                     other.get(webhook), other.patch(webhook, {"active": False}),
                     other.delete(webhook), other.post(f"{webhook}/rotate-secret"),
                     other.post(f"{webhook}/test"), other.get(f"{webhook}/deliveries"),
                     other.post(f"/webhooks/deliveries/{delivery.pk}/redeliver"),
                     other.get("/webhooks/999999")):
        assert "administrators" in error(response, 403)["detail"]
    subscription = WebhookSubscription.objects.get()
    assert subscription.active and subscription.secret == created["secret"]
    assert WebhookDelivery.objects.count() == 1


def test_a_test_delivery_and_the_log(diego, desk):
    created = ok(diego.post("/webhooks", {**CRM, "url": "http://127.0.0.1:9/nowhere"}), 201)
    queued = ok(diego.post(f"/webhooks/{created['id']}/test"), 202)
    assert (queued["event_type"], queued["status"], queued["webhook"]) == (
        "webhook.test", "pending", created["id"])
    assert queued["payload"]["type"] == "webhook.test" and queued["payload"]["id"] == (
        queued["uid"])

    # What the worker recorded (an answer of 503 from the receiver, say).
    delivery = WebhookDelivery.objects.get(pk=queued["id"])
    now = timezone.now()
    WebhookAttempt.objects.create(delivery=delivery, at=now, response_code=503, duration_ms=12)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=1, response_code=503, response_body="busy", duration_ms=12,
        last_attempt_at=now, next_attempt_at=None)
    with time_machine.travel(now + dt.timedelta(minutes=1), tick=False):
        newer = webhooks.do_send_test_webhook(
            WebhookSubscription.objects.get(pk=created["id"]), acting_user=desk.diego)

    page = ok(diego.get(f"/webhooks/{created['id']}/deliveries", {"limit": 1}))
    assert [d["id"] for d in page["items"]] == [newer.pk] and page["next_cursor"]
    page = ok(diego.get(f"/webhooks/{created['id']}/deliveries",
                        {"limit": 1, "cursor": page["next_cursor"]}))
    [logged] = page["items"]
    assert page["next_cursor"] is None
    assert (logged["id"], logged["status"], logged["response_code"], logged["attempts"]) == (
        delivery.pk, "failed", 503, 1)
    assert logged["response_body"] == "busy"
    assert logged["attempt_log"] == [{"at": logged["attempt_log"][0]["at"],
                                      "response_code": 503, "error": "", "duration_ms": 12}]
    failed = ok(diego.get(f"/webhooks/{created['id']}/deliveries", {"status": "failed"}))
    assert [d["id"] for d in failed["items"]] == [delivery.pk]

    again = ok(diego.post(f"/webhooks/deliveries/{delivery.pk}/redeliver"), 202)
    assert (again["id"], again["uid"], again["status"], again["attempts"]) == (
        delivery.pk, delivery.uid, "pending", 0)
    error(diego.post("/webhooks/deliveries/999999/redeliver"), 404)


def test_turning_a_webhook_back_on_clears_why_it_was_off(diego):
    created = ok(diego.post("/webhooks", CRM), 201)
    WebhookSubscription.objects.filter(pk=created["id"]).update(
        active=False, disabled_at=timezone.now(), consecutive_failures=15,
        disabled_reason="Turned off after 15 failed attempts in a row.")
    off = ok(diego.get(f"/webhooks/{created['id']}"))
    assert (off["active"], off["consecutive_failures"]) == (False, 15)
    assert off["disabled_at"] and off["disabled_reason"].startswith("Turned off")
    # Sending again while it is off is refused with what to do.
    delivery = webhooks.do_send_test_webhook(
        WebhookSubscription.objects.get(pk=created["id"]), acting_user=None)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(event_type="conversation.created",
                                                          status="failed")
    assert "turn it on" in error(diego.post(f"/webhooks/deliveries/{delivery.pk}/redeliver"),
                                 409)["detail"]

    on = ok(diego.patch(f"/webhooks/{created['id']}", {"active": True}))
    assert (on["active"], on["disabled_at"], on["disabled_reason"],
            on["consecutive_failures"]) == (True, None, "", 0)

"""Outbound webhooks against a real HTTP receiver on 127.0.0.1: signed deliveries of committed
events, filtering by event type, retries with backoff, the delivery log, turning a failing
subscription off, the exclusive claim, and the sweep that picks up lost work."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mostrador.automation import tasks, webhooks
from mostrador.automation.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from mostrador.conversations import actions as conv
from mostrador.core.errors import PermissionDenied, ValidationFailed
from mostrador.core.tasks import huey

pytestmark = pytest.mark.django_db


class Receiver:
    """What a customer's endpoint saw: every request, answered with the queued status codes
    (200 once the queue is empty)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: deque[int] = deque()
        self.lock = threading.Lock()
        self.url = ""

    def answer(self, *codes: int) -> None:
        with self.lock:
            self.answers.extend(codes)

    def _next(self) -> int:
        with self.lock:
            return self.answers.popleft() if self.answers else 200

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body})


@pytest.fixture
def receiver():
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            found._record(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            code = found._next()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(f"answered {code}".encode())

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/mostrador"
    yield found
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _empty_schedule():
    huey.storage.flush_schedule()
    yield
    huey.storage.flush_schedule()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run ``fn`` and then what it hands over after commit, as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def subscribe(desk, url: str, event_types, **kwargs) -> WebhookSubscription:
    return webhooks.do_create_webhook(name=kwargs.pop("name", "CRM"), url=url,
                                      event_types=event_types, acting_user=desk.diego, **kwargs)


def open_conversation(committed, desk, **kwargs):
    return committed(conv.do_create_conversation, inbox=desk.inbox, customer=desk.elena,
                     subject=kwargs.pop("subject", "Pedido 4471 sin llegar"),
                     text="Hola, el pedido 4471 no ha llegado.", acting_user=desk.ana, **kwargs)


# --- signatures ------------------------------------------------------------------------------


def test_a_signature_verifies_with_its_secret_only():
    body = b'{"id":"abc","type":"conversation.created"}'
    now = 1_780_000_000
    header = webhooks.sign("whsec_right", body, now)
    assert header.startswith(f"t={now},v1=") and len(header.partition("v1=")[2]) == 64
    assert webhooks.verify("whsec_right", body, header, now=now + 10)
    assert not webhooks.verify("whsec_wrong", body, header, now=now + 10)
    assert not webhooks.verify("whsec_right", body + b" ", header, now=now + 10)
    # Too old to be anything but a replay; a header that is not ours.
    assert not webhooks.verify("whsec_right", body, header, now=now + 301)
    assert webhooks.verify("whsec_right", body, header, now=now + 3600, tolerance=3600)
    assert not webhooks.verify("whsec_right", body, "v1=abc", now=now)
    assert not webhooks.verify("whsec_right", body, "t=soon,v1=abc", now=now)


# --- subscriptions ---------------------------------------------------------------------------


def test_subscriptions_are_checked_and_only_administrators_manage_them(desk):
    with pytest.raises(ValidationFailed) as bad_url:
        subscribe(desk, "ftp://example.org/in", ["conversation.created"])
    assert bad_url.value.field == "url"
    with pytest.raises(ValidationFailed) as no_types:
        subscribe(desk, "https://example.org/in", [])
    assert no_types.value.field == "event_types"
    with pytest.raises(ValidationFailed) as unknown:
        subscribe(desk, "https://example.org/in", ["conversation.created", "sla.late"])
    assert unknown.value.field == "event_types" and "sla.late" in unknown.value.message
    with pytest.raises(PermissionDenied):
        webhooks.do_create_webhook(name="CRM", url="https://example.org/in",
                                   event_types=["*"], acting_user=desk.carla)

    sub = subscribe(desk, " https://example.org/in ", ["tags.changed", "conversation.created",
                                                        "tags.changed"])
    assert sub.url == "https://example.org/in"
    assert sub.event_types == ["conversation.created", "tags.changed"]
    assert sub.secret.startswith("whsec_") and sub.created_by == desk.diego
    everything = subscribe(desk, "https://example.org/all", ["note.added", "*"])
    assert everything.event_types == ["*"]

    old = sub.secret
    new = webhooks.do_rotate_webhook_secret(sub, acting_user=desk.diego)
    assert new != old and WebhookSubscription.objects.get(pk=sub.pk).secret == new


# --- deliveries ------------------------------------------------------------------------------


def test_a_new_conversation_is_posted_once_signed_with_its_summary(desk, receiver, committed):
    sub = subscribe(desk, receiver.url, ["conversation.created"])
    conversation = open_conversation(committed, desk, tags=["envio"],
                                     custom_fields={"pedido": "4471"})

    [request] = receiver.requests
    assert request["path"] == "/hooks/mostrador"
    headers, body = request["headers"], request["body"]
    assert headers["x-mostrador-event"] == "conversation.created"
    assert headers["user-agent"] == "Mostrador-Webhooks/1"
    assert headers["content-type"] == "application/json"
    assert webhooks.verify(sub.secret, body, headers["x-mostrador-signature"])
    assert not webhooks.verify("whsec_someone_else", body, headers["x-mostrador-signature"])
    # Compact, keys sorted: the bytes a receiver hashes are the bytes we signed.
    document = json.loads(body)
    assert body == json.dumps(document, separators=(",", ":"), sort_keys=True,
                              ensure_ascii=False).encode()

    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert headers["x-mostrador-delivery"] == delivery.uid == document["id"]
    assert document["type"] == "conversation.created"
    assert document["created_at"].endswith("Z")
    event, summary = document["data"]["event"], document["data"]["conversation"]
    assert event["kind"] == "conversation.created"
    assert event["actor"] == {"kind": "agent", "id": desk.ana.pk, "name": "Ana García"}
    assert event["after"]["inbox"] == desk.inbox.pk
    assert summary["id"] == summary["number"] == conversation.pk
    assert summary["subject"] == "Pedido 4471 sin llegar"
    assert (summary["status"], summary["channel"], summary["inbox_id"]) == (
        "new", "email", desk.inbox.pk)
    assert summary["customer"] == {"id": desk.elena.pk, "name": "Elena Martín",
                                   "email": "elena.martin@correo.es"}
    assert summary["tags"] == ["envio"] and summary["custom_fields"] == {"pedido": "4471"}
    assert summary["created_at"].endswith("Z") and summary["tier"] == 1

    assert delivery.status == WebhookDelivery.Status.DELIVERED
    assert (delivery.attempts, delivery.response_code) == (1, 200)
    assert delivery.response_body == "answered 200" and delivery.next_attempt_at is None
    assert delivery.delivered_at is not None and delivery.duration_ms is not None
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.response_code, attempt.error) == (200, "")


def test_each_subscription_gets_only_the_kinds_it_chose(desk, receiver, committed):
    notes = subscribe(desk, receiver.url + "?notes", ["note.added"], name="Notes")
    everything = subscribe(desk, receiver.url + "?all", ["*"], name="All")
    subscribe(desk, receiver.url + "?off", ["conversation.created"], name="Off", active=False)

    conversation = open_conversation(committed, desk)
    assert not WebhookDelivery.objects.filter(subscription=notes).exists()
    kinds = set(WebhookDelivery.objects.filter(subscription=everything)
                .values_list("event_type", flat=True))
    assert {"conversation.created", "message.received"} <= kinds
    assert kinds <= webhooks.SUBSCRIBABLE  # "*" is the documented kinds, no internal step
    assert not [r for r in receiver.requests if r["path"].endswith("?off")]

    committed(conv.do_add_note, conversation, "Llamar a transportes", acting_user=desk.ana)
    [note] = [r for r in receiver.requests if r["path"].endswith("?notes")]
    assert note["headers"]["x-mostrador-event"] == "note.added"
    assert WebhookDelivery.objects.filter(subscription=everything,
                                          event_type="note.added").count() == 1


def test_nothing_is_queued_while_no_subscription_is_active(desk, receiver, committed,
                                                           django_assert_num_queries):
    subscribe(desk, receiver.url, ["*"], active=False)
    open_conversation(committed, desk)
    assert not WebhookDelivery.objects.exists() and not receiver.requests

    batch = [("conversation.created", {"conversation_id": 1, "event_id": 1,
                                       "message_id": None})]
    with django_assert_num_queries(1):  # "is any subscription on?"
        assert webhooks.enqueue_for_batch(batch) == 0
    with django_assert_num_queries(0):  # nothing anyone can subscribe to
        assert webhooks.enqueue_for_batch([("sla.paused", {"conversation_id": 1}),
                                           ("inbox.created", {"inbox_id": 1})]) == 0


def test_a_batch_costs_the_same_queries_for_one_event_or_many(desk, receiver, committed):
    subscribe(desk, receiver.url, ["*"])
    first = open_conversation(committed, desk)
    second = open_conversation(committed, desk, subject="Otra cosa")
    rows = list(first.events.all()) + list(second.events.all())
    batch = [(e.kind, {"conversation_id": e.conversation_id, "event_id": e.pk,
                       "message_id": e.message_id}) for e in rows
             if e.kind in webhooks.SUBSCRIBABLE]
    counts = []
    for events in (batch[:1], batch):
        with CaptureQueriesContext(connection) as queries:
            webhooks.enqueue_for_batch(events)
        counts.append(len(queries))
    assert len(batch) >= 4
    assert counts[0] == counts[1]


def test_a_failure_is_retried_a_minute_later_and_then_delivered(desk, receiver, committed):
    receiver.answer(500)
    sub = subscribe(desk, receiver.url, ["conversation.created"])
    open_conversation(committed, desk)

    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == WebhookDelivery.Status.RETRYING
    assert (delivery.attempts, delivery.response_code) == (1, 500)
    assert delivery.response_body == "answered 500"
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert wait == dt.timedelta(minutes=1)
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.response_code == 500
    sub.refresh_from_db()
    assert sub.consecutive_failures == 1 and sub.active
    # The task scheduled its own next run for when the retry falls due.
    [retry] = [t for t in huey.scheduled() if t.args == (delivery.pk,)]
    assert retry.name.endswith("deliver_webhook")
    eta = retry.eta - dt.datetime.now(dt.UTC).replace(tzinfo=None)  # huey keeps naive UTC
    assert 50 < eta.total_seconds() <= 60

    # Not due yet: nothing is posted.
    assert webhooks.attempt_delivery(delivery.pk) == "retrying"
    assert len(receiver.requests) == 1

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        assert tasks.deliver_webhook.call_local(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 2, 200)
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
    first, second = receiver.requests
    # The same id on every attempt: the receiver's idempotency key.
    assert first["headers"]["x-mostrador-delivery"] == second["headers"]["x-mostrador-delivery"]
    assert first["body"] == second["body"]
    sub.refresh_from_db()
    assert sub.consecutive_failures == 0


def test_the_backoff_runs_out_after_six_retries(desk, receiver):
    receiver.answer(*[503] * 7)
    sub = subscribe(desk, receiver.url, ["*"])
    delivery = webhooks.do_send_test_webhook(sub, acting_user=desk.diego)
    # A test delivery is a one-off; take a regular one through the schedule.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(event_type="conversation.created")
    moment = timezone.now()
    waits = []
    for _attempt in range(7):
        with time_machine.travel(moment, tick=False):
            status = webhooks.attempt_delivery(delivery.pk)
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - moment)
            moment = delivery.next_attempt_at
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30),
                     dt.timedelta(hours=2), dt.timedelta(hours=8), dt.timedelta(hours=24)]
    assert status == "failed" and delivery.status == "failed" and delivery.attempts == 7
    assert len(receiver.requests) == 7


def test_repeated_failures_turn_the_subscription_off(desk, receiver, committed, settings):
    settings.WEBHOOK_DISABLE_AFTER = 3
    receiver.answer(500, 500, 500)
    sub = subscribe(desk, receiver.url, ["conversation.created"])
    open_conversation(committed, desk, subject="Uno")
    open_conversation(committed, desk, subject="Dos")
    sub.refresh_from_db()
    assert sub.consecutive_failures == 2 and sub.active

    # A delivery still waiting when the subscription goes off is failed with it.
    waiting = WebhookDelivery.objects.filter(subscription=sub).order_by("pk").first()
    assert waiting.status == "retrying"
    open_conversation(committed, desk, subject="Tres")

    sub.refresh_from_db()
    assert not sub.active and sub.consecutive_failures == 3
    assert sub.disabled_at is not None and "3" in sub.disabled_reason
    assert "500" in sub.disabled_reason
    statuses = dict(WebhookDelivery.objects.filter(subscription=sub)
                    .values_list("pk", "status"))
    assert set(statuses.values()) == {"failed"}
    waiting.refresh_from_db()
    assert waiting.error == webhooks.SUBSCRIPTION_DISABLED and waiting.next_attempt_at is None

    # Off: nothing more is queued. Back on: a clean slate.
    open_conversation(committed, desk, subject="Cuatro")
    assert WebhookDelivery.objects.filter(subscription=sub).count() == 3
    webhooks.do_update_webhook(sub, active=True, acting_user=desk.diego)
    sub.refresh_from_db()
    assert (sub.active, sub.disabled_at, sub.disabled_reason, sub.consecutive_failures) == (
        True, None, "", 0)


def test_a_410_turns_the_subscription_off_at_once(desk, receiver, committed):
    receiver.answer(410)
    sub = subscribe(desk, receiver.url, ["conversation.created"])
    open_conversation(committed, desk)

    sub.refresh_from_db()
    assert not sub.active and "410" in sub.disabled_reason
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert (delivery.status, delivery.response_code, delivery.next_attempt_at) == (
        "failed", 410, None)
    assert not [t for t in huey.scheduled() if t.args == (delivery.pk,)]


def test_an_unreachable_receiver_is_logged_as_an_error(desk, committed):
    # A port nobody listens on: one the system just handed out and took back.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sub = subscribe(desk, f"http://127.0.0.1:{port}/hooks", ["conversation.created"])
    open_conversation(committed, desk)
    delivery = WebhookDelivery.objects.get(subscription=sub)
    assert delivery.status == "retrying" and delivery.response_code is None
    assert "Connect" in delivery.error
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.response_code is None and attempt.error == delivery.error
    sub.refresh_from_db()
    assert sub.consecutive_failures == 1


def test_the_claim_is_exclusive(desk, receiver):
    sub = subscribe(desk, receiver.url, ["*"])
    delivery = webhooks.do_send_test_webhook(sub, acting_user=desk.diego)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="sending", next_attempt_at=now + webhooks.SENDING_LEASE)

    assert webhooks.attempt_delivery(delivery.pk) == "sending"
    assert not receiver.requests and not WebhookAttempt.objects.exists()

    # A claim whose worker died is taken over once its lease has run out.
    with time_machine.travel(now + dt.timedelta(minutes=11)):
        assert webhooks.attempt_delivery(delivery.pk) == "delivered"
    assert len(receiver.requests) == 1
    assert webhooks.attempt_delivery(delivery.pk) == "delivered"
    assert len(receiver.requests) == 1
    assert webhooks.attempt_delivery(10**9) == "missing"


def test_the_sweep_sends_what_a_restart_left_behind(desk, receiver, committed):
    sub = subscribe(desk, receiver.url, ["*"])
    # Written, but its task never ran (the process stopped before the commit's callbacks).
    delivery = webhooks.enqueue_trigger_webhook(sub.pk, open_conversation(
        committed, desk).pk, trigger_name="VIP")
    receiver.requests.clear()
    assert delivery.status == "pending" and delivery.next_attempt_at == delivery.created_at

    assert committed(tasks.retry_due_webhooks.call_local) == 0  # its own task takes it
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=3)):
        assert committed(tasks.retry_due_webhooks.call_local) == 1
    [request] = receiver.requests
    document = json.loads(request["body"])
    assert request["headers"]["x-mostrador-event"] == "automation.webhook"
    assert document["type"] == "automation.webhook"
    assert document["data"]["trigger"] == {"name": "VIP"}
    assert document["data"]["conversation"]["customer"]["name"] == "Elena Martín"
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_trigger_webhook_to_a_subscription_that_is_off_is_skipped(desk, receiver, committed):
    sub = subscribe(desk, receiver.url, ["*"], active=False)
    conversation = open_conversation(committed, desk)
    assert webhooks.enqueue_trigger_webhook(sub.pk, conversation.pk, trigger_name="VIP") is None
    assert webhooks.enqueue_trigger_webhook(10**9, conversation.pk, trigger_name="VIP") is None
    assert not WebhookDelivery.objects.exists()


def test_a_test_delivery_goes_once_even_to_a_webhook_that_is_off(desk, receiver, committed):
    receiver.answer(410)
    sub = subscribe(desk, receiver.url, ["*"], active=False)
    delivery = committed(webhooks.do_send_test_webhook, sub, acting_user=desk.diego)
    delivery.refresh_from_db()
    [request] = receiver.requests
    assert request["headers"]["x-mostrador-event"] == "webhook.test"
    assert json.loads(request["body"])["data"]["webhook"] == {"id": sub.pk, "name": "CRM"}
    # Failed at once, not retried, and not held against the webhook.
    assert (delivery.status, delivery.response_code) == ("failed", 410)
    sub.refresh_from_db()
    assert (sub.consecutive_failures, sub.disabled_at, sub.disabled_reason) == (0, None, "")

    # Sent again on request: the same id, the schedule afresh.
    again = committed(webhooks.do_redeliver_webhook, delivery, acting_user=desk.diego)
    again.refresh_from_db()
    assert (again.status, again.attempts) == ("delivered", 1)
    assert receiver.requests[1]["headers"]["x-mostrador-delivery"] == delivery.uid
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_the_delivery_log_pages_newest_first(desk, receiver):
    sub = subscribe(desk, receiver.url, ["*"])
    start = timezone.now()
    made = []
    for minute in range(5):
        with time_machine.travel(start + dt.timedelta(minutes=minute), tick=False):
            made.append(webhooks.do_send_test_webhook(sub, acting_user=desk.diego).pk)
    page, cursor = webhooks.list_deliveries(sub, limit=2)
    assert [d.pk for d in page] == made[:-3:-1] and cursor
    page, cursor = webhooks.list_deliveries(sub, limit=2, cursor=cursor)
    assert [d.pk for d in page] == [made[2], made[1]]
    page, cursor = webhooks.list_deliveries(sub, limit=2, cursor=cursor)
    assert [d.pk for d in page] == [made[0]] and cursor is None

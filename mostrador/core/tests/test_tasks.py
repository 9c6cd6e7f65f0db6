"""The task queue for real: replies delivered by a consumer reading the configured backend
(SqliteHuey embedded; RedisHuey over a real connection when REDIS_URL is set)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.models import Message
from mostrador.core import tasks


@pytest.fixture
def queued_mode(settings, tmp_path):
    """Tasks go through the real queue (not in-line) for the length of a test."""
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path)}
    tasks.huey.immediate = False
    tasks.huey.flush()
    yield tmp_path
    tasks.stop_embedded_consumer()
    tasks.huey.flush()
    tasks.huey.immediate = True


@pytest.mark.django_db(transaction=True)
def test_a_reply_is_delivered_by_the_embedded_consumer(desk, queued_mode):
    expected = "RedisHuey" if settings.TASKS["redis_url"] else "SqliteHuey"
    assert type(tasks.huey).__name__ == expected
    conversation = actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id="frank.miller@example.org", provider_id="<q1@x>",
        subject="Refund", text="Where is my refund?", reply_text="Where is my refund?",
    )).conversation

    reply = actions.do_send_reply(conversation, "It left our bank today.", acting_user=desk.ana)
    assert Message.objects.get(pk=reply.pk).delivery_status == "queued"
    assert tasks.huey.pending_count() == 1  # waiting in the backend, not run in-line

    tasks.start_embedded_consumer()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        reply.refresh_from_db()
        if reply.delivery_status == "sent":
            break
        time.sleep(0.05)
    assert reply.delivery_status == "sent"
    assert len(list(queued_mode.glob("*.eml"))) == 1

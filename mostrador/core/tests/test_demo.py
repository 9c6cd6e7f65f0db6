"""The demo desk: believable, bilingual, complete, and seeded once."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from mostrador.accounts.actions import do_revoke_api_token, user_for_token
from mostrador.accounts.models import ApiToken, Team
from mostrador.channels.email.adapter import inbox_for_addresses
from mostrador.conversations import queries
from mostrador.conversations.models import Conversation, Event, Inbox, Message
from mostrador.core import demo
from mostrador.customers.models import Customer

NOW = dt.datetime(2025, 3, 14, 11, 30, tzinfo=dt.UTC)
Status = Conversation.Status


@pytest.fixture
def seeded(db):
    return demo.seed_demo_desk(conversations=60, customers=20, now=NOW)


def test_a_small_desk_has_people_places_and_every_status(seeded):
    assert seeded.created
    assert (seeded.conversations, seeded.customers) == (60, 20)
    users = get_user_model().objects.filter(username__endswith="@demo.mostrador.local")
    assert {u.username.split("@")[0] for u in users} >= {"diego", "carla", "ana", "beto"}
    diego = users.get(username=demo.ADMIN_EMAIL)
    assert diego.is_superuser and diego.check_password(demo.DEMO_PASSWORD)
    assert set(Team.objects.values_list("name", flat=True)) == {
        "Soporte L1", "Soporte L2", "Facturación / Billing"}
    statuses = set(Conversation.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)
    assert Conversation.objects.filter(assignee__isnull=False).exists()
    assert Conversation.objects.exclude(priority=Conversation.Priority.NORMAL).exists()
    assert Conversation.objects.filter(tags__isnull=False).distinct().count() > 30
    # Mail to any address lands in the catch-all support inbox; billing has its own address.
    support = Inbox.objects.get(config__address=demo.SUPPORT_ADDRESS)
    assert inbox_for_addresses(["soporte@example.com"]) == support
    billing = Inbox.objects.get(config__address=demo.BILLING_ADDRESS)
    assert inbox_for_addresses([demo.BILLING_ADDRESS]) == billing


def test_customers_write_in_spanish_and_english(seeded):
    by_language = dict(Customer.objects.values_list("language").annotate(n=Count("id")))
    assert by_language.get("es", 0) >= 5 and by_language.get("en", 0) >= 5
    elena = Customer.objects.get(identities__external_id="elena.martin@correo.example")
    assert elena.attributes["plan"] in {"basic", "pro", "business"}
    assert {"lifetime_value", "last_purchase"} <= set(elena.attributes)
    assert Customer.objects.filter(organisation__isnull=False).exists()
    spanish = Message.objects.filter(author_customer__language="es").values_list("text",
                                                                                flat=True)
    english = Message.objects.filter(author_customer__language="en").values_list("text",
                                                                                flat=True)
    assert any("pedido" in text for text in spanish)
    assert any("order" in text for text in english)
    assert any("€" in text for text in spanish) or any("$" in text for text in english)
    # Search folds accents: every Spanish reply is signed "Atención al cliente".
    diego = get_user_model().objects.get(username=demo.ADMIN_EMAIL)
    assert queries.list_conversations(diego, queries.ConversationFilters(q="atencion")).items


def test_threads_have_replies_notes_and_follow_ups_in_the_past(seeded):
    replies = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    assert replies.exists()
    # Demo replies are recorded as sent and never queued for delivery.
    assert set(replies.values_list("delivery_status", flat=True)) == {Message.Delivery.SENT}
    assert not replies.filter(provider_id="").exists()
    assert Message.objects.filter(direction=Message.Direction.NOTE).exists()
    counts = [c.message_count for c in Conversation.objects.all()]
    assert min(counts) >= 1 and max(counts) <= 5 and max(counts) >= 3
    # Customers answer in the same conversation (threaded by the Message-IDs they quote).
    answered = Conversation.objects.annotate(inbound=Count(
        "messages", filter=Q(messages__direction=Message.Direction.INBOUND))).filter(inbound__gte=2)
    assert answered.exists()
    for conversation in Conversation.objects.all():
        assert conversation.message_count == conversation.messages.exclude(
            direction=Message.Direction.NOTE).count()
    # Everything happened in the last 90 days, in order, though agents' actions were
    # recorded at seeding time.
    oldest = NOW - dt.timedelta(days=91)
    assert not Conversation.objects.filter(created_at__lt=oldest).exists()
    assert not Message.objects.filter(created_at__gt=NOW).exists()
    assert not Event.objects.filter(at__gt=NOW).exists()
    assert not Conversation.objects.filter(last_activity_at__gt=NOW).exists()
    for conversation in Conversation.objects.prefetch_related("events"):
        moments = [e.at for e in sorted(conversation.events.all(), key=lambda e: e.pk)]
        assert moments == sorted(moments), f"#{conversation.pk} has events out of order"
        assert conversation.created_at <= conversation.last_activity_at
    solved = Conversation.objects.filter(status__in=[Status.SOLVED, Status.CLOSED])
    assert not solved.filter(solved_at__isnull=True).exists()
    assert all(c.first_response_at >= c.created_at for c in solved)


def test_seeding_again_changes_nothing(seeded):
    counts = (Conversation.objects.count(), Message.objects.count(), Customer.objects.count())
    again = demo.seed_demo_desk(conversations=60, customers=20, now=NOW)
    assert not again.created
    assert (Conversation.objects.count(), Message.objects.count(),
            Customer.objects.count()) == counts


def test_the_same_seed_gives_the_same_desk(db):
    def seed_and_describe() -> list[tuple]:
        with transaction.atomic():
            demo.seed_demo_desk(conversations=30, customers=10, seed=11, now=NOW)
            described = list(Conversation.objects.order_by("created_at", "id").values_list(
                "subject", "status", "priority", "customer__name", "message_count"))
            transaction.set_rollback(True)
        return described

    first, second = seed_and_describe(), seed_and_describe()
    assert len(first) == 30 and first == second


def test_the_demo_api_token_is_kept_and_replaced_when_revoked(seeded, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    token = demo.demo_api_token()
    assert user_for_token(token).username == demo.ADMIN_EMAIL
    assert demo.demo_api_token() == token
    assert (tmp_path / demo.TOKEN_FILE).stat().st_mode & 0o077 == 0
    do_revoke_api_token(ApiToken.objects.get(digest=ApiToken.digest_of(token)))
    replaced = demo.demo_api_token()
    assert replaced != token and user_for_token(replaced) is not None


def test_seed_command_seeds_an_empty_desk_once_and_leaves_other_desks_alone(db, desk):
    out = io.StringIO()
    call_command("seed_demo", "--conversations", "5", "--customers", "3", stdout=out)
    assert "already has inboxes" in out.getvalue()
    assert not demo.demo_desk_exists()


def test_seed_command_reports_what_it_made(db):
    out = io.StringIO()
    call_command("seed_demo", "--conversations", "8", "--customers", "4", stdout=out)
    assert "Seeded 8 conversations" in out.getvalue()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already there" in out.getvalue()
    assert Conversation.objects.count() == 8
    assert Conversation.objects.filter(created_at__lte=timezone.now()).count() == 8


def test_the_demo_desk_routes_and_automates(seeded):
    from mostrador.accounts.models import Team
    from mostrador.automation.models import CannedReply, Macro, TimeRule, Trigger
    from mostrador.routing.models import AssignmentRule

    l1 = Team.objects.get(name="Soporte L1")
    assert l1.escalates_to.name == "Soporte L2"
    assert dict(AssignmentRule.objects.values_list("team__name", "strategy")) == {
        "Soporte L1": "round_robin", "Soporte L2": "least_loaded",
        "Facturación / Billing": "skills"}
    assert Trigger.objects.filter(active=True).count() == 3
    assert sorted(TimeRule.objects.values_list("status", "hours")) == [
        ("pending", 72), ("pending", 168), ("solved", 96)]
    assert Macro.objects.count() == 2
    assert all(set(c.bodies) == {"es", "en"} for c in CannedReply.objects.all())
    # The history was written before the rules: no trigger fired on it.
    assert not Trigger.objects.filter(fired_count__gt=0).exists()

"""Customers: one person behind many identities, and merging duplicates."""

from __future__ import annotations

import pytest

from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Event
from mostrador.core.errors import Conflict, ValidationFailed
from mostrador.customers import actions
from mostrador.customers.models import Customer, CustomerEvent, Identity, Organisation

pytestmark = pytest.mark.django_db


def test_identities_on_several_channels_resolve_to_one_person(desk):
    actions.do_add_identity(desk.elena, "phone", "+34 600 11 22 33", acting_user=desk.ana)
    actions.do_add_identity(desk.elena, "telegram", "elena_m", acting_user=desk.ana)

    by_phone, created = actions.resolve_identity("phone", "+34 600-112-233")
    assert not created
    assert by_phone.pk == desk.elena.pk
    assert actions.resolve_identity("telegram", "elena_m")[0].pk == desk.elena.pk
    assert actions.resolve_identity("email", "ELENA.MARTIN@correo.es")[0].pk == desk.elena.pk


def test_an_identity_belongs_to_one_customer(desk):
    with pytest.raises(Conflict) as error:
        actions.do_add_identity(desk.frank, "email", "elena.martin@correo.es")
    assert "merge" in error.value.message
    with pytest.raises(ValidationFailed):
        actions.do_add_identity(desk.frank, "carrier-pigeon", "x")


def test_new_sender_joins_the_organisation_of_its_domain(db):
    acme = Organisation.objects.create(name="Acme Ibérica", domains=["acme.es"])
    customer, created = actions.resolve_identity("email", "lucia@ACME.es", name="Lucía")
    assert created
    assert customer.organisation_id == acme.pk
    assert customer.name == "Lucía"


def test_update_records_before_and_after(desk):
    actions.do_update_customer(desk.frank, attributes={"plan": "pro", "value": 1200},
                               language="en", acting_user=desk.carla)
    event = CustomerEvent.objects.filter(customer=desk.frank, kind="customer.updated").get()
    assert event.after == {"attributes": {"plan": "pro", "value": 1200}, "language": "en"}
    assert event.actor_user_id == desk.carla.pk
    with pytest.raises(ValidationFailed):
        actions.do_update_customer(desk.frank, shoe_size=44)


def test_merge_moves_identities_conversations_and_attributes(desk):
    duplicate = actions.do_create_customer(name="E. Martín", identities=[("phone", "+34600")],
                                           attributes={"plan": "premium", "city": "Sevilla"},
                                           segments=["premium"])
    desk.elena.attributes = {"plan": "basic"}
    desk.elena.save()
    conversation = conversation_actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="phone", sender_id="+34600", provider_id="call-1", subject="Llamada",
        text="Llamada perdida", reply_text="Llamada perdida")).conversation
    assert conversation.customer_id == duplicate.pk

    survivor = actions.do_merge_customers(duplicate, desk.elena, acting_user=desk.carla)

    duplicate.refresh_from_db()
    conversation.refresh_from_db()
    assert duplicate.merged_into_id == desk.elena.pk
    assert conversation.customer_id == desk.elena.pk
    assert Identity.objects.get(kind="phone", external_id="+34600").customer_id == desk.elena.pk
    assert survivor.attributes == {"plan": "basic", "city": "Sevilla"}  # the survivor wins
    assert survivor.segments == ["premium"]
    assert Event.objects.filter(conversation=conversation,
                                kind="conversation.customer_changed").exists()
    with pytest.raises(Conflict):
        actions.do_merge_customers(duplicate, desk.frank)
    with pytest.raises(ValidationFailed):
        actions.do_merge_customers(desk.frank, desk.frank)
    assert Customer.objects.filter(merged_into__isnull=True, pk=duplicate.pk).count() == 0

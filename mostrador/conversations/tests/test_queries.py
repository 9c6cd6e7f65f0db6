"""The conversation list: filters, text search and keyset pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.queries import ConversationFilters, list_conversations
from mostrador.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def receive(desk, n, *, sender="elena.martin@correo.es", subject="Consulta", text="Hola",
            at=None):
    return actions.receive_inbound(desk.inbox, InboundMessage(
        sender_kind="email", sender_id=sender, provider_id=f"<m{n}@x>", subject=subject,
        text=text, reply_text=text), now=at).conversation


def ids(page):
    return [c.pk for c in page.items]


def test_text_search_ignores_accents_and_matches_prefixes(desk):
    envio = receive(desk, 1, subject="Envío retrasado", text="Mi envío no llega")
    factura = receive(desk, 2, subject="Facturación", text="Necesito las facturas de marzo")
    receive(desk, 3, subject="Otra cosa", text="Nada que ver")

    def search(q):
        return ids(list_conversations(desk.ana, ConversationFilters(q=q)))

    assert search("envio") == [envio.pk]
    assert search("ENVÍO retrasado") == [envio.pk]
    assert search("factura") == [factura.pk]
    assert search("factura marzo") == [factura.pk]
    assert search("factura envio") == []
    assert search("¿?") == []


def test_keyset_pages_walk_everything_once_even_with_equal_timestamps(desk):
    moment = timezone.now() - dt.timedelta(hours=1)
    created = [receive(desk, n, at=moment if n % 2 else None).pk for n in range(23)]

    seen, cursor = [], None
    while True:
        page = list_conversations(desk.ana, ConversationFilters(), cursor=cursor, limit=5)
        seen.extend(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_filters_combine(desk):
    a = receive(desk, 1)
    b = receive(desk, 2, sender="frank.miller@example.org")
    actions.do_assign(a, desk.ana, acting_user=desk.carla)
    actions.do_set_team(b, desk.team_l2, acting_user=desk.carla)
    actions.do_add_tags(b, ["refund"], acting_user=desk.carla)

    def find(**filters):
        return ids(list_conversations(desk.ana, ConversationFilters(**filters)))

    assert find(assignee=desk.ana.pk) == [a.pk]
    assert find(unassigned=True) == [b.pk]
    assert find(status=["open"]) == [a.pk]
    assert find(status=["new", "open"], order="created") == [a.pk, b.pk]
    assert find(team=desk.team_l2.pk, tag="REFUND") == [b.pk]
    assert find(customer=desk.frank.pk) == [b.pk]
    with pytest.raises(ValidationFailed):
        find(status=["archived"])


def test_a_cursor_from_another_order_is_refused(desk):
    for n in range(3):
        receive(desk, n)
    page = list_conversations(desk.ana, ConversationFilters(), limit=1)
    with pytest.raises(ValidationFailed) as error:
        list_conversations(desk.ana, ConversationFilters(order="created"),
                           cursor=page.next_cursor)
    assert error.value.field == "cursor"
    with pytest.raises(ValidationFailed):
        list_conversations(desk.ana, ConversationFilters(), cursor="garbage!")

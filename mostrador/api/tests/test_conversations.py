"""Conversations through the API: create, read, change, tag, merge, the timeline, and the
keyset list with its filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mostrador.api.tests.conftest import error, ok
from mostrador.conversations import actions
from mostrador.conversations.models import Conversation, Event
from mostrador.customers.models import Customer


def open_conversation(desk, customer=None, *, subject="Consulta", text="Hola", **kwargs):
    return actions.do_create_conversation(inbox=desk.inbox, customer=customer or desk.elena,
                                          subject=subject, text=text, **kwargs)


# --- create and read ------------------------------------------------------------------------


def test_create_for_a_known_customer(api, desk):
    created = ok(api.post("/conversations", {
        "inbox": desk.inbox.pk, "customer": desk.elena.pk, "subject": "Pedido 1234",
        "text": "Llamó por teléfono: el pedido no ha llegado.", "priority": 3,
        "tags": ["Envíos", " pedido  retrasado "], "custom_fields": {"pedido": "1234"},
    }), 201)
    assert created["subject"] == "Pedido 1234"
    assert (created["status"], created["priority"], created["channel"]) == ("new", 3, "email")
    assert created["customer"] == {"id": desk.elena.pk, "name": "Elena Martín"}
    assert created["inbox"] == {"id": desk.inbox.pk, "name": "Soporte"}
    assert created["tags"] == ["envíos", "pedido retrasado"]
    assert created["custom_fields"] == {"pedido": "1234"}
    assert created["message_count"] == 1 and created["assignee"] is None
    assert created["number"] == created["id"]
    # What the answer shows is what was stored.
    assert ok(api.get(f"/conversations/{created['id']}")) == created


def test_create_by_customer_email_finds_or_creates_the_customer(api, desk):
    created = ok(api.post("/conversations", {
        "inbox": desk.inbox.pk, "customer_email": "Nuevo.Cliente@Tienda.es",
        "customer_name": "Nuevo Cliente", "subject": "Alta", "text": "Quiero darme de alta"}),
        201)
    customer = Customer.objects.get(pk=created["customer"]["id"])
    assert customer.name == "Nuevo Cliente"
    assert customer.identities.get().external_id == "nuevo.cliente@tienda.es"
    again = ok(api.post("/conversations", {
        "inbox": desk.inbox.pk, "customer_email": "frank.miller@example.org", "text": "Hi"}),
        201)
    assert again["customer"]["id"] == desk.frank.pk


def test_create_refuses_bad_input(api, desk):
    base = {"inbox": desk.inbox.pk, "text": "Hola"}
    assert error(api.post("/conversations", base), 400)["field"] == "customer"
    both = {**base, "customer": desk.elena.pk, "customer_email": "x@y.es"}
    assert error(api.post("/conversations", both), 400)["field"] == "customer"
    elena = {**base, "customer": desk.elena.pk}
    assert error(api.post("/conversations", {**elena, "inbox": 999_999}), 404)["field"] == "inbox"
    assert error(api.post("/conversations", {**elena, "customer": 999_999}),
                 404)["field"] == "customer"
    assert error(api.post("/conversations", {**elena, "text": "   "}), 400)["field"] == "text"
    assert error(api.post("/conversations", {**elena, "priority": 9}), 400)["field"] == "priority"
    assert error(api.post("/conversations", {**elena, "tags": [""]}), 400)["field"] == "tags"
    body = error(api.post("/conversations", {**base, "customer_email": "not-an-address"}), 400)
    assert body["field"] == "customer_email" and "not an e-mail address" in body["detail"]
    # A new customer is created only together with the conversation.
    new = {**base, "customer_email": "nadie@tienda.es", "text": " "}
    assert error(api.post("/conversations", new), 400)["field"] == "text"
    assert not Customer.objects.filter(identities__external_id="nadie@tienda.es").exists()
    assert not Conversation.objects.exists()


def test_create_costs_a_fixed_handful_of_queries(api, desk):
    body = {"inbox": desk.inbox.pk, "customer": desk.elena.pk, "subject": "Rápido",
            "text": "Una consulta"}
    ok(api.post("/conversations", body), 201)  # the token's last use is written once
    with CaptureQueriesContext(connection) as plain:
        ok(api.post("/conversations", body), 201)
    with CaptureQueriesContext(connection) as by_email:
        ok(api.post("/conversations", {**body, "customer": None,
                                       "customer_email": "elena.martin@correo.es"}), 201)
    assert len(plain) <= 10, [q["sql"] for q in plain]
    # Two more: the savepoint that keeps a new customer only with its conversation.
    assert len(by_email) <= 12, [q["sql"] for q in by_email]


def test_get_a_missing_conversation_is_404(api, desk):
    body = error(api.get("/conversations/999999"), 404)
    assert body["field"] == "id"


# --- change ---------------------------------------------------------------------------------


def test_patch_makes_each_change_through_its_action_with_an_event(api, desk):
    conversation = open_conversation(desk)
    path = f"/conversations/{conversation.pk}"
    changed = ok(api.patch(path, {
        "subject": "Pedido perdido", "priority": 4, "team": desk.team_l2.pk,
        "assignee": desk.beto.pk, "custom_fields": {"pedido": "77", "canal": "tel"},
        "status": "pending"}))
    assert changed["subject"] == "Pedido perdido" and changed["priority"] == 4
    assert changed["team"] == {"id": desk.team_l2.pk, "name": "Soporte L2"}
    assert changed["assignee"] == {"id": desk.beto.pk, "name": "Beto Ruiz"}
    assert changed["custom_fields"] == {"pedido": "77", "canal": "tel"}
    assert changed["status"] == "pending"  # given explicitly, it wins over assignment's open
    kinds = list(Event.objects.filter(conversation=conversation, actor_user=desk.ana)
                 .values_list("kind", flat=True))
    for kind in ("subject.changed", "priority.changed", "team.changed", "assignee.changed",
                 "fields.changed", "status.changed"):
        assert kind in kinds, kind

    changed = ok(api.patch(path, {"assignee": None, "team": None,
                                  "custom_fields": {"canal": None}}))
    assert changed["assignee"] is None and changed["team"] is None
    assert changed["custom_fields"] == {"pedido": "77"}
    assert ok(api.patch(path, {"assignee": "me"}))["assignee"]["id"] == desk.ana.pk

    timeline = ok(api.get(f"{path}/events"))["items"]
    assigned = [e for e in timeline if e["kind"] == "assignee.changed"]
    assert [(e["before"], e["after"]) for e in assigned] == [
        (None, desk.beto.pk), (desk.beto.pk, None), (None, desk.ana.pk)]
    assert assigned[0]["actor"] == {"kind": "agent", "id": desk.ana.pk, "name": "Ana García"}
    assert timeline[0]["kind"] == "conversation.created"
    assert timeline == sorted(timeline, key=lambda e: e["id"])


def test_patch_is_all_or_nothing(api, desk):
    conversation = open_conversation(desk, subject="Antes")
    path = f"/conversations/{conversation.pk}"
    body = error(api.patch(path, {"subject": "Después", "status": "lost"}), 400)
    assert body["field"] == "status"
    assert ok(api.get(path))["subject"] == "Antes"
    assert error(api.patch(path, {"assignee": 999_999}), 400)["field"] == "assignee"
    assert error(api.patch(path, {"team": 999_999}), 400)["field"] == "team"
    assert error(api.patch(path, {"status": None}), 400)["field"] == "status"
    assert error(api.patch(path, {"priority": 0}), 400)["field"] == "priority"
    assert error(api.patch("/conversations/999999", {"priority": 2}), 404)["field"] == "id"
    assert not Event.objects.filter(conversation=conversation, actor_user=desk.ana).exists()


def test_tags_add_and_remove(api, desk):
    conversation = open_conversation(desk, tags=["factura"])
    path = f"/conversations/{conversation.pk}/tags"
    assert ok(api.post(path, {"tags": ["Urgente", "factura"]}))["tags"] == ["factura",
                                                                             "urgente"]
    assert ok(api.delete(f"{path}/factura"))["tags"] == ["urgente"]
    assert ok(api.delete(f"{path}/no-existe"))["tags"] == ["urgente"]
    assert error(api.post(path, {"tags": []}), 400)["field"] == "tags"
    changes = Event.objects.filter(conversation=conversation, kind="tags.changed",
                                   actor_user=desk.ana)
    assert changes.count() == 2


def test_merge_two_conversations_of_one_customer(api, desk):
    first = open_conversation(desk, subject="Primera", text="Hola")
    second = open_conversation(desk, subject="Segunda", text="Otra vez")
    other = open_conversation(desk, desk.frank, subject="Frank", text="Hi")
    merged = ok(api.post(f"/conversations/{second.pk}/merge", {"into": first.pk}))
    assert merged["id"] == first.pk and merged["message_count"] == 2
    assert ok(api.get(f"/conversations/{second.pk}"))["merged_into"] == first.pk
    body = error(api.post(f"/conversations/{other.pk}/merge", {"into": first.pk}), 400)
    assert body["field"] == "into"
    assert error(api.post(f"/conversations/{other.pk}/merge", {"into": 999_999}),
                 404)["field"] == "into"


# --- the list -------------------------------------------------------------------------------


def ids(response) -> set[int]:
    return {c["id"] for c in ok(response)["items"]}


@pytest.fixture
def spread(desk):
    """Conversations in several states, owners, teams and tags."""
    envio = open_conversation(desk, subject="Problema con el envío",
                              text="El envío no ha llegado", tags=["envíos"])
    factura = open_conversation(desk, desk.frank, subject="Invoice", text="Wrong invoice",
                                priority=4, tags=["factura"])
    mine = open_conversation(desk, subject="Cambio de talla", text="Quiero cambiar la talla")
    actions.do_assign(mine, desk.ana, acting_user=desk.ana)
    beto = open_conversation(desk, desk.frank, subject="Refund", text="Refund please")
    actions.do_assign(beto, desk.beto, acting_user=desk.carla)
    actions.do_set_team(beto, desk.team_l2, acting_user=desk.carla)
    actions.do_change_status(beto, "pending", acting_user=desk.beto)
    solved = open_conversation(desk, subject="Gracias", text="Todo bien")
    actions.do_change_status(solved, "solved", acting_user=desk.ana)
    return {"envio": envio.pk, "factura": factura.pk, "mine": mine.pk, "beto": beto.pk,
            "solved": solved.pk}


def test_list_filters(api, desk, spread):
    every = set(spread.values())
    assert ids(api.get("/conversations")) == every
    assert ids(api.get("/conversations", {"status": "new"})) == {spread["envio"],
                                                                 spread["factura"]}
    assert ids(api.get("/conversations", {"status": "pending,solved"})) == {
        spread["beto"], spread["solved"]}
    assert ids(api.get("/conversations", {"status": ["open", "pending"]})) == {
        spread["mine"], spread["beto"]}
    assert ids(api.get("/conversations", {"assignee": "me"})) == {spread["mine"]}
    assert ids(api.get("/conversations", {"assignee": desk.beto.pk})) == {spread["beto"]}
    assert ids(api.get("/conversations", {"assignee": "none"})) == every - {spread["mine"],
                                                                            spread["beto"]}
    assert ids(api.get("/conversations", {"team": desk.team_l2.pk})) == {spread["beto"]}
    assert ids(api.get("/conversations", {"inbox": desk.inbox.pk})) == every
    assert ids(api.get("/conversations", {"customer": desk.frank.pk})) == {spread["factura"],
                                                                           spread["beto"]}
    assert ids(api.get("/conversations", {"tag": "Envíos"})) == {spread["envio"]}
    assert ids(api.get("/conversations", {"priority": 4})) == {spread["factura"]}


def test_text_search_ignores_accents_and_case(api, desk, spread):
    assert ids(api.get("/conversations", {"q": "envio"})) == {spread["envio"]}
    assert ids(api.get("/conversations", {"q": "ENVÍO llegado"})) == {spread["envio"]}
    assert ids(api.get("/conversations", {"q": "talla", "assignee": "me"})) == {spread["mine"]}
    assert ids(api.get("/conversations", {"q": "inexistente"})) == set()


def test_updated_since(api, desk, spread):
    since = timezone.now()
    actions.do_change_priority(Conversation.objects.get(pk=spread["envio"]), 3,
                               acting_user=desk.ana)
    assert ids(api.get("/conversations", {"updated_since": since.isoformat()})) == {
        spread["envio"]}
    # An unencoded "+" of the offset arrives as a space; it is still understood.
    raw = api.client.get(f"/api/v1/conversations?updated_since={since.isoformat()}",
                         headers=api._headers(None))
    assert ids(raw) == {spread["envio"]}
    naive_utc = since.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    assert ids(api.get("/conversations", {"updated_since": naive_utc})) == {spread["envio"]}
    assert ids(api.get("/conversations", {"updated_since": "2000-01-01"})) == set(
        spread.values())
    assert error(api.get("/conversations", {"updated_since": "yesterday"}),
                 400)["field"] == "updated_since"


@pytest.mark.parametrize(("params", "field"), [
    ({"status": "lost"}, "status"),
    ({"assignee": "someone"}, "assignee"),
    ({"order": "random"}, "order"),
    ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"team": "x"}, "team"),
])
def test_list_refuses_bad_parameters(api, desk, params, field):
    assert error(api.get("/conversations", params), 400)["field"] == field


def test_a_cursor_of_another_order_is_refused(api, desk, spread):
    cursor = ok(api.get("/conversations", {"limit": 1}))["next_cursor"]
    assert cursor
    body = error(api.get("/conversations", {"limit": 1, "order": "created", "cursor": cursor}),
                 400)
    assert body["field"] == "cursor"


def walk(api, params: dict, *, between=None) -> list[int]:
    seen, cursor, pages = [], None, 0
    while True:
        page = ok(api.get("/conversations", {**params, **({"cursor": cursor} if cursor else {})}))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        pages += 1
        if cursor is None:
            return seen
        assert len(page["items"]) == params["limit"]
        if between:
            between(pages)


@pytest.mark.parametrize("order", ["-last_activity", "-created", "created", "updated"])
def test_keyset_pages_have_no_gaps_or_duplicates_while_conversations_arrive(api, desk, order):
    existing = [open_conversation(desk, subject=f"#{n}").pk for n in range(23)]
    arrived: list[int] = []

    def arrive(page: int) -> None:
        arrived.append(open_conversation(desk, desk.frank, subject=f"new {page}").pk)

    seen = walk(api, {"limit": 4, "order": order}, between=arrive)
    assert len(seen) == len(set(seen)), "a conversation was listed twice"
    assert set(existing) <= set(seen), "a conversation was skipped"
    if order in {"created", "updated"}:
        # Oldest first: what arrives during the walk is still ahead of the cursor.
        assert set(seen) == set(existing) | set(arrived)
    else:
        assert set(seen) == set(existing)


def test_list_queries_do_not_grow_with_the_page(api, desk):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            ok(api.get("/conversations", {"limit": 100}))
        return len(queries)

    ok(api.get("/me"))  # the token's last use is written once
    for n in range(2):
        conversation = open_conversation(desk, subject=f"c{n}", tags=["a"])
        actions.do_assign(conversation, desk.beto, acting_user=desk.carla)
    small = count_queries()
    agents = [desk.ana, desk.beto, desk.carla, desk.diego]
    for n in range(48):
        conversation = open_conversation(desk, desk.frank, subject=f"c{n}",
                                         tags=[f"t{n % 5}", "b"])
        actions.do_assign(conversation, agents[n % 4], acting_user=desk.carla)
        actions.do_set_team(conversation, desk.team_l1, acting_user=desk.carla)
    large = count_queries()
    assert len(ok(api.get("/conversations", {"limit": 100}))["items"]) == 50
    assert small == large, (small, large)
    assert large <= 4


def test_customer_conversations_lists_only_theirs(api, desk, spread):
    page = ok(api.get(f"/customers/{desk.frank.pk}/conversations"))
    assert {c["id"] for c in page["items"]} == {spread["factura"], spread["beto"]}
    assert error(api.get("/customers/999999/conversations"), 404)["field"] == "id"

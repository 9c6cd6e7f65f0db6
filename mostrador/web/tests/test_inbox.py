"""The inbox: views, filters, orders, keyset pages, rows, bulk actions, saved views, read marks,
htmx partials and the number of queries a page costs."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from mostrador.accounts.actions import do_create_team
from mostrador.channels.base import InboundMessage
from mostrador.conversations import actions
from mostrador.conversations.actions_inbox import (
    do_delete_view,
    do_mark_read,
    do_mark_unread,
    do_save_view,
)
from mostrador.conversations.models import ConversationRead, Inbox, SavedView
from mostrador.conversations.queries import ConversationFilters, list_conversations
from mostrador.core.errors import Conflict, NotFound, ValidationFailed
from mostrador.web.inbox import views as inbox_views

pytestmark = pytest.mark.django_db

INBOX = "/"
_numbers = itertools.count(1)


def receive(desk, *, subject="Consulta", text="Hola", sender="elena.martin@correo.es",
            name="", at=None, inbox=None, conversation=None):
    """A customer message: a new conversation, or (``conversation``) a reply in it."""
    n = next(_numbers)
    inbound = InboundMessage(sender_kind="email", sender_id=sender, sender_name=name,
                             provider_id=f"<inbox-test-{n}@correo.es>", subject=subject,
                             text=text, reply_text=text,
                             conversation_number=conversation.pk if conversation else None)
    return actions.receive_inbound(inbox or desk.inbox, inbound, now=at).conversation


def make(desk, *, assignee=None, status=None, priority=None, tags=(), team=None, **kwargs):
    conversation = receive(desk, **kwargs)
    if assignee is not None:
        conversation = actions.do_assign(conversation, assignee, acting_user=desk.carla)
    if team is not None:
        conversation = actions.do_set_team(conversation, team, acting_user=desk.carla)
    if priority is not None:
        conversation = actions.do_change_priority(conversation, priority, acting_user=desk.carla)
    if tags:
        actions.do_add_tags(conversation, tags, acting_user=desk.carla)
    if status is not None:
        conversation = actions.do_change_status(conversation, status, acting_user=desk.carla)
    conversation.refresh_from_db()
    return conversation


def row_ids(response) -> list[int]:
    html = response.content.decode()
    return [int(pk) for pk in re.findall(r'data-conversation="(\d+)"', html)]


def htmx(client, url, **kwargs):
    return client.get(url, headers={"HX-Request": "true"}, **kwargs)


@pytest.fixture
def ana(client, desk):
    client.force_login(desk.ana)
    return client


# --- access ---------------------------------------------------------------------------------


def test_the_inbox_needs_a_signed_in_agent(client, desk):
    response = client.get(INBOX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))

    from django.contrib.auth import get_user_model

    plain = get_user_model().objects.create_user("nobody@desk.example.com", password="x")
    client.force_login(plain)
    assert client.get(INBOX).status_code == 403


# --- views (tabs) -----------------------------------------------------------------------------


def test_the_default_view_is_my_open_work(ana, desk):
    mine = make(desk, subject="Mía", assignee=desk.ana)
    make(desk, subject="De Beto", assignee=desk.beto)
    make(desk, subject="Sin asignar")
    make(desk, subject="Mía pero resuelta", assignee=desk.ana, status="solved")
    response = ana.get(INBOX)
    assert response.status_code == 200
    assert row_ids(response) == [mine.pk]
    assert '<a href="/?view=mine" aria-current="page">' in response.content.decode()


def test_each_tab_is_a_preset_of_filters(ana, desk):
    unassigned = make(desk, subject="Nadie")
    beto_l2 = make(desk, subject="Equipo L2", assignee=desk.beto, team=desk.team_l2)
    ana_l1 = make(desk, subject="Equipo L1", assignee=desk.ana, team=desk.team_l1)
    pending = make(desk, subject="Esperando", assignee=desk.ana, status="pending")
    solved = make(desk, subject="Hecho", status="solved")
    closed = make(desk, subject="Cerrado", status="closed")

    def tab(name):
        return set(row_ids(ana.get(f"{INBOX}?view={name}")))

    assert tab("unassigned") == {unassigned.pk}
    assert tab("teams") == {ana_l1.pk}  # ana is in L1 only
    assert tab("pending") == {pending.pk}
    assert tab("solved") == {solved.pk, closed.pk}
    assert tab("all") == {unassigned.pk, beto_l2.pk, ana_l1.pk, pending.pk, solved.pk,
                          closed.pk}


def test_my_teams_lists_every_team_of_the_agent_in_one_exact_order(ana, desk, monkeypatch):
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 3)
    desk.team_l2.members.add(desk.ana)
    other = do_create_team("Facturación")
    start = timezone.now() - dt.timedelta(hours=5)
    expected = []
    for n in range(8):
        team = desk.team_l1 if n % 2 else desk.team_l2
        conversation = make(desk, subject=f"Equipo {n}", team=team,
                            at=start + dt.timedelta(minutes=n * (n % 3)))
        expected.append(conversation)
    make(desk, subject="Otro equipo", team=other)
    expected.sort(key=lambda c: (c.last_activity_at, c.pk), reverse=True)

    seen, url = [], f"{INBOX}?view=teams"
    while url:
        response = ana.get(url)
        seen += row_ids(response)
        found = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [c.pk for c in expected]


def test_an_agent_in_no_team_is_told_so(client, desk):
    client.force_login(desk.carla)
    response = client.get(f"{INBOX}?view=teams")
    assert row_ids(response) == []
    assert "You are not in any team yet" in response.content.decode()


# --- filters ----------------------------------------------------------------------------------


def test_filters_combine_and_show_next_to_the_form(ana, desk):
    second_inbox = Inbox.objects.create(name="Ventas", channel_kind="email",
                                        config={"address": "ventas@desk.example.com"})
    vip = make(desk, subject="Factura VIP", text="Necesito la factura de marzo",
               priority=4, tags=["vip"], assignee=desk.beto)
    normal = make(desk, subject="Factura normal", text="Necesito la factura", tags=["billing"])
    other = make(desk, subject="Pedido", text="Mi pedido no llega", sender="frank@example.org",
                 inbox=second_inbox, status="pending")

    def listed(query):
        return row_ids(ana.get(f"{INBOX}?f=1&{query}"))

    assert listed("tag=VIP") == [vip.pk]
    assert listed("priority=4") == [vip.pk]
    assert listed(f"assignee={desk.beto.pk}") == [vip.pk]
    assert listed(f"inbox={second_inbox.pk}") == [other.pk]
    assert listed("status=pending&status=solved") == [other.pk]
    assert listed(f"customer={other.customer_id}") == [other.pk]
    assert set(listed("q=factura")) == {vip.pk, normal.pk}
    assert listed("q=factura&status=new&status=pending") == [normal.pk]
    assert listed("status=new&status=open&status=pending") == [other.pk, normal.pk, vip.pk]
    assert listed("q=factura marzo") == [vip.pk]
    assert listed("q=factura&tag=vip&priority=4") == [vip.pk]

    # A choice that is not one (an old agent id) is shown as an error; the rest still apply.
    response = ana.get(f"{INBOX}?f=1&assignee=99999&tag=vip")
    assert row_ids(response) == [vip.pk]
    assert "Select a valid choice" in response.content.decode()


def test_a_customer_filter_shows_who_and_how_to_remove_it(ana, desk):
    elena = make(desk, subject="De Elena")
    make(desk, subject="De Frank", sender="frank@example.org", name="Frank Miller")
    response = ana.get(f"{INBOX}?f=1&customer={elena.customer_id}")
    html = response.content.decode()
    assert row_ids(response) == [elena.pk]
    assert "Elena Martín" in html
    assert 'aria-label="Show every customer"' in html


def test_orders_newest_activity_oldest_waiting_and_priority(ana, desk):
    now = timezone.now()
    old = make(desk, subject="Antigua", at=now - dt.timedelta(days=2))
    recent = make(desk, subject="Reciente", at=now - dt.timedelta(minutes=5))
    urgent = make(desk, subject="Urgente", priority=4, at=now - dt.timedelta(hours=3))
    answered = make(desk, subject="Ya respondida", at=now - dt.timedelta(days=3))
    actions.do_change_status(answered, "pending", acting_user=desk.ana)  # nobody waits now

    def order(name):
        return row_ids(ana.get(f"{INBOX}?f=1&order={name}"))

    assert order("-last_activity") == [recent.pk, urgent.pk, old.pk, answered.pk]
    assert order("waiting") == [old.pk, urgent.pk, recent.pk, answered.pk]
    assert order("-priority") == [urgent.pk, recent.pk, old.pk, answered.pk]


# --- keyset pages ---------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["-last_activity", "waiting", "-priority"])
def test_older_link_walks_every_conversation_once(ana, desk, monkeypatch, order):
    monkeypatch.setattr(inbox_views, "PAGE_SIZE", 4)
    moment = timezone.now() - dt.timedelta(hours=1)
    created = []
    for n in range(11):
        conversation = make(desk, subject=f"Número {n}", at=moment if n % 2 else None,
                            priority=(n % 4) + 1)
        if n % 3 == 0:  # some nobody waits on: they come last in "oldest waiting"
            actions.do_change_status(conversation, "pending", acting_user=desk.ana)
        created.append(conversation.pk)

    seen, url, pages = [], f"{INBOX}?view=all&f=1&order={order}", 0
    while url:
        response = htmx(ana, url) if pages else ana.get(url)
        seen += row_ids(response)
        pages += 1
        found = re.search(r'rel="next" href="([^"]+)"', response.content.decode())
        url = found.group(1).replace("&amp;", "&") if found else None
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))
    assert pages == 3
    page = list_conversations(desk.ana, ConversationFilters(order=order), limit=100)
    assert seen == [c.pk for c in page.items]  # page by page, the same order as in one go


def test_a_broken_cursor_says_start_again(ana, desk):
    make(desk)
    response = ana.get(f"{INBOX}?view=all&f=1&cursor=garbage")
    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()
    assert row_ids(response) == []


def test_query_layer_orders_keep_their_cursor_types(desk):
    for n in range(6):
        make(desk, subject=f"C{n}", priority=(n % 4) + 1)
    page = list_conversations(desk.ana, ConversationFilters(order="-priority"), limit=2)
    with pytest.raises(ValidationFailed):
        list_conversations(desk.ana, ConversationFilters(order="waiting"),
                           cursor=page.next_cursor)
    following = list_conversations(desk.ana, ConversationFilters(order="-priority"),
                                   cursor=page.next_cursor, limit=2)
    assert [c.priority for c in page.items + following.items] == [4, 3, 2, 2]


# --- rows -------------------------------------------------------------------------------------


def test_a_row_shows_what_an_agent_needs_at_a_glance(ana, desk):
    at = timezone.now() - dt.timedelta(hours=2, minutes=10)
    conversation = make(desk, subject="Pedido retrasado", text="Primera línea\nsegunda",
                        name="Elena Martín", at=at, assignee=desk.beto, priority=3,
                        tags=["envíos", "vip"])
    actions.do_send_reply(conversation, "Lo miramos", acting_user=desk.beto)
    receive(desk, conversation=conversation, text="\n  Sigue sin llegar  \n\nGracias")
    html = ana.get(f"{INBOX}?view=all").content.decode()
    row = re.search(rf'<tr class="conversation-row[^"]*" data-conversation="{conversation.pk}">'
                    r"(.*?)</tr>", html, re.S).group(1)
    assert "Elena Martín" in row
    assert 'role="img" aria-label="E-mail"' in row
    assert f'href="{reverse("web:conversation", args=[conversation.pk])}"' in row
    assert "Pedido retrasado" in row
    # The customer's last words, on one line; not our reply.
    assert '<div class="preview">Sigue sin llegar Gracias</div>' in row
    assert "Lo miramos" not in row
    assert 'class="badge priority-3">High<' in row
    assert 'class="badge status-open">Open<' in row
    assert "Beto Ruiz" in row
    assert '<span class="tag">envíos</span>' in row and '<span class="tag">vip</span>' in row


def test_waiting_time_is_short_and_humane(ana, desk):
    now = timezone.now()
    make(desk, subject="Minutos", at=now - dt.timedelta(minutes=7))
    make(desk, subject="Horas", at=now - dt.timedelta(hours=5, minutes=1))
    make(desk, subject="Días", at=now - dt.timedelta(days=3, hours=1))
    html = ana.get(f"{INBOX}?view=all").content.decode()
    waits = re.findall(r'<td class="col-waiting"[^>]*><time datetime="[^"]+" title="[^"]+">'
                       r"([^<]+)</time>", html)
    assert sorted(waits) == sorted(["7 min", "5 h", "3 d"])


def test_unread_rows_until_read_and_again_after_new_activity(ana, desk):
    conversation = make(desk, subject="Nueva")

    def unread():
        html = ana.get(f"{INBOX}?view=all").content.decode()
        return f'conversation-row unread" data-conversation="{conversation.pk}"' in html

    assert unread()
    do_mark_read(conversation, desk.ana)
    assert not unread()
    receive(desk, conversation=conversation, text="¿Alguna novedad?")
    assert unread()
    do_mark_read(conversation, desk.ana)
    do_mark_unread([conversation], desk.ana)
    assert unread()
    # Read marks are each agent's own.
    do_mark_read(conversation, desk.beto)
    assert unread()


# --- htmx -----------------------------------------------------------------------------------


def test_htmx_gets_the_list_region_with_out_of_band_status(ana, desk):
    make(desk, subject="Uno", assignee=desk.ana)
    response = htmx(ana, f"{INBOX}?view=mine&f=1&status=new&status=open")
    html = response.content.decode()
    assert html.startswith('<section id="inbox-list"')
    assert "<html" not in html and "inbox-filters" not in html
    assert 'id="inbox-status" hx-swap-oob="innerHTML">1 conversation shown.' in html
    assert 'id="filter-count" hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]
    # A history restore gets the whole page.
    full = ana.get(f"{INBOX}?view=mine", headers={"HX-Request": "true",
                                                  "HX-History-Restore-Request": "true"})
    assert "<html" in full.content.decode()


def test_the_page_works_without_javascript(ana, desk):
    make(desk, subject="Uno", assignee=desk.ana)
    html = ana.get(INBOX).content.decode()
    assert '<form method="get" action="/" class="filter-form"' in html
    assert '<form id="bulk-form" method="post" action="/inbox/bulk/"' in html
    assert '<button type="submit" class="btn">Apply</button>' in html


# --- bulk actions -----------------------------------------------------------------------------


def test_bulk_assign_reports_changed_unchanged_and_failed(ana, desk):
    first = make(desk, subject="Uno")
    already = make(desk, subject="Dos", assignee=desk.beto)
    back = f"{INBOX}?view=all&f=1"
    response = ana.post(reverse("web:inbox_bulk"), {
        "ids": [first.pk, already.pk, 999999], "action": "assign",
        "assign_to": str(desk.beto.pk), "next": back})
    assert response.status_code == 302 and response["Location"] == back
    first.refresh_from_db()
    assert first.assignee_id == desk.beto.pk
    shown = [str(m) for m in ana.get(back).context["messages"]]
    assert shown[0] == "1 conversation changed."
    assert "1 was already like that." in shown
    assert any(line.startswith("#999999 not changed:") for line in shown)


def test_bulk_status_each_row_in_its_own_call(ana, desk):
    open_one = make(desk, subject="Abierta", assignee=desk.ana)
    closed = make(desk, subject="Cerrada", status="closed")
    response = ana.post(
        reverse("web:inbox_bulk"),
        {"ids": [open_one.pk, closed.pk], "action": "status", "set_status": "solved",
         "next": f"{INBOX}?view=all"},
        headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<section id="inbox-list"')
    assert "1 conversation changed." in html
    assert f"#{closed.pk} not changed: A closed conversation cannot change" in html
    assert response["HX-Replace-Url"] == f"{INBOX}?view=all"
    open_one.refresh_from_db()
    closed.refresh_from_db()
    assert (open_one.status, closed.status) == ("solved", "closed")
    assert open_one.events.filter(kind="status.changed", actor_user=desk.ana).exists()


def test_bulk_tag_assign_to_me_unassign_and_read_marks(ana, desk):
    one, two = make(desk, subject="Uno"), make(desk, subject="Dos", assignee=desk.beto)
    url = reverse("web:inbox_bulk")
    ana.post(url, {"ids": [one.pk, two.pk], "action": "tag", "add_tag": " Urgente  Revisar "})
    assert set(one.tags.values_list("name", flat=True)) == {"urgente revisar"}
    ana.post(url, {"ids": [one.pk], "action": "assign", "assign_to": "me"})
    ana.post(url, {"ids": [two.pk], "action": "assign", "assign_to": "none"})
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.assignee_id, two.assignee_id) == (desk.ana.pk, None)
    ana.post(url, {"ids": [one.pk, two.pk], "action": "read"})
    assert ConversationRead.objects.filter(user=desk.ana).count() == 2
    ana.post(url, {"ids": [two.pk], "action": "unread"})
    assert list(ConversationRead.objects.filter(user=desk.ana)
                .values_list("conversation_id", flat=True)) == [one.pk]


def test_bulk_form_errors_show_next_to_the_fields(ana, desk):
    conversation = make(desk)
    url = reverse("web:inbox_bulk")
    back = f"{INBOX}?view=all"
    response = ana.post(url, {"action": "status", "set_status": "open", "next": back},
                        headers={"HX-Request": "true"})
    assert "Select at least one conversation first." in response.content.decode()
    response = ana.post(url, {"ids": [conversation.pk], "action": "assign", "next": back},
                        headers={"HX-Request": "true"})
    html = response.content.decode()
    assert re.search(r'id="id_assign_to">.*?</select>\s*<button[^>]*>Assign</button>\s*'
                     r'<ul class="errorlist"[^>]*><li>Choose who gets the conversations.', html,
                     re.S)
    # Without JavaScript the same errors come back as messages after the redirect.
    response = ana.post(url, {"ids": [conversation.pk], "action": "tag", "add_tag": "  "},
                        follow=True)
    assert "Type the tag to add." in [str(m) for m in response.context["messages"]]
    # An outside address is never followed.
    response = ana.post(url, {"ids": [conversation.pk], "action": "read",
                              "next": "https://evil.example.com/"})
    assert response["Location"] == INBOX


# --- saved views ------------------------------------------------------------------------------


def test_save_apply_replace_and_delete_a_view(ana, desk):
    vip = make(desk, subject="VIP", tags=["vip"], priority=4)
    make(desk, subject="Normal")
    response = ana.post(reverse("web:inbox_view_save"),
                        {"name": "  Urgentes   VIP ", "query": "f=1&tag=vip&order=-priority"})
    view = SavedView.objects.get(user=desk.ana)
    assert view.name == "Urgentes VIP"
    assert view.filters == {"tag": "vip", "order": "-priority"}
    assert response["Location"] == f"{INBOX}?sv={view.pk}"

    page = ana.get(response["Location"])
    html = page.content.decode()
    assert row_ids(page) == [vip.pk]
    assert f'<a href="/?sv={view.pk}" aria-current="page">Urgentes VIP</a>' in html

    ana.post(reverse("web:inbox_view_save"), {"name": "Urgentes VIP", "query": "priority=4"})
    view.refresh_from_db()
    assert view.filters == {"priority": 4}
    assert SavedView.objects.filter(user=desk.ana).count() == 1

    ana.post(reverse("web:inbox_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(user=desk.ana).exists()


def test_views_are_each_agents_own(client, desk):
    beto_view = do_save_view(desk.beto, "De Beto", {"assignee": "me"})
    client.force_login(desk.ana)
    response = client.get(f"{INBOX}?sv={beto_view.pk}")
    assert "De Beto" not in response.content.decode()
    response = client.post(reverse("web:inbox_view_delete", args=[beto_view.pk]), follow=True)
    assert "That view no longer exists." in [str(m) for m in response.context["messages"]]
    assert SavedView.objects.filter(pk=beto_view.pk).exists()


def test_saved_view_actions_check_their_input(desk):
    with pytest.raises(ValidationFailed):
        do_save_view(desk.ana, "   ", {})
    with pytest.raises(ValidationFailed):
        do_save_view(desk.ana, "x" * 81, {})
    with pytest.raises(ValidationFailed):
        do_save_view(desk.ana, "Raro", {"color": "red"})
    view = do_save_view(desk.ana, "Mía", {"assignee": "me", "q": "", "status": []})
    assert view.filters == {"assignee": "me"}
    second = do_save_view(desk.ana, "Otra", {})
    assert second.position == view.position + 1
    with pytest.raises(NotFound):
        do_delete_view(desk.beto, view.pk)
    do_delete_view(desk.ana, view.pk)
    with pytest.raises(NotFound):
        do_delete_view(desk.ana, view.pk)
    from mostrador.conversations.models_inbox import MAX_SAVED_VIEWS

    for n in range(MAX_SAVED_VIEWS - 1):
        do_save_view(desk.ana, f"Vista {n}", {})
    with pytest.raises(Conflict):
        do_save_view(desk.ana, "Una más", {})


def test_mark_one_conversation_read_or_unread(ana, desk):
    conversation = make(desk)
    url = reverse("web:inbox_mark_read", args=[conversation.pk])
    response = ana.post(url, {"next": f"{INBOX}?view=all"})
    assert response["Location"] == f"{INBOX}?view=all"
    assert ConversationRead.objects.filter(user=desk.ana, conversation=conversation).exists()
    assert ana.post(url, {"state": "unread"}, headers={"HX-Request": "true"}).status_code == 204
    assert not ConversationRead.objects.filter(user=desk.ana).exists()
    assert ana.post(reverse("web:inbox_mark_read", args=[999999])).status_code == 404


# --- cost -----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


# Session, user, agent, the filters' choices (channels, agents, teams, tags), saved views, the
# list (one query per status asked for, one per team of "my teams"), its tags, and the last
# customer message with the read mark of every row.
@pytest.mark.parametrize(("url", "expected"), [
    (f"{INBOX}?view=all", 11),
    (f"{INBOX}?view=mine", 14),  # three statuses: three pages of keys, then the rows
    (f"{INBOX}?view=teams", 19),  # two teams: keys, rows and tags each
    (f"{INBOX}?f=1&q=pedido&tag=vip&order=waiting", 12),  # waiting ones, then the others
    (f"{INBOX}?f=1&order=-priority&status=open&status=new", 13),
])
def test_a_page_costs_the_same_queries_for_5_and_50_conversations(ana, desk, url, expected,
                                                                  django_assert_num_queries):
    desk.team_l2.members.add(desk.ana)
    do_save_view(desk.ana, "Mía", {"assignee": "me"})
    agents = [desk.ana, desk.beto, desk.carla, None]
    teams = [desk.team_l1, desk.team_l2, None]

    def add(count):
        for n in range(count):
            conversation = make(desk, subject=f"Pedido {n}", text=f"Mi pedido {n}",
                                sender=f"cliente{n % 7}@example.org",
                                assignee=agents[n % 4], team=teams[n % 3],
                                tags=["vip", f"tag-{n % 5}"] if n % 2 else ())
            actions.do_send_reply(conversation, "Respuesta", acting_user=desk.beto)
            receive(desk, conversation=conversation, sender=f"cliente{n % 7}@example.org",
                    text="Otra pregunta")
            if n % 3 == 0:
                do_mark_read(conversation, desk.ana)

    add(5)
    few = _queries(ana, url)
    add(45)
    many = _queries(ana, url)
    assert few == many
    with django_assert_num_queries(expected):
        ana.get(url)


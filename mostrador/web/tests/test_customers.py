"""The customer pages: list and search, the customer 360 (identities, attributes, past
conversations with reason and resolution, one timeline), editing, merging, and the panel the
conversation page shows beside a thread."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from mostrador.conversations.actions import (
    do_add_note,
    do_add_tags,
    do_change_status,
    do_create_conversation,
    do_send_reply,
)
from mostrador.conversations.models import Conversation
from mostrador.customers.actions import do_create_customer, do_create_organisation
from mostrador.customers.models import Customer, CustomerEvent

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def ana(client, desk):
    client.force_login(desk.ana)
    return client


def open_conversation(desk, customer, subject="No me ha llegado el pedido", **kwargs):
    return do_create_conversation(inbox=desk.inbox, customer=customer, subject=subject,
                                  text=kwargs.pop("text", "Hola, el pedido 4411 no llega."),
                                  **kwargs)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the list -------------------------------------------------------------------------------


def test_the_list_asks_for_a_sign_in(client, desk):
    response = client.get(reverse("web:customers"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_staff_without_an_agent_profile_get_the_403_page(client, desk):
    user = get_user_model().objects.create_user("nobody", "nobody@desk.example.com", "x")
    client.force_login(user)
    response = client.get(reverse("web:customers"))
    assert response.status_code == 403
    assert "agent profile" in page_text(response)


def test_the_list_shows_identities_organisation_segments_and_open_conversations(ana, desk):
    acme = do_create_organisation(name="Acme Ibérica", domains=["acme.es"])
    lucia = do_create_customer(name="Lucía Pérez", organisation=acme, segments=["premium"],
                               identities=[("email", "lucia@acme.es"),
                                           ("phone", "+34 600 11 22 33")])
    open_conversation(desk, lucia)
    solved = open_conversation(desk, lucia, subject="Factura")
    do_change_status(solved, "solved", acting_user=desk.ana)
    open_conversation(desk, lucia, subject="Otra duda")

    text = page_text(ana.get(reverse("web:customers")))
    row = re.search(r"<tr>.*?Lucía Pérez.*?</tr>", text).group(0)
    assert "lucia@acme.es" in row and "+34600112233" in row
    assert "Acme Ibérica" in row
    assert "premium" in row
    assert "2 open" in row
    assert "Elena Martín" in text and "Frank Miller" in text


def test_search_by_name_email_or_phone_and_merged_customers_are_not_listed(ana, desk):
    do_create_customer(name="Lucía Pérez", identities=[("phone", "+34 600 11 22 33")])
    duplicate = do_create_customer(name="Elena M.", identities=[("email", "elena@trabajo.es")])
    Customer.objects.filter(pk=duplicate.pk).update(merged_into=desk.elena)

    def names(q):
        text = page_text(ana.get(reverse("web:customers"), {"q": q}))
        return re.findall(r'class="customer-name" href="[^"]+">([^<]+)<', text)

    assert names("frank.miller@") == ["Frank Miller"]
    assert names("600 11") == []  # the number is stored without spaces
    assert names("60011") == ["Lucía Pérez"]
    assert names("elena") == ["Elena Martín"]
    assert "No customer matches" in page_text(ana.get(reverse("web:customers"), {"q": "zz"}))


def test_the_search_box_answers_htmx_with_the_results_only(ana, desk):
    response = ana.get(reverse("web:customers"), {"q": "frank"},
                       headers={**HX, "HX-Target": "customer-results"})
    text = page_text(response)
    assert "Frank Miller" in text and "Elena" not in text
    assert "<html" not in text


def test_the_list_pages_by_keyset(ana, desk):
    for n in range(53):
        Customer.objects.create(name=f"Cliente {n:02}")
    first = page_text(ana.get(reverse("web:customers")))
    assert "Cliente 52" in first and "Cliente 03" in first
    cursor = re.search(r"cursor=([\w-]+)", first).group(1)
    second = page_text(ana.get(reverse("web:customers"), {"cursor": cursor}))
    assert "Cliente 02" in second and "Frank Miller" in second and "Cliente 52" not in second
    assert "First page" in second
    broken = ana.get(reverse("web:customers"), {"cursor": "bm9wZQ"})
    assert broken.status_code == 302


def test_the_list_costs_the_same_queries_for_5_or_50_customers(ana, desk,
                                                               django_assert_num_queries):
    def add(count):
        for n in range(count):
            customer = do_create_customer(name=f"Cliente {n}", segments=["vip"],
                                          identities=[("email", f"c{n}-{count}@tienda.es")])
            open_conversation(desk, customer)

    add(5)
    ana.get(reverse("web:customers"))  # warm the session
    with django_assert_num_queries(6) as few:
        assert ana.get(reverse("web:customers")).status_code == 200
    add(45)
    with django_assert_num_queries(len(few.captured_queries)):
        assert ana.get(reverse("web:customers")).status_code == 200


# --- the customer 360 -----------------------------------------------------------------------


@pytest.fixture
def elena_history(desk, settings, tmp_path):
    """Elena: a solved refund (request type), a tagged open question, a note, and a closed
    conversation whose last reply starts with a salutation."""
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path), "SMTP_URL": ""}
    elena = desk.elena
    elena.language, elena.time_zone = "es", "Europe/Madrid"
    elena.segments, elena.attributes = ["premium"], {"plan": "business", "lifetime_value": 1840}
    elena.save()
    refund = open_conversation(desk, elena, subject="Devolución del pedido 4411")
    Conversation.objects.filter(pk=refund.pk).update(request_type="devolución")
    do_send_reply(refund, "Hola Elena:\n\nTe hemos devuelto 59,90 € a la tarjeta.\n\nUn saludo",
                  acting_user=desk.ana, status="solved")
    question = open_conversation(desk, elena, subject="¿Hacéis envíos a Canarias?")
    do_add_tags(question, ["envíos"], acting_user=desk.ana)
    do_add_tags(question, ["canarias"], acting_user=desk.beto)
    do_add_note(question, "Consultar con logística", acting_user=desk.beto)
    closed = open_conversation(desk, elena, subject="Cambio de dirección")
    do_send_reply(closed, "Hola Elena,\nDirección cambiada en tu cuenta.", acting_user=desk.ana)
    do_change_status(closed, "closed", acting_user=desk.carla)
    return {"refund": refund, "question": question, "closed": closed}


def test_the_customer_page_shows_the_whole_customer(ana, desk, elena_history):
    desk.elena.identities.create(kind="phone", external_id="+34600111222")
    text = page_text(ana.get(reverse("web:customer", args=[desk.elena.pk])))
    assert "Elena Martín" in text
    assert "elena.martin@correo.es" in text and "+34600111222" in text
    assert re.search(r'class="badge segment">premium<', text)
    assert "<dt>plan</dt><dd>business</dd>" in text
    assert "<dt>lifetime_value</dt><dd>1840</dd>" in text
    assert "Europe/Madrid" in text and "Spanish" in text
    assert "3 in all, open: 1" in text


def test_past_conversations_show_contact_reason_and_resolution(ana, desk, elena_history):
    text = page_text(ana.get(reverse("web:customer", args=[desk.elena.pk])))
    rows = {n: re.search(rf"<tr> <td><a href=\"/c/{c.pk}/\">.*?</tr>", text).group(0)
            for n, c in elena_history.items()}
    assert "devolución" in rows["refund"]
    assert "status-solved" in rows["refund"]
    assert "Te hemos devuelto 59,90 € a la tarjeta." in rows["refund"]
    assert "Hola Elena" not in rows["refund"]
    # No request type: the first tag put on it.
    assert '<span class="tag">envíos</span>' in rows["question"]
    assert "status-new" in rows["question"]
    assert "status-closed" in rows["closed"]
    assert "Dirección cambiada en tu cuenta." in rows["closed"]
    # Newest first.
    order = [text.index(f'href="/c/{c.pk}/"') for c in
             (elena_history["closed"], elena_history["question"], elena_history["refund"])]
    assert order == sorted(order)


def test_the_timeline_marks_inbound_replies_and_notes_across_conversations(ana, desk,
                                                                           elena_history):
    text = page_text(ana.get(reverse("web:customer", args=[desk.elena.pk])))
    timeline = text[text.index('id="timeline"'):]
    entries = re.findall(r'<li class="timeline-entry dir-(\w+)">(.*?)</li>', timeline)
    assert [d for d, _ in entries] == ["outbound", "inbound", "note", "inbound", "outbound",
                                       "inbound"]
    note = entries[2][1]
    assert "Internal note" in note and "Beto Ruiz" in note and "Consultar con logística" in note
    assert f'href="/c/{elena_history["question"].pk}/"' in note
    assert "Ana García" in entries[0][1] and "E-mail" in entries[0][1]


def test_the_timeline_pages_back_by_keyset(ana, desk):
    conversation = open_conversation(desk, desk.elena)
    for n in range(30):
        do_add_note(conversation, f"Nota número {n:02}", acting_user=desk.ana)
    url = reverse("web:customer", args=[desk.elena.pk])
    text = page_text(ana.get(url))
    assert "Nota número 29" in text and "Nota número 05" in text
    assert "Nota número 04" not in text
    link = re.search(r'hx-get="([^"]+/timeline/\?before=[^"]+)"', text).group(1)
    older = page_text(ana.get(link.replace("&amp;", "&"), headers=HX))
    assert "<html" not in older
    assert re.findall(r"Nota número (\d+)", older) == ["04", "03", "02", "01", "00"]
    assert "Hola, el pedido 4411 no llega." in older
    assert "Older messages" not in older
    # Without JavaScript the same link is the page from that point on.
    cursor = re.search(r"before=([\w-]+)", link).group(1)
    plain = page_text(ana.get(url, {"before": cursor}))
    assert "Nota número 04" in plain and "Nota número 29" not in plain
    assert "Back to the newest messages" in plain
    assert ana.get(url, {"before": "bm9wZQ"}).status_code == 200


def test_past_conversations_page_back_by_keyset(ana, desk):
    for n in range(23):
        open_conversation(desk, desk.frank, subject=f"Pedido {n:02}")
    url = reverse("web:customer", args=[desk.frank.pk])
    text = page_text(ana.get(url))
    text = text[text.index('id="conversations"'):text.index('id="timeline"')]
    assert "Pedido 22" in text and "Pedido 03" in text and "Pedido 02" not in text
    link = re.search(r'hx-get="([^"]+/conversations/\?conversations_before=[^"]+)"',
                     text).group(1)
    older = page_text(ana.get(link, headers=HX))
    assert re.findall(r"Pedido (\d+)", older) == ["02", "01", "00"]


def test_the_customer_page_costs_the_same_queries_for_5_or_50_conversations(
        ana, desk, django_assert_num_queries):
    def add(count):
        for n in range(count):
            conversation = open_conversation(desk, desk.elena, subject=f"Consulta {n}")
            do_add_tags(conversation, ["pedidos"], acting_user=desk.ana)
            do_add_note(conversation, "Revisado", acting_user=desk.ana)

    url = reverse("web:customer", args=[desk.elena.pk])
    add(5)
    ana.get(url)
    with django_assert_num_queries(9) as few:
        assert ana.get(url).status_code == 200
    add(45)
    with django_assert_num_queries(len(few.captured_queries)):
        assert ana.get(url).status_code == 200


def test_a_missing_customer_is_404(ana, desk):
    assert ana.get(reverse("web:customer", args=[999_999])).status_code == 404


# --- changing the customer ------------------------------------------------------------------


def test_add_an_identity(ana, desk):
    url = reverse("web:customer_add_identity", args=[desk.elena.pk])
    response = ana.post(url, {"kind": "phone", "external_id": "600 123 456"})
    assert response.status_code == 302
    assert desk.elena.identities.filter(kind="phone", external_id="+600123456").exists()
    assert "The identity was added." in page_text(ana.get(response["Location"]))


def test_an_identity_of_another_customer_offers_the_merge(ana, desk):
    url = reverse("web:customer_add_identity", args=[desk.elena.pk])
    response = ana.post(url, {"kind": "email", "external_id": "Frank.Miller@example.org"},
                        headers=HX)
    text = page_text(response)
    assert response.status_code == 200 and "<html" not in text
    assert "frank.miller@example.org already belongs to Frank Miller" in text
    assert reverse("web:customer_merge_confirm", args=[desk.elena.pk, desk.frank.pk]) in text
    assert not desk.elena.identities.filter(external_id="frank.miller@example.org").exists()
    bad = page_text(ana.post(url, {"kind": "email", "external_id": "no-es-correo"}))
    assert "Enter a valid e-mail address." in bad


def test_add_an_identity_with_htmx_answers_the_profile_card(ana, desk):
    url = reverse("web:customer_add_identity", args=[desk.elena.pk])
    text = page_text(ana.post(url, {"kind": "telegram", "external_id": "@elena_m"},
                              headers=HX))
    assert text.lstrip().startswith('<section id="customer-profile"')
    assert "@elena_m" in text and "The identity was added." in text


def test_edit_attributes_keeps_their_kind(ana, desk):
    Customer.objects.filter(pk=desk.elena.pk).update(
        attributes={"plan": "basic", "lifetime_value": 120, "vip": False, "old": "x"})
    url = reverse("web:customer_attributes", args=[desk.elena.pk])
    # Listed by name: lifetime_value, old, plan, vip.
    form = {"key_0": "lifetime_value", "value_0": "1840.50", "key_1": "old", "value_1": "x",
            "remove_1": "on", "key_2": "plan", "value_2": "business", "key_3": "vip",
            "value_3": "true", "new_key": "last_purchase", "new_value": "2024-05-02"}
    assert ana.post(url, form).status_code == 302
    desk.elena.refresh_from_db()
    assert desk.elena.attributes == {"plan": "business", "lifetime_value": 1840.5, "vip": True,
                                     "last_purchase": "2024-05-02"}
    assert CustomerEvent.objects.filter(customer=desk.elena, kind="customer.updated").exists()

    form = {"key_0": "last_purchase", "value_0": "2024-05-02", "key_1": "lifetime_value",
            "value_1": "mucho", "key_2": "plan", "value_2": "business", "key_3": "vip",
            "value_3": "true", "new_key": "seats", "new_value": "25"}
    text = page_text(ana.post(url, form, headers=HX))
    assert "Write a number" in text
    desk.elena.refresh_from_db()
    assert "seats" not in desk.elena.attributes
    form.update(value_1="2000")
    ana.post(url, form)
    desk.elena.refresh_from_db()
    assert desk.elena.attributes["seats"] == 25 and desk.elena.attributes["lifetime_value"] == 2000


def test_attributes_changed_meanwhile_are_not_overwritten(ana, desk):
    url = reverse("web:customer_attributes", args=[desk.elena.pk])
    Customer.objects.filter(pk=desk.elena.pk).update(attributes={"plan": "pro"})
    text = page_text(ana.post(url, {"key_0": "seats", "value_0": "3"}))
    assert "changed while you edited them" in text
    desk.elena.refresh_from_db()
    assert desk.elena.attributes == {"plan": "pro"}


def test_edit_the_customer(ana, desk):
    acme = do_create_organisation(name="Acme Ibérica")
    url = reverse("web:customer_edit", args=[desk.elena.pk])
    assert "Elena Martín" in page_text(ana.get(url))
    response = ana.post(url, {"name": "Elena Martín Ruiz", "language": "es",
                              "time_zone": "Atlantic/Canary", "organisation": acme.pk,
                              "segments": "Premium, vip, premium"})
    assert response.status_code == 302
    desk.elena.refresh_from_db()
    assert (desk.elena.name, desk.elena.language, desk.elena.time_zone) == (
        "Elena Martín Ruiz", "es", "Atlantic/Canary")
    assert desk.elena.organisation == acme and desk.elena.segments == ["premium", "vip"]
    bad = page_text(ana.post(url, {"name": "x", "time_zone": "Mars/Olympus"}))
    assert "Select a valid choice" in bad


# --- merging --------------------------------------------------------------------------------


def test_merge_shows_what_moves_then_merges_and_the_duplicate_redirects(ana, desk):
    duplicate = do_create_customer(name="E. Martín", attributes={"plan": "pro"},
                                   segments=["vip"],
                                   identities=[("email", "elena@trabajo.es")])
    open_conversation(desk, duplicate, subject="Pedido duplicado")
    merge = reverse("web:customer_merge", args=[desk.elena.pk])
    found = page_text(ana.get(merge, {"q": "trabajo.es"}))
    confirm = reverse("web:customer_merge_confirm", args=[desk.elena.pk, duplicate.pk])
    assert confirm in found
    assert reverse("web:customer_merge_confirm", args=[desk.elena.pk, desk.elena.pk]) \
        not in page_text(ana.get(merge, {"q": "elena"}))

    preview = page_text(ana.get(confirm))
    assert "<strong>E. Martín</strong> will be merged into <strong>Elena Martín</strong>" in \
        preview
    assert "1 conversation, with all its messages" in preview
    assert "elena@trabajo.es" in preview and "plan = pro" in preview and ">vip<" in preview
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id is None

    response = ana.post(confirm, {"keep": "this"})
    assert response["Location"] == reverse("web:customer", args=[desk.elena.pk])
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == desk.elena.pk
    assert desk.elena.identities.filter(external_id="elena@trabajo.es").exists()
    assert desk.elena.conversations.filter(subject="Pedido duplicado").exists()
    gone = ana.get(reverse("web:customer", args=[duplicate.pk]))
    assert gone["Location"] == reverse("web:customer", args=[desk.elena.pk])
    listed = page_text(ana.get(reverse("web:customers")))
    assert "E. Martín was merged into Elena Martín." in listed
    assert re.findall(r'class="customer-name" href="[^"]+">([^<]+)<', listed) == [
        "Frank Miller", "Elena Martín"]


def test_merge_can_keep_the_other_customer(ana, desk):
    confirm = reverse("web:customer_merge_confirm", args=[desk.elena.pk, desk.frank.pk])
    preview = page_text(ana.get(confirm, {"keep": "other"}))
    assert "<strong>Elena Martín</strong> will be merged into <strong>Frank Miller</strong>" \
        in preview
    response = ana.post(confirm, {"keep": "other"})
    assert response["Location"] == reverse("web:customer", args=[desk.frank.pk])
    assert Customer.objects.get(pk=desk.elena.pk).merged_into_id == desk.frank.pk


# --- the panel beside a conversation --------------------------------------------------------


def test_the_panel_shows_the_customer_and_the_last_five_other_conversations(ana, desk):
    Customer.objects.filter(pk=desk.elena.pk).update(
        segments=["premium"], attributes={"plan": "business"}, language="es")
    earlier = [open_conversation(desk, desk.elena, subject=f"Consulta {n}") for n in range(7)]
    do_change_status(earlier[6], "solved", acting_user=desk.ana)
    current = open_conversation(desk, desk.elena, subject="La de ahora")
    response = ana.get(reverse("web:customer_panel", args=[current.pk]), headers=HX)
    text = page_text(response)
    assert "<html" not in text
    assert "Elena Martín" in text and "elena.martin@correo.es" in text
    assert "premium" in text and "<dt>plan</dt><dd>business</dd>" in text
    assert re.findall(r"Consulta (\d)", text) == ["6", "5", "4", "3", "2"]
    assert "La de ahora" not in text
    assert "status-solved" in text
    assert "All conversations" in text


def test_the_panel_costs_the_same_queries_for_few_or_many_conversations(
        ana, desk, django_assert_num_queries):
    do_add_tags(open_conversation(desk, desk.frank, subject="Primera"), ["envíos"],
                acting_user=desk.ana)
    current = open_conversation(desk, desk.frank)
    url = reverse("web:customer_panel", args=[current.pk])
    ana.get(url)
    with django_assert_num_queries(8) as few:
        ana.get(url, headers=HX)
    for n in range(20):
        do_add_tags(open_conversation(desk, desk.frank, subject=f"Otra {n}"), ["envíos"],
                    acting_user=desk.ana)
    with django_assert_num_queries(len(few.captured_queries)):
        ana.get(url, headers=HX)


def test_the_panel_of_a_missing_conversation_is_404(ana, desk):
    assert ana.get(reverse("web:customer_panel", args=[999_999])).status_code == 404

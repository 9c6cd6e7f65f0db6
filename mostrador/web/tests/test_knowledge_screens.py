"""The knowledge base in the agent workspace: the reply box's search panel (published articles,
internal ones included but never linked), "Save as article" on an agent's reply, and the
knowledge base screens (list, writing, review and publishing by rights, versions)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Message
from mostrador.knowledge import actions, retrieval, semantic
from mostrador.knowledge.models import Article, ArticleVersion
from mostrador.knowledge.queries import public_url
from mostrador.web.conversation.knowledge import suggestion_query

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
REFUNDS = ("Devoluciones y reembolsos",
           "Puedes devolver un pedido en los 30 días siguientes a la entrega.\n\n"
           "El reembolso llega en 5 a 7 días hábiles al mismo medio de pago.")
INVOICES = ("Guía interna: facturas rectificativas",
            "Para emitir una factura rectificativa abre la ficha del pedido en el ERP y pide "
            "la aprobación del responsable de facturación.")
PASSWORD = ("Resetting your password",
            "If you forgot your password, open the sign-in page and choose Forgot password. "
            "We send a link to your e-mail address that is valid for one hour.")


@pytest.fixture(autouse=True)
def _static_root_and_outbox(settings, tmp_path):
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path / "outbox")}


@pytest.fixture
def library(desk, django_capture_on_commit_callbacks) -> dict[str, Article]:
    """Published: a public Spanish article, an internal Spanish one, a public English one;
    and a draft that search never shows."""
    semantic.forget()
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for key, (title, body), language, visibility in (
                ("refunds", REFUNDS, "es", "public"), ("invoices", INVOICES, "es", "internal"),
                ("password", PASSWORD, "en", "public")):
            article = actions.do_create_article(title=title, body=body, language=language,
                                                visibility=visibility, acting_user=desk.carla)
            made[key] = actions.do_publish_article(article, acting_user=desk.carla)
        made["draft"] = actions.do_create_article(
            title="Borrador: reembolsos con tarjeta regalo",
            body="Los reembolsos de tarjetas regalo aún no están escritos.", language="es",
            acting_user=desk.ana)
    return made


@pytest.fixture
def conversation(desk, django_capture_on_commit_callbacks) -> Conversation:
    """Elena, in Spanish, about a refund; Ana's reply. Its after-commit work runs here: one
    callback left pending would hold back the search index's batch listener."""
    with django_capture_on_commit_callbacks(execute=True):
        conversation = conversation_actions.do_create_conversation(
            inbox=desk.inbox, customer=desk.elena, subject="Reembolso del pedido 2291",
            text="Hola, devolví el pedido hace una semana y no me ha llegado el reembolso.",
            acting_user=None)
        conversation.language = "es"
        conversation.save(update_fields=["language"])
        conversation_actions.do_send_reply(
            conversation,
            "Hola Elena:\n\nEl reembolso llega en 5 a 7 días hábiles.\n\nUn saludo.",
            acting_user=desk.ana)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """``client.post`` with the request's after-commit work run, as after a real commit."""

    def post(url, data=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **kwargs)

    return post


def reply_of(conversation: Conversation) -> Message:
    return conversation.messages.get(direction=Message.Direction.OUTBOUND)


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                    response.content.decode())))


def staff_without_agent():
    return get_user_model().objects.create_user("bare@desk.example.com", password="x",
                                                is_staff=True)


# --- the reply box's panel --------------------------------------------------------------------


def test_the_reply_box_has_the_panel_and_replies_can_become_articles(client, desk,
                                                                     conversation):
    client.force_login(desk.ana)
    markup = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert 'class="kb" hidden' in markup and "web/knowledge.js" in markup
    assert reverse("web:conversation_knowledge", args=[conversation.pk]) in markup
    assert 'aria-keyshortcuts="b"' in markup
    inbound = conversation.messages.get(direction=Message.Direction.INBOUND)
    article_url = reverse("web:conversation_reply_article",
                          args=[conversation.pk, reply_of(conversation).pk])
    assert f'hx-get="{article_url}"' in markup
    # On Ana's reply only, not on Elena's message.
    assert set(re.findall(r"messages/(\d+)/article/", markup)) == {
        str(reply_of(conversation).pk)}
    assert inbound.pk != reply_of(conversation).pk


def test_a_search_finds_published_articles_internal_ones_too(client, desk, conversation,
                                                             library):
    client.force_login(desk.ana)
    url = reverse("web:conversation_knowledge", args=[conversation.pk])
    data = client.get(url, {"q": "factura rectificativa"}).json()
    assert data["suggested"] is False and data["query"] == "factura rectificativa"
    first = data["items"][0]
    assert first == {
        "id": library["invoices"].pk, "title": INVOICES[0], "language": "es",
        "language_name": "Spanish", "visibility": "internal", "internal": True,
        "visibility_label": "Internal", "snippet": first["snippet"],
        "passage": first["passage"], "linkable": False,
        "open_url": reverse("web:knowledge_article", args=[library["invoices"].pk])}
    assert "<mark>factura</mark> <mark>rectificativa</mark>" in first["snippet"]
    refunds = client.get(url, {"q": "reembolso"}).json()["items"]
    assert refunds[0]["id"] == library["refunds"].pk
    assert refunds[0]["linkable"] is True and refunds[0]["visibility_label"] == "Public"
    assert "<mark>reembolso</mark>" in refunds[0]["snippet"]
    # The passage that matched is what "Insert text" puts in the reply.
    assert refunds[0]["passage"] in REFUNDS[1]
    every = {item["id"] for q in ("reembolso", "factura", "password", "tarjetas regalo")
             for item in client.get(url, {"q": q}).json()["items"]}
    assert library["draft"].pk not in every
    assert len(client.get(url, {"q": "pedido"}).json()["items"]) <= 8


def test_the_search_asks_retrieval_for_agents_results_in_the_conversations_language(
        client, desk, conversation, library, monkeypatch):
    calls = []
    real = retrieval.find

    def spy(query, **kwargs):
        calls.append((query, kwargs))
        return real(query, **kwargs)

    monkeypatch.setattr(retrieval, "find", spy)
    client.force_login(desk.ana)
    client.get(reverse("web:conversation_knowledge", args=[conversation.pk]), {"q": "  pago  "})
    assert calls == [("pago", {"language": "es", "public_only": False, "limit": 8})]


def test_an_empty_query_suggests_articles_for_the_conversation(client, desk, conversation,
                                                                library):
    client.force_login(desk.ana)
    data = client.get(reverse("web:conversation_knowledge", args=[conversation.pk])).json()
    assert data["suggested"] is True
    assert data["query"] == ("Reembolso del pedido 2291 Hola, devolví el pedido hace una "
                             "semana y no me ha llegado el reembolso.")
    assert data["items"][0]["id"] == library["refunds"].pk


def test_the_suggestion_reads_the_subject_and_the_start_of_the_last_customer_message(
        desk, conversation):
    long = conversation_actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.frank, subject="Password",
        text="x" * 250 + "\n\n" + "y" * 100, acting_user=None)
    assert suggestion_query(long) == "Password " + "x" * 250 + " " + "y" * 48
    # Agents' replies and notes are not what the customer asked.
    conversation_actions.do_add_note(conversation, "Mirar el ERP", acting_user=desk.ana)
    assert suggestion_query(conversation) == (
        "Reembolso del pedido 2291 Hola, devolví el pedido hace una semana y no me ha "
        "llegado el reembolso.")


def test_insert_gives_a_public_articles_link_and_any_articles_text(client, desk, conversation,
                                                                   library):
    client.force_login(desk.ana)
    refunds, invoices = library["refunds"], library["invoices"]

    def insert(article, what):
        return client.get(reverse("web:conversation_knowledge_insert",
                                  args=[conversation.pk, article.pk]), {"what": what})

    link = insert(refunds, "link")
    assert link.status_code == 200
    assert link.json() == {
        "text": f"http://testserver/help/es/a/{refunds.pk}-devoluciones-y-reembolsos/",
        "title": REFUNDS[0], "what": "link"}
    refused = insert(invoices, "link")
    assert refused.status_code == 409
    assert "customers cannot open its link" in refused.json()["detail"]
    text = insert(invoices, "text")
    assert text.status_code == 200 and text.json()["text"] == invoices.body_text
    assert "factura rectificativa" in text.json()["text"]
    # A draft is no public article either, even though agents may read it.
    assert insert(library["draft"], "link").status_code == 409
    assert insert(refunds, "html").status_code == 400
    gone = client.get(reverse("web:conversation_knowledge_insert",
                              args=[conversation.pk, refunds.pk + 999]), {"what": "text"})
    assert gone.status_code == 404 and "no longer exists" in gone.json()["detail"]


def test_an_inserted_link_is_a_link_in_the_thread(client, desk, conversation,
                                                  django_capture_on_commit_callbacks):
    url = "https://desk.example.com/help/es/a/1-devoluciones-y-reembolsos/"
    with django_capture_on_commit_callbacks(execute=True):
        conversation_actions.do_send_reply(conversation, f"Mira <esto>: {url}",
                                           acting_user=desk.ana)
    client.force_login(desk.ana)
    markup = client.get(reverse("web:conversation", args=[conversation.pk])).content.decode()
    assert f'Mira &lt;esto&gt;: <a href="{url}" rel="nofollow">{url}</a>' in markup


def test_article_public_url_without_a_request_uses_the_base_url(settings, library):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "BASE_URL": "https://ayuda.example.com/"}
    article = library["password"]
    assert public_url(article) == (
        f"https://ayuda.example.com/help/en/a/{article.pk}-resetting-your-password/")


def test_the_panel_is_for_agents_on_conversations_they_can_open(client, desk, conversation,
                                                                 library):
    search = reverse("web:conversation_knowledge", args=[conversation.pk])
    insert = reverse("web:conversation_knowledge_insert",
                     args=[conversation.pk, library["refunds"].pk])
    assert client.get(search).status_code == 302
    client.force_login(staff_without_agent())
    assert client.get(search).status_code == 403
    assert client.get(insert, {"what": "link"}).status_code == 403
    client.force_login(desk.ana)
    missing = client.get(reverse("web:conversation_knowledge", args=[conversation.pk + 999]))
    assert missing.status_code == 404
    assert client.post(search).status_code == 405


# --- a reply becomes an article -----------------------------------------------------------------


def test_the_form_is_prefilled_from_the_conversation_and_the_reply(client, desk,
                                                                    conversation):
    client.force_login(desk.beto)
    url = reverse("web:conversation_reply_article",
                  args=[conversation.pk, reply_of(conversation).pk])
    response = client.get(url, headers=HX)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"title": "Reembolso del pedido 2291",
                            "body": "Hola Elena:\n\nEl reembolso llega en 5 a 7 días hábiles."
                                    "\n\nUn saludo.",
                            "language": "es"}
    markup = response.content.decode()
    assert "<html" not in markup and f'hx-post="{url}"' in markup
    # Without htmx the same form is a page of its own.
    assert "<html" in client.get(url).content.decode()


def test_saving_a_reply_makes_a_draft_with_its_text(client, desk, conversation,
                                                    django_capture_on_commit_callbacks):
    category = actions.do_create_category("Pedidos", acting_user=desk.carla)
    client.force_login(desk.ana)
    reply = reply_of(conversation)
    url = reverse("web:conversation_reply_article", args=[conversation.pk, reply.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"title": "¿Cuándo llega el reembolso?",
                                     "body": reply.text, "language": "es",
                                     "category": str(category.pk)}, headers=HX)
    assert response.status_code == 200
    article = Article.objects.get()
    assert (article.title, article.status, article.visibility, article.language) == (
        "¿Cuándo llega el reembolso?", "draft", "public", "es")
    assert article.body_text == "Hola Elena:\n\nEl reembolso llega en 5 a 7 días hábiles." \
                                "\n\nUn saludo."
    assert article.category_id == category.pk and article.created_by_id == desk.ana.pk
    version = ArticleVersion.objects.get(article=article)
    assert version.note == f"From a reply in conversation #{conversation.pk}."
    page = text_of(response)
    assert f"Draft article “¿Cuándo llega el reembolso?” (#{article.pk}) created." in page
    assert reverse("web:knowledge_article", args=[article.pk]) in response.content.decode()
    # A draft: nobody finds it until it is published.
    assert article.pk not in {f.article_id for f in
                              retrieval.find("reembolso", public_only=False)}


def test_without_htmx_saving_goes_back_to_the_conversation(client, desk, conversation):
    client.force_login(desk.ana)
    reply = reply_of(conversation)
    response = client.post(
        reverse("web:conversation_reply_article", args=[conversation.pk, reply.pk]),
        {"title": "Plazos de reembolso", "body": "Entre 5 y 7 días.", "language": "es"},
        follow=True)
    assert response.redirect_chain[-1][0].startswith(
        reverse("web:conversation", args=[conversation.pk]))
    article = Article.objects.get()
    assert "Draft article “Plazos de reembolso”" in text_of(response)
    assert article.category_id is None and article.status == "draft"


def test_what_the_action_refuses_is_shown_on_the_form(client, desk, conversation):
    client.force_login(desk.ana)
    url = reverse("web:conversation_reply_article",
                  args=[conversation.pk, reply_of(conversation).pk])
    response = client.post(url, {"title": "   ", "body": "Texto", "language": "es"},
                           headers=HX)
    assert response.status_code == 200
    assert response.context["form"].errors == {"title": ["An article needs a title."]}
    bad = client.post(url, {"title": "T", "body": "Texto", "language": "fr"})
    assert bad.status_code == 400 and "language" in bad.context["form"].errors
    assert not Article.objects.exists()


def test_only_an_agents_reply_and_only_agents(client, desk, conversation):
    inbound = conversation.messages.get(direction=Message.Direction.INBOUND)
    note = conversation_actions.do_add_note(conversation, "Nota interna", acting_user=desk.ana)
    client.force_login(desk.ana)
    for message in (inbound, note):
        url = reverse("web:conversation_reply_article", args=[conversation.pk, message.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"title": "T", "body": "x", "language": "es"}).status_code == 404
    reply_url = reverse("web:conversation_reply_article",
                        args=[conversation.pk, reply_of(conversation).pk])
    client.force_login(staff_without_agent())
    response = client.post(reply_url, {"title": "T", "body": "x", "language": "es"})
    assert response.status_code == 403
    client.logout()
    assert client.post(reply_url, {"title": "T", "body": "x", "language": "es"}).status_code \
        == 302
    assert not Article.objects.exists()


# --- the knowledge base screens ---------------------------------------------------------------


def test_the_list_shows_every_article_to_agents_with_filters(client, desk, library):
    client.force_login(desk.ana)
    page = text_of(client.get(reverse("web:knowledge")))
    for article in library.values():
        assert article.title in page
    markup = client.get(reverse("web:knowledge")).content.decode()
    assert markup.count('class="badge kb-status-draft"') == 1
    assert markup.count('class="badge kb-status-published"') == 3
    assert 'class="badge kb-status-review"' not in markup
    drafts = text_of(client.get(reverse("web:knowledge"), {"status": "draft"}))
    assert library["draft"].title in drafts and REFUNDS[0] not in drafts
    english = text_of(client.get(reverse("web:knowledge"), {"language": "en"}))
    assert PASSWORD[0] in english and REFUNDS[0] not in english
    internal = text_of(client.get(reverse("web:knowledge"), {"visibility": "internal"}))
    assert INVOICES[0] in internal and REFUNDS[0] not in internal
    assert f'href="{reverse("web:knowledge")}"' in markup and 'aria-current="page"' in markup


def test_the_list_searches_published_articles_and_the_words_of_drafts(client, desk, library):
    client.force_login(desk.ana)
    response = client.get(reverse("web:knowledge"), {"q": "reembolsos"})
    rows = [row["article"].pk for row in response.context["rows"]]
    assert rows[0] == library["refunds"].pk and library["draft"].pk in rows
    assert "<mark>reembolso</mark>" in response.content.decode()
    internal = client.get(reverse("web:knowledge"), {"q": "factura rectificativa"})
    assert internal.context["rows"][0]["article"].pk == library["invoices"].pk
    only_drafts = client.get(reverse("web:knowledge"), {"q": "reembolsos", "status": "draft"})
    assert [row["article"].pk for row in only_drafts.context["rows"]] == [library["draft"].pk]


def test_the_screens_are_for_agents(client, desk, library):
    assert client.get(reverse("web:knowledge")).status_code == 302
    client.force_login(staff_without_agent())
    for url in (reverse("web:knowledge"), reverse("web:knowledge_new"),
                reverse("web:knowledge_article", args=[library["refunds"].pk])):
        assert client.get(url).status_code == 403
    client.force_login(desk.ana)
    assert client.get(reverse("web:knowledge_article", args=[999_999])).status_code == 404


def test_an_agent_writes_a_draft_and_submits_it_a_supervisor_publishes_it(client, post, desk):
    category = actions.do_create_category("Cuenta", acting_user=desk.carla)
    section = actions.do_create_section(category, "Acceso", acting_user=desk.carla)
    client.force_login(desk.ana)
    form = client.get(reverse("web:knowledge_new")).content.decode()
    assert f'value="s{section.pk}"' in form and 'name="visibility"' in form
    response = post(reverse("web:knowledge_new"), {
        "title": "Cambiar la contraseña", "body": "<p>Ve a <b>Perfil</b>.</p><script>x</script>",
        "language": "es", "place": f"s{section.pk}", "visibility": "internal",
        "note": "Primera versión"})
    article = Article.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:knowledge_article", args=[article.pk])
    assert (article.status, article.visibility, article.section_id, article.category_id) == (
        "draft", "internal", section.pk, category.pk)
    assert article.body_html == "<p>Ve a <b>Perfil</b>.</p>"
    url = reverse("web:knowledge_article", args=[article.pk])
    page = client.get(url).content.decode()
    submit = reverse("web:knowledge_transition", args=[article.pk, "submit"])
    publish = reverse("web:knowledge_transition", args=[article.pk, "publish"])
    assert submit in page and publish not in page
    assert "Primera versión" in page and "Version 1" in page and "Ana García" in page

    post(url, {"title": "Cambiar tu contraseña", "body": article.body_html,
                      "language": "es", "place": f"c{category.pk}", "visibility": "internal",
                      "note": "Título más claro"})
    article.refresh_from_db()
    assert (article.title, article.section_id) == ("Cambiar tu contraseña", None)
    assert list(article.versions.order_by("number").values_list("note", flat=True)) == [
        "Primera versión", "Título más claro"]

    response = post(submit, follow=True)
    article.refresh_from_db()
    assert article.status == "review"
    assert "is waiting for review" in text_of(response)
    # Publishing is not Ana's: the action says so, the article stays in review.
    response = post(publish, follow=True)
    article.refresh_from_db()
    assert article.status == "review"
    assert "Only supervisors and administrators may publish" in text_of(response)

    client.force_login(desk.carla)
    page = client.get(url).content.decode()
    assert publish in page and submit not in page
    post(publish)
    article.refresh_from_db()
    assert article.status == "published" and article.published_version == 2
    assert retrieval.find("contraseña", public_only=False)[0].article_id == article.pk
    page = client.get(url).content.decode()
    assert reverse("web:knowledge_transition", args=[article.pk, "unpublish"]) in page
    # Internal: no help center link.
    assert "/help/" not in page


def test_a_published_article_changes_only_by_supervisors(client, post, desk, library):
    article = library["refunds"]
    url = reverse("web:knowledge_article", args=[article.pk])
    values = {"title": "Reembolsos", "body": article.body_html, "language": "es", "place": "",
              "visibility": "public"}
    client.force_login(desk.ana)
    page = client.get(url).content.decode()
    assert "only supervisors and administrators make them" in page
    assert f"http://testserver/help/es/a/{article.pk}-devoluciones-y-reembolsos/" in page
    response = post(url, values)
    assert response.status_code == 400
    assert "Only supervisors and administrators may publish" in text_of(response)
    article.refresh_from_db()
    assert article.title == REFUNDS[0]
    client.force_login(desk.carla)
    assert post(url, values).status_code == 302
    article.refresh_from_db()
    assert (article.title, article.status, article.published_version) == (
        "Reembolsos", "published", 2)
    unpublish = reverse("web:knowledge_transition", args=[article.pk, "unpublish"])
    response = post(unpublish, follow=True)
    article.refresh_from_db()
    assert article.status == "draft" and "is a draft again" in text_of(response)
    response = post(unpublish, follow=True)
    assert "This article is not published." in text_of(response)
    assert post(reverse("web:knowledge_transition",
                               args=[article.pk, "delete"])).status_code == 404
    assert client.get(unpublish).status_code == 405

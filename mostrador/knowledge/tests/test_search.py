import pytest

from mostrador.core.testing import api_token_for
from mostrador.knowledge import actions, search

ARTICLES = [
    ("es", "public", "Devoluciones y reembolsos",
     "Puedes devolver un pedido en los 30 días siguientes a la entrega. El reembolso llega "
     "en 5 a 7 días hábiles al mismo medio de pago."),
    ("en", "public", "Returns and refunds",
     "You can return an order within 30 days of delivery. Refunds reach the same payment "
     "method in 5 to 7 working days."),
    ("es", "public", "Cambiar la dirección de envío",
     "Mientras el pedido no haya salido del almacén puedes cambiar la dirección de envío "
     "desde tu cuenta."),
    ("es", "internal", "Guía interna de facturación",
     "Para emitir una factura rectificativa, abre la ficha del pedido y elige facturación."),
]


@pytest.fixture
def library(desk, django_capture_on_commit_callbacks):
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        for language, visibility, title, body in ARTICLES:
            article = actions.do_create_article(title=title, body=body, language=language,
                                                visibility=visibility, acting_user=desk.carla)
            made[title] = actions.do_publish_article(article, acting_user=desk.carla)
        draft = actions.do_create_article(title="Borrador sobre reembolsos",
                                          body="Texto sin publicar sobre reembolso",
                                          language="es", acting_user=desk.carla)
    made["draft"] = draft
    return made


def ids(hits):
    return [hit.article_id for hit in hits]


def test_word_forms_accents_and_case_find_published_articles_only(library):
    refunds = library["Devoluciones y reembolsos"]
    assert ids(search.search("DEVOLUCIÓN", language="es")) == [refunds.pk]
    assert ids(search.search("reembolsos", language="es")) == [refunds.pk]  # not the draft
    assert ids(search.search("refunded", language="en")) == \
        [library["Returns and refunds"].pk]
    assert ids(search.search("envio direccion")) == [library["Cambiar la dirección de envío"].pk]


def test_a_typo_is_forgiven_and_internal_articles_stay_out_of_public_search(library):
    internal = library["Guía interna de facturación"]
    assert ids(search.search("factrua", public_only=False)) == [internal.pk]
    assert ids(search.search("facturacion")) == []


def test_the_index_follows_unpublishing(library, desk, django_capture_on_commit_callbacks):
    article = library["Cambiar la dirección de envío"]
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_unpublish_article(article, acting_user=desk.carla)
    assert search.search("almacen") == []
    assert search.reindex_all() == 3


def test_snippets_mark_the_words_as_written():
    text = "Puedes devolver un pedido <gratis>. El reembolso llega en 5 a 7 días."
    assert search.snippet(text, "reembolsos", "es") == (
        "Puedes devolver un pedido &lt;gratis&gt;. El <mark>reembolso</mark> llega en 5 a 7 "
        "días.")


def test_the_search_endpoint_ranks_with_snippets(library, client, desk):
    token = api_token_for(desk.ana)
    response = client.get("/api/v1/kb/search", {"q": "reembolso", "lang": "es"},
                          HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    body = response.json()
    # The words find the Spanish article; the encoder also finds the English one (not linked
    # as its translation here), and nothing unrelated.
    assert [item["title"] for item in body["items"]] == ["Devoluciones y reembolsos",
                                                         "Returns and refunds"]
    assert "<mark>reembolso</mark>" in body["items"][0]["snippet"]
    assert body["items"][0]["score"] > body["items"][1]["score"] > 0
    assert body["items"][1]["similarity"] > 0.3
    only = client.get("/api/v1/kb/search", {"q": "reembolso", "lang": "es", "only_lang": "true"},
                      HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert [item["title"] for item in only["items"]] == ["Devoluciones y reembolsos"]
    bad = client.get("/api/v1/kb/search", {"q": "x", "lang": "fr"},
                     HTTP_AUTHORIZATION=f"Bearer {token}")
    assert bad.status_code == 400

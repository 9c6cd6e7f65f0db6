import pytest
from django.db import connection

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



@pytest.mark.parametrize("depth", [200, 1])
def test_filtered_searches_keep_the_order_of_the_unfiltered_one(
        desk, django_capture_on_commit_callbacks, monkeypatch, depth):
    monkeypatch.setattr(search, "RANK_DEPTH", depth)
    made = []
    with django_capture_on_commit_callbacks(execute=True):
        # Best match first: a title counts more than the body, two mentions more than one.
        for language, visibility, title, body in [
                ("en", "public", "Zentora and Zentora", "About the Zentora plan."),
                ("es", "internal", "Zentora", "Notas del plan."),
                ("es", "public", "Planes", "El plan Zentora, y Zentora Plus."),
                ("es", "public", "Tarifas", "Incluido en el plan Zentora."),
                ("en", "public", "Prices", "Included in the Zentora plan.")]:
            article = actions.do_create_article(title=title, body=body, language=language,
                                                visibility=visibility, acting_user=desk.carla)
            made.append(actions.do_publish_article(article, acting_user=desk.carla).pk)
    assert ids(search.search("zentora", public_only=False)) == made
    assert ids(search.search("zentora", language="es", limit=1)) == [made[2]]
    assert ids(search.search("zentora", language="es")) == [made[2], made[3]]
    assert ids(search.search("zentora", language="es", public_only=False, limit=2)) == \
        [made[1], made[2]]
    assert ids(search.search("zentora", limit=3)) == [made[0], made[2], made[3]]

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                   reason="PostgreSQL's own search configuration")


def lexemes(article_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tsvector_to_array(document) FROM search_articles "
                       "WHERE article_id = %s", [article_id])
        return set(cursor.fetchone()[0])


def known_words():
    with connection.cursor() as cursor:
        cursor.execute("SELECT language, word, articles FROM search_article_words")
        return {(language, word): n for language, word, n in cursor.fetchall()}


@postgres_only
def test_postgres_indexes_each_article_with_its_languages_stemmer_without_accents(library):
    spanish = lexemes(library["Cambiar la dirección de envío"].pk)
    assert {"envi", "direccion", "almac", "ped"} <= spanish
    assert not {"la", "de", "del", "envío"} & spanish  # stop words, accents
    english = lexemes(library["Returns and refunds"].pk)
    assert {"refund", "deliveri", "return"} <= english
    assert not {"and", "the", "of", "you"} & english
    # Parsed with the language's own rules: "the" is an English stop word, not a Spanish one,
    # and "la" the other way round; "deliveries" and "delivery" share an English stem.
    assert ids(search.search("the deliveries", language="en")) == \
        [library["Returns and refunds"].pk]
    assert ids(search.search("la entrega", language="es")) == \
        [library["Devoluciones y reembolsos"].pk]
    assert search.search("la entrega", language="en") == []
    # With no language, both parses ORed: the English one finds it.
    assert ids(search.search("the deliveries")) == [library["Returns and refunds"].pk]


@postgres_only
def test_postgres_finds_plurals_of_words_whose_accent_the_stemmer_needs(
        desk, django_capture_on_commit_callbacks):
    # Unaccented first, "devoluciones" is stemmed to 'devolu' but "devolución" to 'devolucion'.
    made = []
    with django_capture_on_commit_callbacks(execute=True):
        for title, body in (("Plazos", "Las devoluciones y las facturaciones tardan días."),
                            ("Pedir", "Pide la devolución con la facturación del pedido.")):
            article = actions.do_create_article(title=title, body=body, language="es",
                                                acting_user=desk.carla)
            made.append(actions.do_publish_article(article, acting_user=desk.carla).pk)
    for query in ("devolucion", "devolución", "facturacion", "DEVOLUCIONES", "facturaciones"):
        assert sorted(ids(search.search(query, language="es"))) == made, query


@postgres_only
def test_postgres_corrects_a_typo_to_the_most_similar_indexed_word(library):
    refunds = library["Devoluciones y reembolsos"]
    assert known_words()[("es", "reembolso")] == 1
    assert ids(search.search("rembolso", language="es")) == [refunds.pk]
    assert ids(search.search("pedido rembolso", language="es")) == [refunds.pk]
    assert ids(search.search("refnuds", language="en")) == [library["Returns and refunds"].pk]
    # Only words of the asked language are offered, and only similar ones.
    assert search.search("refnuds", language="es") == []
    assert search.search("zzzzqqq") == []


@postgres_only
def test_postgres_word_counts_follow_the_index(library, desk,
                                              django_capture_on_commit_callbacks):
    before = known_words()
    assert before[("es", "pedido")] == 3 and before[("es", "almacen")] == 1
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_unpublish_article(library["Cambiar la dirección de envío"],
                                     acting_user=desk.carla)
    after = known_words()
    assert after[("es", "pedido")] == 2
    assert ("es", "almacen") not in after
    assert search.search("almacn", language="es") == []
    search.index_articles([(library["Returns and refunds"].pk, "en", "public",
                            "Returns", "Warehouse")])
    search.index_articles([(library["Returns and refunds"].pk, "en", "public",
                            "Returns", "Warehouse")])
    again = known_words()
    assert again[("en", "warehouse")] == 1 and ("en", "refunds") not in again
    assert search.reindex_all() == 3
    assert known_words() == after


@postgres_only
def test_the_postgres_migration_goes_back_to_the_old_index_and_forth_again(library):
    from importlib import import_module

    migration = import_module("mostrador.knowledge.migrations.0004_postgres_search")
    with connection.schema_editor() as editor:
        migration.backwards(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_ts_config WHERE cfgname LIKE 'mostrador_%%'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT to_regclass('search_article_words'), "
                       "to_regclass('search_article_word_lists')")
        assert cursor.fetchone() == (None, None)
        # The old search's query for the stem "reembols", as a prefix.
        cursor.execute("SELECT article_id FROM search_articles "
                       "WHERE document @@ to_tsquery('simple', 'reembols:*')")
        assert [row[0] for row in cursor.fetchall()] == \
            [library["Devoluciones y reembolsos"].pk]
    with connection.schema_editor() as editor:
        migration.forwards(None, editor)
    assert ids(search.search("factrua", public_only=False)) == \
        [library["Guía interna de facturación"].pk]
    assert ids(search.search("envio", language="es")) == \
        [library["Cambiar la dirección de envío"].pk]
    assert known_words()[("es", "pedido")] == 3

"""Hybrid retrieval on the real database: passages embedded on publish, keyword and semantic
rankings fused, translations shown in the reader's language."""

import numpy as np
import pytest

from mostrador.knowledge import actions, embeddings, retrieval, semantic
from mostrador.knowledge.models import ArticlePassage

REFUNDS_ES = ("Devoluciones y reembolsos",
              "Puedes devolver un pedido en los 30 días siguientes a la entrega.\n\n"
              "El reembolso llega en 5 a 7 días hábiles al mismo medio de pago con el que "
              "pagaste el pedido.")
REFUNDS_EN = ("Returns and refunds",
              "You can return an order within 30 days of delivery.\n\n"
              "The refund reaches the same payment method you paid with in 5 to 7 working "
              "days.")
PASSWORD_EN = ("Resetting your password",
               "If you forgot your password, open the sign-in page and choose \"Forgot "
               "password\". We send a link to your e-mail address that is valid for one hour.")
INTERNAL_ES = ("Guía interna: facturas rectificativas",
               "Para emitir una factura rectificativa abre la ficha del pedido en el ERP y "
               "pide la aprobación del responsable de facturación.")


@pytest.fixture
def library(desk, django_capture_on_commit_callbacks):
    semantic.forget()
    made = {}
    with django_capture_on_commit_callbacks(execute=True):
        refunds_es = actions.do_create_article(title=REFUNDS_ES[0], body=REFUNDS_ES[1],
                                               language="es", acting_user=desk.carla)
        refunds_en = actions.do_create_article(title=REFUNDS_EN[0], body=REFUNDS_EN[1],
                                               language="en", acting_user=desk.carla,
                                               translation_of=refunds_es)
        password = actions.do_create_article(title=PASSWORD_EN[0], body=PASSWORD_EN[1],
                                             language="en", acting_user=desk.carla)
        internal = actions.do_create_article(title=INTERNAL_ES[0], body=INTERNAL_ES[1],
                                             language="es", visibility="internal",
                                             acting_user=desk.carla)
        for key, article in (("refunds_es", refunds_es), ("refunds_en", refunds_en),
                             ("password", password), ("internal", internal)):
            made[key] = actions.do_publish_article(article, acting_user=desk.carla)
    return made


def test_publishing_embeds_the_title_and_the_body_passages(library):
    passages = list(ArticlePassage.objects.filter(article=library["refunds_es"])
                    .order_by("position"))
    assert [p.text for p in passages] == [
        "Devoluciones y reembolsos",
        "Puedes devolver un pedido en los 30 días siguientes a la entrega.",
        "El reembolso llega en 5 a 7 días hábiles al mismo medio de pago con el que pagaste "
        "el pedido."]
    vector = embeddings.from_bytes(passages[0].vector)
    expected = embeddings.embed(["Devoluciones y reembolsos"])[0]
    assert float(vector @ expected) == pytest.approx(1.0, abs=1e-5)
    assert {p.language for p in passages} == {"es"}


def test_unpublishing_removes_the_passages_and_the_index_follows(
        library, desk, django_capture_on_commit_callbacks):
    before = semantic.generation()
    found = retrieval.find("forgot my password", language="en")
    assert found[0].article_id == library["password"].pk
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_unpublish_article(library["password"], acting_user=desk.carla)
    assert not ArticlePassage.objects.filter(article=library["password"]).exists()
    assert semantic.generation() > before
    assert library["password"].pk not in {
        f.article_id for f in retrieval.find("forgot my password", language="en")}


def test_a_spanish_question_finds_an_article_written_only_in_english(library):
    found = retrieval.find("olvidé mi contraseña y no puedo entrar", language="es")
    assert found[0].article_id == library["password"].pk
    assert found[0].similarity > 0.3
    assert "Forgot" in found[0].passage


def test_a_translation_group_is_one_result_in_the_readers_language(library):
    spanish = retrieval.find("¿cuándo me devuelven el dinero?", language="es")
    english = retrieval.find("¿cuándo me devuelven el dinero?", language="en")
    assert spanish[0].article_id == library["refunds_es"].pk
    assert english[0].article_id == library["refunds_en"].pk
    # The passage quoted is the reader's article's own, not the other language's.
    assert "The refund reaches" in english[0].passage
    for results in (spanish, english):
        ids = [f.article_id for f in results]
        assert len(ids) == len(set(ids))
        assert not {library["refunds_es"].pk, library["refunds_en"].pk} <= set(ids)


def test_only_language_drops_articles_without_a_translation(library):
    found = retrieval.find("olvidé mi contraseña", language="es", only_language=True)
    assert library["password"].pk not in {f.article_id for f in found}


def test_internal_articles_only_for_agents(library):
    query = "factura rectificativa"
    assert library["internal"].pk not in {f.article_id for f in retrieval.find(query)}
    assert retrieval.find(query, public_only=False)[0].article_id == library["internal"].pk


def test_fuse_counts_keyword_ranks_only_in_the_query_language():
    fused = retrieval.fuse([1, 2], [3, 1], same_language={1, 3})
    assert [pk for pk, _ in fused] == [1, 3]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    assert retrieval.fuse([], []) == []


def test_the_semantic_rank_keeps_each_articles_best_passage(library):
    vector = retrieval.query_vector("refund payment method days")
    hits = semantic.rank(vector, limit=10)
    ids = [hit.article_id for hit in hits]
    assert len(ids) == len(set(ids))
    assert library["internal"].pk not in ids
    assert [hit.similarity for hit in hits] == sorted((h.similarity for h in hits), reverse=True)
    assert np.isfinite([hit.similarity for hit in hits]).all()

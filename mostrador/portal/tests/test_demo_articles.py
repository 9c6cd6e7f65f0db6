"""The demo desk's help center: ten topics in Spanish and English, linked, published, in four
categories, found by search, and seeded with the demo desk."""

from __future__ import annotations

import re

import pytest

from mostrador.core import demo
from mostrador.knowledge import retrieval, semantic
from mostrador.knowledge.demo import ARTICLES, CATEGORIES, seed_demo_articles
from mostrador.knowledge.models import Article, Category

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_articles(desk, django_capture_on_commit_callbacks) -> list[Article]:
    semantic.forget()
    with django_capture_on_commit_callbacks(execute=True):
        return seed_demo_articles(acting_user=desk.carla)


def test_ten_topics_in_two_languages_linked_and_published(demo_articles, desk):
    assert len(demo_articles) == 20 == 2 * len(ARTICLES)
    articles = Article.objects.all()
    assert {(a.status, a.visibility) for a in articles} == {("published", "public")}
    groups: dict[int, set[str]] = {}
    for article in articles:
        groups.setdefault(article.translation_group_id, set()).add(article.language)
        assert article.category is not None and article.created_by == desk.carla
        # Real articles: headed sections and a few paragraphs, not a line.
        assert "<h2>" in article.body_html and article.body_html.count("<p>") >= 2
        assert len(article.body_text) > 600
    assert list(groups.values()) == [{"es", "en"}] * 10
    categories = Category.objects.order_by("position")
    assert [(c.name, c.name_in("en")) for c in categories] == list(CATEGORIES.values())
    # Seeding again adds nothing.
    assert seed_demo_articles(acting_user=desk.carla) == []
    assert Article.objects.count() == 20


@pytest.mark.parametrize(("language", "question", "title"), [
    ("es", "¿cuánto tarda en llegar el reembolso?", "Devoluciones y reembolsos"),
    ("es", "me habéis cobrado dos veces el pedido", "Formas de pago y cobros duplicados"),
    ("es", "el enlace para cambiar la contraseña ha caducado",
     "No puedo entrar en mi cuenta: contraseña y código de verificación"),
    ("en", "I need an invoice with my company's VAT number",
     "Invoices: downloading, adding VAT details, corrections"),
    ("en", "can I send my order to a different address?",
     "Changing the delivery address of an order"),
    ("en", "what are your opening hours on Saturday?", "Opening hours and how to contact us"),
])
def test_customers_questions_find_the_article_that_answers_them(demo_articles, language,
                                                                 question, title):
    found = retrieval.find(question, language=language, limit=1, only_language=True)
    assert Article.objects.get(pk=found[0].article_id).title == title


def test_the_help_center_shows_the_demo_articles(demo_articles, client):
    page = client.get("/help/en/").content.decode()
    assert len(re.findall(r'href="/help/en/a/\d+-', page)) == 10
    for _spanish, english in CATEGORIES.values():
        assert f">{english}</a></h2>" in page
    results = client.get("/help/es/search", {"q": "factura"}).content.decode()
    assert "Facturas: descargarlas, pedirlas con NIF y corregirlas" in results


def test_the_demo_desk_comes_with_its_help_center(db, settings, tmp_path,
                                                 django_capture_on_commit_callbacks):
    settings.VAR_DIR = tmp_path
    semantic.forget()
    with django_capture_on_commit_callbacks(execute=True):
        demo.seed_demo_desk(conversations=5, customers=3)
    assert Article.objects.filter(status="published").count() == 20
    # Indexed and embedded after the commit: search finds them at once.
    found = retrieval.find("reembolso", language="es", limit=1, only_language=True)
    assert Article.objects.get(pk=found[0].article_id).title == "Devoluciones y reembolsos"

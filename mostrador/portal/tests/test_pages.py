"""The help center's reading pages: the language choice, home, categories, articles (with
their translations, redirects and what readers may not see), search, the sitemap, and what
each page costs in queries."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from mostrador.knowledge import actions
from mostrador.portal.tests.conftest import publish

pytestmark = pytest.mark.django_db
BASE = "http://127.0.0.1:8000"  # MOSTRADOR_BASE_URL's default


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def article_url(article) -> str:
    return f"/help/{article.language}/a/{article.pk}-{article.slug}/"


def links(response) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]+)"', response.content.decode())


# --- choosing a language --------------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    ("en-GB,en;q=0.9,es;q=0.5", "/help/en/"),
    ("fr-FR,fr;q=0.9,es;q=0.4,en;q=0.3", "/help/es/"),
    ("es-MX,en;q=0.8", "/help/es/"),
    ("de-DE", "/help/es/"),
    ("", "/help/es/"),
    ("en;q=0, es;q=0.1", "/help/es/"),
])
def test_the_root_redirects_by_accept_language_spanish_by_default(client, header, expected):
    response = client.get("/help/", headers={"Accept-Language": header} if header else {})
    assert response.status_code == 302
    assert response["Location"] == expected
    assert "Accept-Language" in response["Vary"]


def test_a_language_we_do_not_have_is_not_a_page(client, help_center):
    assert client.get("/help/fr/").status_code == 404


# --- home and categories --------------------------------------------------------------------


def test_home_lists_categories_sections_and_public_articles_of_its_language(client,
                                                                              help_center):
    hc = help_center
    response = client.get("/help/es/")
    assert response.status_code == 200
    page = text_of(response)
    assert '<html lang="es">' in page
    # Categories in their position, named in the page's language, with their sections.
    assert page.index(">Pedidos</a></h2>") < page.index(">Devoluciones</h3>") \
        < page.index(">Facturación</a></h2>")
    for article in (hc.refunds_es, hc.address_es, hc.invoice_es):
        assert article_url(article) in links(response)
    # Nothing a reader may not see, and nothing in English.
    for article in (hc.internal_es, hc.draft_es, hc.refunds_en, hc.password_en):
        assert article.title not in page
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Content-Language"] == "es"

    english = client.get("/help/en/")
    page = text_of(english)
    assert '<html lang="en">' in page and ">Orders</a></h2>" in page
    assert "<title>How can we help? · Help center</title>" in page
    # An article without a category is listed too, last.
    assert page.index("Returns and refunds") < page.index("More articles") \
        < page.index("Resetting your password")
    assert "Facturación" not in page  # no English article in it


def test_home_carries_hreflang_alternates_and_a_canonical_link(client, help_center):
    page = client.get("/help/en/").content.decode()
    assert f'<link rel="canonical" href="{BASE}/help/en/">' in page
    assert f'<link rel="alternate" hreflang="es" href="{BASE}/help/es/">' in page
    assert f'<link rel="alternate" hreflang="en" href="{BASE}/help/en/">' in page
    assert f'<link rel="alternate" hreflang="x-default" href="{BASE}/help/">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert '<a class="skip-link" href="#main">Skip to content</a>' in page
    assert '<main id="main"' in page and "<header" in page and "<footer" in page


def test_a_category_page_lists_its_sections_and_articles(client, help_center):
    hc = help_center
    response = client.get(f"/help/es/c/{hc.orders.slug}/")
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Pedidos</h1>" in page
    assert page.index("Devoluciones y reembolsos") < page.index("Cambiar la dirección")
    assert hc.internal_es.title not in page and hc.draft_es.title not in page
    assert hc.invoice_es.title not in page
    assert response["Cache-Control"] == "public, max-age=300"
    english = text_of(client.get(f"/help/en/c/{hc.orders.slug}/"))
    assert "<h1>Orders</h1>" in english and "Returns and refunds" in english
    empty = client.get(f"/help/en/c/{hc.billing.slug}/")
    assert empty.status_code == 200
    assert "no articles in this language yet" in text_of(empty)
    assert client.get("/help/es/c/no-such-category/").status_code == 404


# --- articles -------------------------------------------------------------------------------


def test_an_article_page_shows_the_body_its_translation_and_what_search_engines_read(
        client, help_center):
    hc = help_center
    response = client.get(article_url(hc.refunds_es))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="es">' in page
    assert re.search(r"<title>Devoluciones y reembolsos · [^<]+</title>", page)
    assert '<h1 id="article-title">Devoluciones y reembolsos</h1>' in page
    assert hc.refunds_es.body_html in page  # sanitised when saved, shown as it is
    description = re.search(r'<meta name="description" content="([^"]*)">', page).group(1)
    assert description.startswith("Tienes 30 días desde la entrega") and len(description) <= 160
    assert f'<link rel="canonical" href="{BASE}{article_url(hc.refunds_es)}">' in page
    assert f'<link rel="alternate" hreflang="en" href="{BASE}{article_url(hc.refunds_en)}">' \
        in page
    assert f'<link rel="alternate" hreflang="es" href="{BASE}{article_url(hc.refunds_es)}">' \
        in page
    # The language switcher goes to the translation, not to the other home page.
    assert re.search(rf'<a href="{re.escape(article_url(hc.refunds_en))}" hreflang="en" '
                     r'lang="en" data-language="en">English</a>', page)
    assert response["Cache-Control"] == "public, max-age=300"
    # Breadcrumbs name the category in the page's language.
    assert f'href="/help/es/c/{hc.orders.slug}/">Pedidos</a>' in page


def test_an_article_without_translation_switches_to_the_other_home(client, help_center):
    page = client.get(article_url(help_center.address_es)).content.decode()
    assert 'hreflang="en"' not in page.split("</head>")[0]
    assert '<a href="/help/en/" hreflang="en" lang="en" data-language="en">English</a>' in page


def test_a_wrong_or_missing_slug_redirects_for_good_to_the_right_one(client, help_center):
    article = help_center.refunds_es
    for path in (f"/help/es/a/{article.pk}-old-title/", f"/help/es/a/{article.pk}/"):
        response = client.get(path)
        assert response.status_code == 301
        assert response["Location"] == article_url(article)


def test_a_renamed_article_moves_its_address(client, help_center, desk):
    article = actions.do_update_article(help_center.address_es, title="Cambiar la dirección",
                                        acting_user=desk.carla)
    assert client.get(article_url(article)).status_code == 200
    assert client.get(f"/help/es/a/{article.pk}-cambiar-la-direccion-de-entrega/")[
        "Location"] == article_url(article)


@pytest.mark.parametrize("which", ["internal_es", "draft_es"])
def test_internal_and_unpublished_articles_are_not_found(client, help_center, which):
    article = getattr(help_center, which)
    for path in (article_url(article), f"/help/es/a/{article.pk}/"):
        response = client.get(path)
        assert response.status_code == 404
        assert '<html lang="es">' in text_of(response)
        assert article.title not in text_of(response)
    english = client.get(f"/help/en/a/{article.pk}-{article.slug}/")
    assert english.status_code == 404 and "<h1>Page not found</h1>" in text_of(english)


def test_an_article_in_the_other_language_tree_is_not_found(client, help_center):
    article = help_center.refunds_es
    assert client.get(f"/help/en/a/{article.pk}-{article.slug}/").status_code == 404
    assert client.get("/help/es/a/999999-nothing/").status_code == 404


def test_an_unpublished_article_disappears_from_the_help_center(client, help_center, desk,
                                                                django_capture_on_commit_callbacks):
    article = help_center.address_es
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_unpublish_article(article, acting_user=desk.carla)
    assert client.get(article_url(article)).status_code == 404
    assert article.title not in text_of(client.get("/help/es/"))


def test_related_articles_come_last_and_stay_in_the_language(client, help_center, desk,
                                                             django_capture_on_commit_callbacks):
    hc = help_center
    with django_capture_on_commit_callbacks(execute=True):
        exchange = publish(desk, ("Cambios de talla y reembolsos parciales",
                                  "<p>Si cambias un producto por otra talla no hay reembolso; "
                                  "la diferencia de precio se reembolsa en 3 a 5 días.</p>"),
                           "es", category=hc.orders)
    page = client.get(article_url(hc.refunds_es)).content.decode()
    related = page[page.index('id="related-title"'):]
    assert page.index('id="feedback"') < page.index('id="related-title"')
    related_links = re.findall(r'href="([^"]+)"', related.split("</section>")[0])
    assert article_url(exchange) in related_links
    assert article_url(hc.address_es) in related_links  # same category, after the matches
    assert article_url(hc.refunds_es) not in related_links
    for hidden in (hc.refunds_en, hc.internal_es, hc.draft_es, hc.password_en):
        assert article_url(hidden) not in related_links


# --- search ---------------------------------------------------------------------------------


def test_search_shows_marked_snippets_of_public_articles_in_the_language(client, help_center):
    hc = help_center
    response = client.get("/help/es/search", {"q": "reembolso"})
    assert response.status_code == 200
    page = text_of(response)
    assert '<meta name="robots" content="noindex">' in page
    results = page[page.index('class="result-list"'):]
    assert article_url(hc.refunds_es) in results
    assert "<mark>reembolso</mark>" in results
    for hidden in (hc.internal_es, hc.draft_es, hc.refunds_en):
        assert article_url(hidden) not in results
    # The English tree answers in English.
    english = text_of(client.get("/help/en/search", {"q": "refund"}))
    assert article_url(hc.refunds_en) in english and article_url(hc.refunds_es) not in english


def test_search_escapes_the_query_and_has_empty_and_no_result_states(client, help_center):
    empty = text_of(client.get("/help/en/search"))
    assert "Type a few words about your question" in empty
    nothing = client.get("/help/en/search", {"q": '<script>alert("x")</script> zzqqxx'})
    page = nothing.content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; zzqqxx" in page
    assert "No article matches your search" in text_of(nothing)
    # The way out: a request with the search as its subject.
    assert "/help/en/request/?subject=%3Cscript%3E" in page


# --- the sitemap ----------------------------------------------------------------------------


def test_the_sitemap_lists_every_public_published_article_with_its_translations(
        client, help_center):
    hc = help_center
    response = client.get("/help/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
          "x": "http://www.w3.org/1999/xhtml"}
    root = ET.fromstring(response.content)
    urls = {u.find("s:loc", ns).text: u for u in root.findall("s:url", ns)}
    expected = {f"{BASE}{article_url(a)}" for a in (hc.refunds_es, hc.refunds_en,
                                                     hc.address_es, hc.invoice_es,
                                                     hc.password_en)}
    assert set(urls) == expected | {f"{BASE}/help/es/", f"{BASE}/help/en/"}
    alternates = {link.get("hreflang"): link.get("href")
                  for link in urls[f"{BASE}{article_url(hc.refunds_en)}"].findall("x:link", ns)}
    assert alternates == {"es": f"{BASE}{article_url(hc.refunds_es)}",
                          "en": f"{BASE}{article_url(hc.refunds_en)}"}
    assert urls[f"{BASE}{article_url(hc.address_es)}"].find("s:lastmod", ns) is not None


# --- what pages cost ------------------------------------------------------------------------


def test_pages_cost_the_same_few_queries_however_many_articles(
        client, help_center, desk, django_capture_on_commit_callbacks,
        django_assert_max_num_queries):
    hc = help_center
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(25):
            publish(desk, (f"Pregunta frecuente número {n}", f"<p>Respuesta {n}.</p>"), "es",
                    category=hc.orders)
    article = article_url(hc.refunds_es)
    client.get(article)  # related articles are found once, then remembered
    with django_assert_max_num_queries(1):  # the articles with their categories and sections
        home = client.get("/help/es/")
    # The home page shows the first 8 of a category's 27 articles and links to the rest.
    orders = home.content.decode().split('class="category-card"')[1]
    assert len(re.findall(r'href="/help/es/a/', orders)) == 8
    assert f'<p class="more"><a href="/help/es/c/{hc.orders.slug}/">' in orders
    with django_assert_max_num_queries(2):  # the category, its articles
        assert client.get(f"/help/es/c/{hc.orders.slug}/").status_code == 200
    with django_assert_max_num_queries(3):  # the article, its translations, related ones
        assert client.get(article).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get("/help/sitemap.xml").status_code == 200

"""The knowledge base over HTTP: categories, articles and their translations, the life cycle
with each persona's rights, version history, filters and pages."""

from __future__ import annotations

import pytest

from mostrador.api.tests.conftest import error, ok


@pytest.fixture
def carla(client_for, desk):
    return client_for(desk.carla)


@pytest.fixture
def billing(api) -> dict:
    category = ok(api.post("/kb/categories", {"name": "Facturación",
                                              "name_translations": {"en": "Billing"}}), 201)
    category["section"] = ok(api.post(f"/kb/categories/{category['id']}/sections",
                                      {"name": "Facturas"}), 201)
    return category


def test_categories_with_their_sections(api, billing):
    assert billing["slug"] == "facturacion" and billing["section"]["slug"] == "facturas"
    listed = ok(api.get("/kb/categories"))["items"]
    assert listed == [{"id": billing["id"], "name": "Facturación", "slug": "facturacion",
                       "position": 0, "name_translations": {"en": "Billing"},
                       "sections": [billing["section"]]}]
    assert error(api.post("/kb/categories", {"name": "Otra", "slug": "facturacion"}),
                 409)["field"] == "slug"
    error(api.post("/kb/categories/999999/sections", {"name": "X"}), 404)


def test_draft_review_publish_and_unpublish(api, carla, billing, desk):
    created = ok(api.post("/kb/articles", {
        "title": "Descargar una factura", "language": "es", "section": billing["section"]["id"],
        "body": "<p>En <b>Facturas</b>.</p><img src=x onerror=alert(1)>",
        "external_id": "inv-1"}), 201)
    assert {k: created[k] for k in ("status", "visibility", "language", "published_version",
                                    "created_by", "translations", "external_id")} == {
        "status": "draft", "visibility": "public", "language": "es", "published_version": None,
        "created_by": desk.ana.pk, "translations": [], "external_id": "inv-1"}
    assert created["category"] == {"id": billing["id"], "name": "Facturación",
                                   "slug": "facturacion"}
    assert "onerror" not in created["body_html"] and created["body_text"] == "En Facturas."
    article = f"/kb/articles/{created['id']}"
    assert error(api.post(article + "/publish"), 403)
    assert ok(api.post(article + "/submit"))["status"] == "review"
    published = ok(carla.post(article + "/publish"))
    assert published["status"] == "published" and published["published_version"] == 1
    assert error(api.patch(article, {"title": "Otro"}), 403)
    changed = ok(carla.patch(article, {"title": "Descargar facturas", "note": "plural"}))
    assert changed["published_version"] == 2 and changed["slug"] == "descargar-facturas"
    versions = ok(api.get(article + "/versions"))["items"]
    assert [(v["number"], v["title"], v["note"], v["published"], v["author"])
            for v in versions] == [
        (2, "Descargar facturas", "plural", True, desk.carla.pk),
        (1, "Descargar una factura", "", False, desk.ana.pk)]
    assert ok(carla.post(article + "/unpublish"))["status"] == "draft"
    assert error(carla.post(article + "/unpublish"), 409)
    assert ok(api.get(article))["published_at"] is None


def test_translations_and_patch(api, billing):
    spanish = ok(api.post("/kb/articles", {"title": "Horario", "body": "De 9 a 17.",
                                           "language": "es"}), 201)
    english = ok(api.post("/kb/articles", {"title": "Opening hours", "body": "9 to 5.",
                                           "language": "en", "translation_of": spanish["id"]}),
                 201)
    assert english["translation_group"] == spanish["translation_group"]
    assert english["translations"] == [{"id": spanish["id"], "language": "es",
                                        "title": "Horario", "status": "draft"}]
    assert error(api.post("/kb/articles", {"title": "Hours", "body": "x", "language": "en",
                                           "translation_of": spanish["id"]}), 409)
    other = ok(api.post("/kb/articles", {"title": "Hours", "body": "x", "language": "en"}), 201)
    assert error(api.patch(f"/kb/articles/{other['id']}", {"translation_of": spanish["id"]}),
                 409)["field"] == "translation_of"
    moved = ok(api.patch(f"/kb/articles/{spanish['id']}",
                         {"category": billing["id"], "visibility": "internal"}))
    assert moved["category"]["id"] == billing["id"] and moved["visibility"] == "internal"
    assert ok(api.patch(f"/kb/articles/{spanish['id']}", {"category": None}))["category"] \
        is None
    assert error(api.patch(f"/kb/articles/{spanish['id']}", {"title": None}), 400)["field"] \
        == "title"
    assert error(api.patch(f"/kb/articles/{spanish['id']}", {"colour": "red"}), 400)
    assert error(api.post("/kb/articles", {"title": "X", "body": "x", "language": "de"}),
                 400)["field"] == "language"
    assert len(ok(api.get(f"/kb/articles/{spanish['id']}/versions"))["items"]) == 1


def test_list_filters_and_pages(api, carla, billing):
    ids = []
    for n, language in enumerate(["es", "en", "es", "en", "es"]):
        body = {"title": f"Artículo {n}", "body": "x", "language": language}
        if n < 2:
            body["category"] = billing["id"]
        ids.append(ok(api.post("/kb/articles", body), 201)["id"])
    ok(carla.post(f"/kb/articles/{ids[0]}/publish"))
    listed = ok(api.get("/kb/articles"))
    assert [a["id"] for a in listed["items"]] == ids[::-1] and listed["next_cursor"] is None
    assert [a["id"] for a in ok(api.get("/kb/articles", {"language": "es"}))["items"]] == [
        ids[4], ids[2], ids[0]]
    assert [a["id"] for a in ok(api.get("/kb/articles", {"status": "published"}))["items"]] \
        == [ids[0]]
    for category in (billing["id"], "facturacion"):
        assert [a["id"] for a in ok(api.get("/kb/articles",
                                            {"category": category}))["items"]] == ids[1::-1]
    first = ok(api.get("/kb/articles", {"limit": 2}))
    second = ok(api.get("/kb/articles", {"limit": 2, "cursor": first["next_cursor"]}))
    assert [a["id"] for a in first["items"] + second["items"]] == ids[:0:-1]
    assert "body_html" not in first["items"][0]
    assert error(api.get("/kb/articles", {"status": "gone"}), 400)["field"] == "status"


def test_delete_and_missing_articles(api, carla):
    created = ok(api.post("/kb/articles", {"title": "Viejo", "body": "x", "language": "es"}),
                 201)
    error(api.delete(f"/kb/articles/{created['id']}"), 403)
    assert carla.delete(f"/kb/articles/{created['id']}").status_code == 204
    error(api.get(f"/kb/articles/{created['id']}"), 404)
    error(api.get("/kb/articles/999999/versions"), 404)


def test_a_token_is_required(client_for, desk):
    from mostrador.api.tests.conftest import ApiClient

    assert ApiClient(None).get("/kb/articles").status_code == 401

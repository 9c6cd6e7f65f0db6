"""Articles through the actions: drafts, versions, review, publish and unpublish with the
rights of each persona, translations, and what a public visitor may read."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from mostrador.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mostrador.knowledge import actions, events
from mostrador.knowledge.models import Article, TranslationGroup
from mostrador.knowledge.queries import access_article, list_articles, translations_of

Status = Article.Status


@pytest.fixture
def draft(desk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return actions.do_create_article(
            title="Cómo cambiar la contraseña", language="es", acting_user=desk.ana,
            body="<p>Ve a <b>Perfil</b>.</p><script>alert(1)</script>"
                 "<p onclick=\"x()\">Pulsa <a href=\"javascript:evil()\">aquí</a>.</p>")


def test_a_new_article_is_a_sanitised_draft_with_its_first_version(draft, desk):
    assert draft.status == Status.DRAFT and draft.visibility == Article.Visibility.PUBLIC
    assert "script" not in draft.body_html and "onclick" not in draft.body_html
    assert "javascript" not in draft.body_html
    assert "<b>Perfil</b>" in draft.body_html
    assert draft.body_text.startswith("Ve a Perfil.")
    assert "alert" not in draft.body_text
    assert draft.slug == "como-cambiar-la-contrasena"
    assert [(v.number, v.title, v.author) for v in draft.versions.all()] == [
        (1, "Cómo cambiar la contraseña", desk.ana)]
    assert draft.created_by == desk.ana


def test_plain_text_bodies_become_paragraphs(desk):
    article = actions.do_create_article(title="Hours", language="en", acting_user=desk.ana,
                                        body="Open 9 to 5.\n\nClosed <on> Sundays.")
    assert article.body_html == "<p>Open 9 to 5.</p><p>Closed &lt;on&gt; Sundays.</p>"
    assert "Closed <on> Sundays." in article.body_text


def test_each_change_of_title_or_body_is_a_version_and_an_event(draft, desk, kb_events,
                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_update_article(draft, title="Cambiar la contraseña", acting_user=desk.beto,
                                  note="título más corto")
        actions.do_update_article(draft, body="<p>Nuevo texto</p>", acting_user=desk.ana)
        # Nothing changes: no version, no event.
        actions.do_update_article(draft, body="<p>Nuevo texto</p>", visibility="public",
                                  acting_user=desk.ana)
        actions.do_update_article(draft, visibility="internal", acting_user=desk.ana)
    draft.refresh_from_db()
    assert [(v.number, v.title, v.author, v.note) for v in draft.versions.all()] == [
        (3, "Cambiar la contraseña", desk.ana, ""),
        (2, "Cambiar la contraseña", desk.beto, "título más corto"),
        (1, "Cómo cambiar la contraseña", desk.ana, "")]
    assert draft.versions.get(number=3).body_html == "<p>Nuevo texto</p>"
    assert draft.updated_by == desk.ana and draft.visibility == "internal"
    assert [(kind, p["version"], p.get("fields")) for kind, p in kb_events] == [
        (events.ARTICLE_CHANGED, 2, ["title", "slug"]),
        (events.ARTICLE_CHANGED, 3, ["body_html", "body_text"]),
        (events.ARTICLE_CHANGED, None, ["visibility"]),
    ]


def test_agents_draft_and_submit_supervisors_publish_and_unpublish(
        draft, desk, kb_events, django_capture_on_commit_callbacks):
    with pytest.raises(PermissionDenied):
        actions.do_publish_article(draft, acting_user=desk.ana)
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_submit_for_review(draft, acting_user=desk.ana)
        published = actions.do_publish_article(draft, acting_user=desk.carla)
    assert published.status == Status.PUBLISHED and published.published_at is not None
    assert published.published_version == 1
    assert [kind for kind, _p in kb_events] == [
        events.ARTICLE_CHANGED, events.ARTICLE_CHANGED, events.ARTICLE_PUBLISHED]
    assert kb_events[-1][1] == {
        "article_id": draft.pk, "language": "es", "status": "published",
        "visibility": "public", "translation_group_id": draft.translation_group_id,
        "acting_user_id": desk.carla.pk, "version": 1}
    # A published article is changed live, so only by supervisors; the new version is live.
    with pytest.raises(PermissionDenied):
        actions.do_update_article(draft, title="Otro", acting_user=desk.ana)
    with pytest.raises(PermissionDenied):
        actions.do_unpublish_article(draft, acting_user=desk.ana)
    changed = actions.do_update_article(draft, title="Otro", acting_user=desk.diego)
    assert changed.published_version == 2 and changed.status == Status.PUBLISHED
    with pytest.raises(Conflict):
        actions.do_publish_article(draft, acting_user=desk.carla)
    kb_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        back = actions.do_unpublish_article(draft, acting_user=desk.carla)
    assert (back.status, back.published_at, back.published_version) == (Status.DRAFT, None,
                                                                        None)
    assert [kind for kind, _p in kb_events] == [events.ARTICLE_CHANGED,
                                                 events.ARTICLE_UNPUBLISHED]
    assert back.versions.count() == 2
    with pytest.raises(Conflict):
        actions.do_submit_for_review(actions.do_submit_for_review(back, acting_user=desk.ana),
                                     acting_user=desk.ana)


def test_visitors_see_only_published_public_articles(draft, desk):
    internal = actions.do_create_article(title="Guía interna", body="x", language="es",
                                         visibility="internal", acting_user=desk.ana)
    for article in (draft, internal):
        actions.do_publish_article(article, acting_user=desk.carla)
    other = actions.do_create_article(title="Borrador", body="x", language="es",
                                      acting_user=desk.ana)
    for visitor in (None, AnonymousUser()):
        assert access_article(visitor, draft.pk) == draft
        for hidden in (internal, other):
            with pytest.raises(NotFound):
                access_article(visitor, hidden.pk)
        assert list(list_articles(visitor)) == [draft]
    assert access_article(desk.ana, other.pk) == other
    assert set(list_articles(desk.ana, status="published")) == {draft, internal}
    assert list(list_articles(desk.ana, visibility="internal")) == [internal]
    with pytest.raises(NotFound):
        access_article(desk.ana, 999_999)


def test_translations_are_linked_one_per_language(draft, desk, kb_events,
                                                   django_capture_on_commit_callbacks):
    english = actions.do_create_article(title="Change your password", body="Go to Profile.",
                                        language="en", acting_user=desk.ana)
    lonely_group = english.translation_group_id
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_link_translation(draft, english, acting_user=desk.ana)
    english.refresh_from_db()
    assert english.translation_group_id == draft.translation_group_id
    assert not TranslationGroup.objects.filter(pk=lonely_group).exists()
    assert translations_of(desk.ana, draft) == [english]
    assert translations_of(None, draft) == []  # neither is published
    assert {p["article_id"] for _k, p in kb_events} == {draft.pk, english.pk}
    # Linking again changes nothing; a second English article cannot join.
    actions.do_link_translation(english, draft, acting_user=desk.ana)
    other = actions.do_create_article(title="Password help", body="x", language="en",
                                      acting_user=desk.ana)
    with pytest.raises(Conflict):
        actions.do_link_translation(draft, other, acting_user=desk.ana)
    with pytest.raises(Conflict):
        actions.do_create_article(title="Otra", body="x", language="es", translation_of=english,
                                  acting_user=desk.ana)
    assert not Article.objects.filter(title="Otra").exists()
    with pytest.raises(Conflict):
        actions.do_update_article(english, language="es", acting_user=desk.ana)
    with pytest.raises(ValidationFailed):
        actions.do_link_translation(draft, draft, acting_user=desk.ana)


def test_external_ids_are_unique_when_given(desk):
    actions.do_create_article(title="A", body="x", language="es", external_id="kb-1",
                              acting_user=desk.ana)
    actions.do_create_article(title="B", body="x", language="es", acting_user=desk.ana)
    actions.do_create_article(title="C", body="x", language="es", acting_user=desk.ana)
    with pytest.raises(Conflict):
        actions.do_create_article(title="D", body="x", language="es", external_id="kb-1",
                                  acting_user=desk.ana)


def test_bad_input_is_refused_with_the_field_named(desk):
    for kwargs, field in (({"title": " "}, "title"), ({"language": "fr"}, "language"),
                          ({"visibility": "secret"}, "visibility")):
        with pytest.raises(ValidationFailed) as refused:
            actions.do_create_article(**{"title": "T", "body": "x", "language": "es",
                                         **kwargs}, acting_user=desk.ana)
        assert refused.value.field == field
    assert not Article.objects.exists()


def test_sections_place_an_article_in_their_category(desk):
    billing = actions.do_create_category("Facturación", name_translations={"en": "Billing"},
                                         acting_user=desk.ana)
    account = actions.do_create_category("Cuenta", acting_user=desk.ana)
    invoices = actions.do_create_section(billing, "Facturas", acting_user=desk.ana)
    assert (billing.slug, billing.position, account.position) == ("facturacion", 0, 1)
    assert billing.name_in("en") == "Billing" and billing.name_in("es") == "Facturación"
    article = actions.do_create_article(title="IVA", body="x", language="es", section=invoices,
                                        acting_user=desk.ana)
    assert article.category == billing
    with pytest.raises(ValidationFailed):
        actions.do_create_article(title="IVA", body="x", language="es", section=invoices,
                                  category=account, acting_user=desk.ana)
    moved = actions.do_update_article(article, category=account, acting_user=desk.ana)
    assert (moved.category, moved.section) == (account, None)
    with pytest.raises(Conflict):
        actions.do_create_category("Otra", slug="facturacion", acting_user=desk.ana)
    assert actions.do_create_category("Facturación", acting_user=desk.ana).slug \
        == "facturacion-2"


def test_deleting_is_for_supervisors_and_unpublishes_first(draft, desk, kb_events,
                                                           django_capture_on_commit_callbacks):
    actions.do_publish_article(draft, acting_user=desk.carla)
    with pytest.raises(PermissionDenied):
        actions.do_delete_article(draft, acting_user=desk.ana)
    group = draft.translation_group_id
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_delete_article(draft, acting_user=desk.carla)
    assert not Article.objects.exists() and not TranslationGroup.objects.filter(pk=group).exists()
    assert [kind for kind, _p in kb_events][-2:] == [events.ARTICLE_UNPUBLISHED,
                                                      events.ARTICLE_DELETED]


def test_customers_and_strangers_cannot_write(desk, django_user_model):
    stranger = django_user_model.objects.create_user("x@example.com", "x@example.com", "pw")
    with pytest.raises(PermissionDenied):
        actions.do_create_article(title="T", body="x", language="es", acting_user=stranger)
    with pytest.raises(PermissionDenied):
        actions.do_create_category("C", acting_user=stranger)

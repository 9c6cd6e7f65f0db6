"""'Was this helpful?': one vote per visitor and article (a cookie), a changed vote replaces the
old one, the form works without JavaScript (redirect) and with it (JSON), CSRF is checked,
and the desk reads the counts and comments over the API."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.core.testing import api_token_for
from mostrador.portal import actions
from mostrador.portal.models import ArticleVote
from mostrador.portal.queries import article_votes
from mostrador.portal.views import VISITOR_COOKIE

pytestmark = pytest.mark.django_db


def feedback_url(article) -> str:
    return f"/help/{article.language}/a/{article.pk}/feedback/"


def article_url(article) -> str:
    return f"/help/{article.language}/a/{article.pk}-{article.slug}/"


def test_a_no_with_a_comment_is_recorded_and_the_reader_sees_it_after_the_redirect(
        client, help_center):
    article = help_center.refunds_en
    response = client.post(feedback_url(article),
                           {"helpful": "no", "comment": "  Which card gets the money?  "})
    assert response.status_code == 303
    assert response["Location"] == article_url(article) + "?feedback=sent#feedback"
    visitor = response.cookies[VISITOR_COOKIE]
    assert visitor["httponly"] and visitor["samesite"] == "Lax"
    vote = ArticleVote.objects.get()
    assert (vote.article, vote.visitor, vote.helpful, vote.comment, vote.language) == (
        article, visitor.value, False, "Which card gets the money?", "en")

    page = client.get(response["Location"])
    text = re.sub(r"\s+", " ", page.content.decode())
    assert "Thanks for your feedback. You answered: no." in text
    assert "Which card gets the money?</textarea>" in text
    assert 'value="no" class="button button-secondary" data-chosen' in text
    # That page is the reader's own: not for shared caches.
    assert "private" in page["Cache-Control"] and "public" not in page["Cache-Control"]
    # Other readers get the ordinary, cacheable page.
    fresh = Client().get(article_url(article))
    assert "You answered" not in fresh.content.decode()
    assert fresh["Cache-Control"] == "public, max-age=300"


def test_voting_again_replaces_the_vote_and_its_comment(client, help_center):
    article = help_center.refunds_es
    client.post(feedback_url(article), {"helpful": "no", "comment": "No entiendo los plazos"})
    client.post(feedback_url(article), {"helpful": "yes"})
    vote = ArticleVote.objects.get()
    assert (vote.helpful, vote.comment) == (True, "")
    assert vote.updated_at >= vote.created_at
    # Another reader is another vote.
    Client().post(feedback_url(article), {"helpful": "no"})
    assert article_votes(article) == {"helpful": 1, "not_helpful": 1, "comments": []}


def test_with_javascript_the_vote_answers_json(client, help_center):
    response = client.post(feedback_url(help_center.refunds_en), {"helpful": "yes"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.json() == {"helpful": True, "comment": "",
                               "message": "Thanks for your feedback."}
    bad = client.post(feedback_url(help_center.refunds_en), {"helpful": "maybe"},
                      headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.json() == {"errors": {"helpful": ["Choose “Yes” or “No”."]}}


def test_a_wrong_vote_shows_the_article_again_with_the_error(client, help_center):
    article = help_center.refunds_en
    response = client.post(feedback_url(article), {"helpful": "yes", "comment": "x" * 1001})
    assert response.status_code == 400
    page = response.content.decode()
    assert "A comment has at most 1000 characters." in page
    assert '<h1 id="article-title">Returns and refunds</h1>' in page
    assert "x" * 1001 + "</textarea>" in page  # nothing lost
    assert not ArticleVote.objects.exists()


def test_the_vote_form_is_csrf_protected(help_center):
    strict = Client(enforce_csrf_checks=True)
    article = help_center.refunds_en
    assert strict.post(feedback_url(article), {"helpful": "yes"}).status_code == 403
    page = strict.get(article_url(article)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(feedback_url(article), {"helpful": "yes",
                                                   "csrfmiddlewaretoken": token})
    assert response.status_code == 303
    assert ArticleVote.objects.count() == 1


def test_readers_cannot_vote_on_articles_they_cannot_see(client, help_center):
    for article in (help_center.internal_es, help_center.draft_es):
        assert client.post(feedback_url(article), {"helpful": "yes"}).status_code == 404
        with pytest.raises(NotFound):
            actions.do_record_vote(article, visitor="v" * 22, helpful=True, language="es")
    # The Spanish article is not in the English tree.
    assert client.post(f"/help/en/a/{help_center.refunds_es.pk}/feedback/",
                       {"helpful": "yes"}).status_code == 404
    assert client.get(feedback_url(help_center.refunds_es)).status_code == 405
    assert not ArticleVote.objects.exists()


def test_the_action_checks_the_comment_and_the_visitor(help_center):
    article = help_center.refunds_es
    with pytest.raises(ValidationFailed) as too_long:
        actions.do_record_vote(article, visitor="v" * 22, helpful=False, comment="x" * 1001,
                               language="es")
    assert too_long.value.field == "comment"
    with pytest.raises(ValidationFailed):
        actions.do_record_vote(article, visitor="", helpful=False, language="es")


def test_a_forged_visitor_cookie_is_replaced(client, help_center):
    client.cookies[VISITOR_COOKIE] = "<bad>"
    response = client.post(feedback_url(help_center.refunds_en), {"helpful": "yes"})
    assert response.cookies[VISITOR_COOKIE].value != "<bad>"
    assert ArticleVote.objects.get().visitor == response.cookies[VISITOR_COOKIE].value


def test_the_desk_reads_votes_and_recent_comments_over_the_api(client, help_center, desk):
    article = help_center.refunds_es
    for helpful, comment in (("no", "Falta el plazo para Canarias"), ("yes", ""),
                             ("yes", "Muy claro"), ("no", "")):
        Client().post(feedback_url(article), {"helpful": helpful, "comment": comment})
    token = api_token_for(desk.ana)
    response = client.get(f"/api/v1/kb/articles/{article.pk}/feedback",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert (body["article"], body["helpful"], body["not_helpful"]) == (article.pk, 2, 2)
    assert [(c["helpful"], c["comment"], c["language"]) for c in body["comments"]] == [
        (True, "Muy claro", "es"), (False, "Falta el plazo para Canarias", "es")]
    limited = client.get(f"/api/v1/kb/articles/{article.pk}/feedback", {"comments": 1},
                         headers={"Authorization": f"Bearer {token}"}).json()
    assert [c["comment"] for c in limited["comments"]] == ["Muy claro"]
    # Internal articles are the desk's to read too; a missing one is a 404.
    assert client.get(f"/api/v1/kb/articles/{help_center.internal_es.pk}/feedback",
                      headers={"Authorization": f"Bearer {token}"}).json()["helpful"] == 0
    assert client.get("/api/v1/kb/articles/999999/feedback",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 404


def test_the_feedback_api_is_for_staff_only(client, help_center):
    article = help_center.refunds_es
    assert client.get(f"/api/v1/kb/articles/{article.pk}/feedback").status_code == 401
    nobody = get_user_model().objects.create_user("nobody", "nobody@example.org", "x")
    response = client.get(f"/api/v1/kb/articles/{article.pk}/feedback",
                          headers={"Authorization": f"Bearer {api_token_for(nobody)}"})
    assert response.status_code == 403

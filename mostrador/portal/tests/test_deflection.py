"""Deflection: each showing of the request form is a visit; suggestions shown while typing and
a suggested article opened are noted on it; a visit that opened a suggestion and sent no
request (and is over: more than 30 minutes old) is deflected. The desk reads the figures at
GET /api/v1/kb/deflection."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from mostrador.core.testing import api_token_for
from mostrador.portal import actions
from mostrador.portal.models import RequestVisit
from mostrador.portal.queries import deflection_figures

pytestmark = pytest.mark.django_db

FORM = {"name": "Marta Ruiz", "email": "marta@correo.example", "subject": "Reembolso",
        "message": "¿Cuándo me devolvéis el dinero del pedido MS-1042?"}


def start(client, lang: str = "es") -> str:
    page = client.get(f"/help/{lang}/request/").content.decode()
    return re.search(r'name="visit" value="([^"]+)"', page).group(1)


def test_suggestions_answer_json_and_note_the_visit(client, help_center):
    hc = help_center
    token = start(client)
    response = client.get("/help/es/suggest", {"q": "¿cuándo llega el reembolso?",
                                               "visit": token})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    items = response.json()
    assert items[0]["id"] == hc.refunds_es.pk
    assert set(items[0]) == {"id", "title", "url", "snippet"}
    assert items[0]["title"] == "Devoluciones y reembolsos"
    assert items[0]["url"] == f"/help/es/go/{token}/{hc.refunds_es.pk}/"
    assert "<mark>reembolso</mark>" in items[0]["snippet"]
    ids = {item["id"] for item in items}
    assert not ids & {hc.internal_es.pk, hc.draft_es.pk, hc.refunds_en.pk, hc.password_en.pk}
    assert RequestVisit.objects.get(token=token).suggestions_shown == 1

    # Too short, or nothing relevant: an empty list, and nothing noted.
    assert client.get("/help/es/suggest", {"q": "re", "visit": token}).json() == []
    assert RequestVisit.objects.get(token=token).suggestions_shown == 1
    # Without a visit the links go straight to the articles.
    plain = client.get("/help/en/suggest", {"q": "refund"}).json()
    assert plain[0]["url"] == f"/help/en/a/{hc.refunds_en.pk}-{hc.refunds_en.slug}/"


def test_an_opened_suggestion_is_noted_once_and_leads_to_the_article(client, help_center):
    hc = help_center
    token = start(client)
    response = client.get(f"/help/es/go/{token}/{hc.refunds_es.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/help/es/a/{hc.refunds_es.pk}-{hc.refunds_es.slug}/"
    visit = RequestVisit.objects.get(token=token)
    assert visit.opened_article == hc.refunds_es and visit.suggestion_opened_at is not None
    first = visit.suggestion_opened_at
    client.get(f"/help/es/go/{token}/{hc.address_es.pk}/")
    visit.refresh_from_db()
    assert (visit.opened_article, visit.suggestion_opened_at) == (hc.refunds_es, first)
    # Articles readers may not see are not a way to leave a mark.
    assert client.get(f"/help/es/go/{token}/{hc.internal_es.pk}/").status_code == 404
    # An unknown visit still reaches the article.
    assert client.get(f"/help/es/go/{'x' * 22}/{hc.address_es.pk}/").status_code == 302


def test_the_figures_count_how_visits_ended(client, help_center, desk):
    hc = help_center
    readers = [Client() for _ in range(5)]
    tokens = [start(reader) for reader in readers]
    # 0: saw suggestions, opened one, sent nothing (deflected once it is old enough)
    actions.do_record_suggestions_shown(tokens[0])
    actions.do_record_suggestion_opened(tokens[0], hc.refunds_es)
    # 1: saw suggestions, opened one, then sent a request anyway (not deflected)
    actions.do_record_suggestions_shown(tokens[1])
    actions.do_record_suggestion_opened(tokens[1], hc.refunds_es)
    readers[1].post("/help/es/request/", {**FORM, "visit": tokens[1]})
    # 2: saw suggestions and sent a request
    actions.do_record_suggestions_shown(tokens[2])
    readers[2].post("/help/es/request/", {**FORM, "visit": tokens[2]})
    # 3: looked and left; 4: still typing.
    figures = deflection_figures()
    assert figures == {"visits": 5, "with_suggestions": 3, "opened": 2, "submitted": 2,
                       "deflected": 0, "deflection_rate": 0.0}  # all still in progress
    later = timezone.now() + dt.timedelta(minutes=31)
    assert deflection_figures(now=later) == {
        "visits": 5, "with_suggestions": 3, "opened": 2, "submitted": 2, "deflected": 1,
        "deflection_rate": 0.2}
    # Only visits since a moment.
    RequestVisit.objects.filter(token__in=tokens[:2]).update(
        started_at=timezone.now() - dt.timedelta(days=40))
    since = timezone.now() - dt.timedelta(days=30)
    assert deflection_figures(since, now=later)["visits"] == 3
    assert deflection_figures(since, now=later)["deflected"] == 0
    assert deflection_figures()["deflected"] == 1  # the old one is long over


def test_a_request_ends_the_visit_and_suggestions_after_it_are_not_counted(client, desk,
                                                                             help_center):
    token = start(client)
    client.post("/help/es/request/", {**FORM, "visit": token})
    assert not actions.do_record_suggestions_shown(token)
    # Sending again with the same form is a request of its own, with a visit of its own.
    client.post("/help/es/request/", {**FORM, "visit": token})
    assert RequestVisit.objects.filter(request_submitted_at__isnull=False).count() == 2
    assert deflection_figures()["submitted"] == 2


def test_the_desk_reads_the_figures_over_the_api(client, help_center, desk):
    token = start(Client())
    actions.do_record_suggestions_shown(token)
    actions.do_record_suggestion_opened(token, help_center.refunds_es)
    auth = {"Authorization": f"Bearer {api_token_for(desk.ana)}"}
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1)):
        response = client.get("/api/v1/kb/deflection", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"since": None, "visits": 1, "with_suggestions": 1, "opened": 1,
                               "submitted": 0, "deflected": 1, "deflection_rate": 1.0}
    future = client.get("/api/v1/kb/deflection", {"since": "2999-01-01T00:00:00Z"},
                        headers=auth).json()
    assert future["visits"] == 0 and future["deflection_rate"] == 0.0
    bad = client.get("/api/v1/kb/deflection", {"since": "yesterday"}, headers=auth)
    assert bad.status_code == 400 and bad.json()["field"] == "since"


def test_the_figures_are_for_staff_only(client, desk):
    assert client.get("/api/v1/kb/deflection").status_code == 401
    nobody = get_user_model().objects.create_user("nobody", "nobody@example.org", "x")
    response = client.get("/api/v1/kb/deflection",
                          headers={"Authorization": f"Bearer {api_token_for(nobody)}"})
    assert response.status_code == 403

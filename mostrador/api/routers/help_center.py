"""The public help center seen from the desk: what readers answered to "Was this helpful?"
for an article, and how many request-form visits ended without a request because a suggested
article answered the question (deflection). Staff only (docs/knowledge.md, "Help center")."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from mostrador.api.schemas_help_center import DeflectionOut, FeedbackOut
from mostrador.core.errors import PermissionDenied
from mostrador.knowledge.actions import is_agent
from mostrador.knowledge.queries import access_article
from mostrador.portal.queries import article_votes, deflection_figures

router = Router(tags=["help center"])


def _require_staff(request: HttpRequest) -> None:
    if not is_agent(request.user):
        raise PermissionDenied(_("Only agents may read help-center figures."))


class FeedbackQuery(Schema):
    comments: int = Field(default=20, ge=0, le=200, description="how many recent comments")


@router.get("/kb/articles/{int:article_id}/feedback", response=FeedbackOut)
def get_feedback(request: HttpRequest, article_id: int, query: Query[FeedbackQuery]):
    """Readers' answers to "Was this helpful?" on the article's page: the counts and the
    newest comments (one vote per reader; a changed vote counts once, as it is now)."""
    _require_staff(request)
    article = access_article(request.user, article_id)
    return {"article": article.pk, **article_votes(article, comments=query.comments)}


class DeflectionQuery(Schema):
    since: dt.datetime | None = Field(default=None, description="count visits started at or "
                                                                "after this time (ISO 8601)")


@router.get("/kb/deflection", response=DeflectionOut)
def get_deflection(request: HttpRequest, query: Query[DeflectionQuery]):
    """How the help center's request-form visits ended: shown suggestions, opened one, sent a
    request, or were deflected (opened a suggested article and sent nothing, more than 30
    minutes ago)."""
    _require_staff(request)
    return {"since": query.since, **deflection_figures(query.since)}

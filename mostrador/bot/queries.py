"""Reading the bot's settings and the questions it could not answer."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from mostrador.bot.models import BotSettings, UnansweredQuestion
from mostrador.conversations.models import Inbox
from mostrador.core.errors import NotFound, PermissionDenied, ValidationFailed


def bot_settings(inbox: Inbox) -> BotSettings | None:
    return BotSettings.objects.filter(inbox=inbox).first()


def _check_staff(user) -> None:
    from mostrador.knowledge.actions import is_agent

    if not is_agent(user):
        raise PermissionDenied(_("Only the desk's staff can see this."))


def unanswered(user, *, status: str = "open", limit: int = 50) -> QuerySet[UnansweredQuestion]:
    _check_staff(user)
    rows = UnansweredQuestion.objects.select_related("article").order_by("-created_at", "-id")
    if status:
        if status not in UnansweredQuestion.Status.values:
            raise ValidationFailed(_("Unknown status %(status)s.") % {"status": status},
                                   field="status")
        rows = rows.filter(status=status)
    return rows[:limit]


def access_unanswered(user, pk: int) -> UnansweredQuestion:
    _check_staff(user)
    question = UnansweredQuestion.objects.filter(pk=pk).first()
    if question is None:
        raise NotFound(_("Question %(id)s not found.") % {"id": pk}, field="question")
    return question

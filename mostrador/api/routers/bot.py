"""The answer bot: its decision for a text (the same one it makes in a conversation), its
settings per inbox, and the questions it could not answer (docs/bot.md)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from mostrador.bot import actions, answer, queries
from mostrador.conversations.queries import access_inbox
from mostrador.core.errors import ValidationFailed

router = Router(tags=["answer bot"])


class AnswerIn(Schema):
    text: str = Field(max_length=answer.MAX_QUESTION_CHARS)
    language: str = ""
    # Decide with this inbox's threshold, languages and greeting (else the defaults).
    inbox: int | None = None


class AnswerOut(Schema):
    answer: str
    article_id: int | None
    confidence: float
    handover: bool
    reason: str
    language: str
    article_url: str


@router.post("/bot/answer", response=AnswerOut)
def bot_answer(request: HttpRequest, body: AnswerIn):
    """What the bot answers to ``text``: the best article's passage and link, or a handover
    (``handover`` true, ``article_id`` null) when it is not confident enough or the text asks
    for a person. ``confidence`` is from 0 to 1."""
    if body.language and body.language not in answer.known_languages():
        raise ValidationFailed(_("Unknown language %(language)s.")
                               % {"language": body.language}, field="language")
    settings_row = None
    if body.inbox is not None:
        settings_row = actions.settings_for(access_inbox(request.user, body.inbox))
    decision = actions.decide_for(settings_row, body.text, language=body.language)
    return {**decision.as_json(), "reason": decision.reason, "language": decision.language,
            "article_url": decision.article_url}


class BotSettingsOut(Schema):
    inbox_id: int
    enabled: bool
    threshold: float | None
    effective_threshold: float
    greeting: dict[str, str]
    languages: list[str]


class BotSettingsIn(Schema):
    enabled: bool | None = None
    # null goes back to the calibrated default; leave it out to keep it.
    threshold: float | None = Field(default=-1.0)
    greeting: dict[str, str] | None = None
    languages: list[str] | None = None


def _settings_out(inbox_id: int, row) -> dict[str, Any]:
    threshold = row.threshold if row else None
    return {"inbox_id": inbox_id, "enabled": bool(row and row.enabled), "threshold": threshold,
            "effective_threshold": answer.DEFAULT_THRESHOLD if threshold is None else threshold,
            "greeting": (row.greeting if row else {}) or {},
            "languages": (row.languages if row else []) or []}


@router.get("/inboxes/{int:inbox_id}/bot", response=BotSettingsOut)
def get_bot_settings(request: HttpRequest, inbox_id: int):
    inbox = access_inbox(request.user, inbox_id)
    return _settings_out(inbox.pk, queries.bot_settings(inbox))


@router.put("/inboxes/{int:inbox_id}/bot", response=BotSettingsOut)
def put_bot_settings(request: HttpRequest, inbox_id: int, body: BotSettingsIn):
    """Supervisors and administrators: switch the bot on or off, set its threshold (0-1;
    null for the calibrated default), its greeting per language and its languages."""
    inbox = access_inbox(request.user, inbox_id)
    threshold: Any = "unchanged" if body.threshold == -1.0 else body.threshold
    row = actions.do_update_bot_settings(inbox, acting_user=request.user, enabled=body.enabled,
                                         threshold=threshold, greeting=body.greeting,
                                         languages=body.languages)
    return _settings_out(inbox.pk, row)


class UnansweredQuery(Schema):
    status: str = "open"
    limit: int = 50


class UnansweredOut(Schema):
    id: int
    text: str
    language: str
    reason: str
    status: str
    confidence: float | None
    article_id: int | None
    conversation_id: int | None
    inbox_id: int | None
    source: str
    draft_id: int | None
    created_at: str


class UnansweredList(Schema):
    items: list[UnansweredOut]


def _unanswered_out(question) -> dict[str, Any]:
    return {"id": question.pk, "text": question.text, "language": question.language,
            "reason": question.reason, "status": question.status,
            "confidence": question.confidence, "article_id": question.article_id,
            "conversation_id": question.conversation_id, "inbox_id": question.inbox_id,
            "source": question.source, "draft_id": question.draft_id,
            "created_at": question.created_at.isoformat()}


@router.get("/bot/unanswered", response=UnansweredList)
def list_unanswered(request: HttpRequest, query: Query[UnansweredQuery]):
    """Questions the bot handed over for want of an article, and answers customers said did
    not help, newest first."""
    rows = queries.unanswered(request.user, status=query.status,
                              limit=max(1, min(query.limit, 200)))
    return {"items": [_unanswered_out(q) for q in rows]}


class UnansweredPatch(Schema):
    status: str


@router.patch("/bot/unanswered/{int:question_id}", response=UnansweredOut)
def patch_unanswered(request: HttpRequest, question_id: int, body: UnansweredPatch):
    question = queries.access_unanswered(request.user, question_id)
    return _unanswered_out(actions.do_set_unanswered_status(question, body.status,
                                                            acting_user=request.user))

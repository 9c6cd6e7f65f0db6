"""What the answer bot writes: its answers on conversations, handovers, the questions it could
not answer, and its settings per inbox.

**The hook.** After a conversation is created on an inbox whose bot is on,
:func:`respond_to_new_conversation` runs (the listener calls it after commit, before routing).
When the bot answers, its answer goes out as an automatic reply (``author_kind`` "bot": it is not
the desk's first response, and never answers automatic mail) and the conversation waits for the
customer (``pending``): a reply from the customer reopens it and routing gives it to a person,
who sees the question, the bot's answer and the reply in one timeline. When the bot does not
answer, it says nothing on e-mail (the desk's usual acknowledgement, or the after-hours notice,
goes out as always) and the conversation is routed at once. Either way the timeline gets a
``bot.answered`` or ``bot.handed_over`` event with the confidence and the article.

A live-chat channel calls :func:`respond_in_chat` for each visitor message instead, and shows
``decision.answer``; ``decision.handover`` tells it to bring in a person.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from mostrador.bot import answer
from mostrador.bot.models import BotSettings, UnansweredQuestion
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations.models import Conversation, Inbox, Message
from mostrador.core.errors import PermissionDenied, ValidationFailed
from mostrador.core.publish import publish_on_commit

ANSWERED = "bot.answered"
HANDED_OVER = "bot.handed_over"
SETTINGS_CHANGED = "bot.settings_changed"
# Handovers worth an article: the knowledge base had nothing close enough.
GAP_REASONS = frozenset({"low_confidence", "no_articles"})


def settings_for(inbox: Inbox | int) -> BotSettings | None:
    """The inbox's bot settings when its bot is on."""
    inbox_id = inbox if isinstance(inbox, int) else inbox.pk
    return BotSettings.objects.filter(inbox_id=inbox_id, enabled=True).first()


def decide_for(settings_row: BotSettings | None, text: str, *, language: str = "",
               channel: str = "chat") -> answer.Decision:
    """``answer.decide`` with an inbox's threshold, languages and greeting."""
    if settings_row is None:
        return answer.decide(text, language=language, channel=channel)
    reply_in = answer.reply_language(text, language, tuple(settings_row.languages))
    return answer.decide(text, language=language, threshold=settings_row.threshold,
                         languages=tuple(settings_row.languages),
                         greeting=(settings_row.greeting or {}).get(reply_in, ""),
                         channel=channel)


def respond_to_new_conversation(conversation_id: int) -> answer.Decision | None:
    """The bot's first response to a new conversation (None when the bot stays out)."""
    conversation = (Conversation.objects.select_related("inbox", "customer")
                    .filter(pk=conversation_id).first())
    if conversation is None or conversation.status != Conversation.Status.NEW or \
            conversation.assignee_id is not None:
        return None
    bot = settings_for(conversation.inbox_id)
    if bot is None:
        return None
    messages = list(conversation.messages.order_by("created_at", "id")[:2])
    first = messages[0] if messages else None
    if len(messages) != 1 or first.direction != Message.Direction.INBOUND or first.automatic \
            or first.meta.get("noise") or first.meta.get("suppress_autoreply"):
        return None
    question = "\n".join(part for part in (conversation.subject, first.reply_text or first.text)
                         if part)
    decision = decide_for(bot, question,
                          language=conversation.language or conversation.customer.language,
                          channel="email" if first.channel_kind == "email" else "chat")
    with transaction.atomic():
        if decision.handover:
            _handed_over(conversation, decision, question, source="conversation")
            return decision
        sent = conversation_actions.do_send_automatic_reply(
            conversation, decision.answer, reason="bot", author_kind=Message.AuthorKind.BOT)
        if sent is None:
            return None
        conversation_actions.record_event(
            conversation, ANSWERED, at=sent.created_at, message=sent,
            after={"article": decision.article_id, "confidence": decision.confidence,
                   "language": decision.language})
        conversation_actions.do_change_status(conversation, Conversation.Status.PENDING,
                                              acting_user=None)
    return decision


def respond_in_chat(inbox: Inbox, text: str, *, language: str = "") -> answer.Decision:
    """The decision for one chat message on ``inbox`` (its bot settings, or the defaults)."""
    return decide_for(settings_for(inbox), text, language=language, channel="chat")


def _handed_over(conversation: Conversation, decision: answer.Decision, question: str, *,
                 source: str) -> None:
    from django.utils import timezone

    conversation_actions.record_event(
        conversation, HANDED_OVER, at=timezone.now(),
        after={"reason": decision.reason, "confidence": decision.confidence,
               "article": decision.best_article_id})
    if decision.reason in GAP_REASONS:
        do_record_unanswered(question, language=decision.language, reason=decision.reason,
                             confidence=decision.confidence,
                             article_id=decision.best_article_id, conversation=conversation,
                             inbox_id=conversation.inbox_id, source=source)


# --- the help center's chat: handing over with the whole exchange ----------------------------


@transaction.atomic
def do_hand_over_chat(*, inbox: Inbox, customer, transcript: list[dict[str, Any]],
                      language: str, reason: str) -> Conversation:
    """Open a conversation for a person from a bot chat: the customer's messages are its first
    message, and a note from the bot holds the whole exchange as it happened.

    ``transcript``: ``[{"from": "customer" | "bot", "text": str}, …]`` in order.
    """
    said = [turn["text"].strip() for turn in transcript
            if turn.get("from") == "customer" and str(turn.get("text", "")).strip()]
    if not said:
        raise ValidationFailed(_("Write your question first."), field="text")
    subject = said[0].splitlines()[0][:120]
    conversation = conversation_actions.do_create_conversation(
        inbox=inbox, customer=customer, subject=subject, text="\n\n".join(said))
    lines = [_("Conversation with the answer bot before the handover:")]
    for turn in transcript:
        who = _("Customer") if turn.get("from") == "customer" else _("Bot")
        lines.append(f"{who}: {str(turn.get('text', '')).strip()}")
    lines.append(_("Handed over because: %(reason)s") % {"reason": _reason_label(reason)})
    note = Message.objects.create(
        conversation=conversation, inbox=inbox, direction=Message.Direction.NOTE,
        author_kind=Message.AuthorKind.BOT, channel_kind="note", text="\n".join(lines),
        reply_text="\n".join(lines), created_at=conversation.created_at,
        meta={"bot_transcript": transcript})
    conversation_actions.record_event(conversation, HANDED_OVER, at=conversation.created_at,
                                      message=note, after={"reason": reason})
    return conversation


def _reason_label(reason: str) -> str:
    labels = dict(UnansweredQuestion.Reason.choices)
    return str(labels.get(reason, reason))


# --- unanswered questions ------------------------------------------------------------------


def do_record_unanswered(text: str, *, language: str, reason: str,
                         confidence: float | None = None, article_id: int | None = None,
                         conversation: Conversation | None = None,
                         inbox_id: int | None = None, source: str) -> UnansweredQuestion:
    if reason not in UnansweredQuestion.Reason.values:
        raise ValidationFailed(_("Unknown reason %(reason)s.") % {"reason": reason},
                               field="reason")
    question = UnansweredQuestion.objects.create(
        text=text.strip()[:answer.MAX_QUESTION_CHARS], language=language, reason=reason,
        confidence=confidence, article_id=article_id, conversation=conversation,
        inbox_id=inbox_id, source=source)
    publish_on_commit("bot.unanswered_recorded", {"question_id": question.pk,
                                                  "reason": reason})
    return question


def do_record_feedback(*, question: str, article_id: int | None, helpful: bool,
                       language: str, source: str, inbox_id: int | None = None,
                       conversation: Conversation | None = None) -> UnansweredQuestion | None:
    """A customer's thumbs up or down on a bot answer; a thumbs down is kept for supervisors."""
    if helpful:
        return None
    return do_record_unanswered(question, language=language, reason="not_helpful",
                                article_id=article_id, conversation=conversation,
                                inbox_id=inbox_id, source=source)


def _check_supervisor(user) -> None:
    from mostrador.knowledge.actions import may_publish

    if not may_publish(user):
        raise PermissionDenied(_("Only supervisors and administrators can do this."))


@transaction.atomic
def do_set_unanswered_status(question: UnansweredQuestion, status: str, *, acting_user,
                             draft=None) -> UnansweredQuestion:
    _check_supervisor(acting_user)
    if status not in UnansweredQuestion.Status.values:
        raise ValidationFailed(_("Unknown status %(status)s.") % {"status": status},
                               field="status")
    question.status = status
    question.draft = draft if status == UnansweredQuestion.Status.DRAFTED else question.draft
    question.save(update_fields=["status", "draft"])
    return question


@transaction.atomic
def do_draft_article_from_question(question: UnansweredQuestion, *, acting_user, title: str,
                                   body: str, language: str = ""):
    """Start an article for an unanswered question: a draft, and the question marked."""
    from mostrador.knowledge.actions import do_create_article

    _check_supervisor(acting_user)
    article = do_create_article(title=title, body=body,
                                language=language or question.language or "es",
                                acting_user=acting_user)
    return do_set_unanswered_status(question, UnansweredQuestion.Status.DRAFTED,
                                    acting_user=acting_user, draft=article), article


# --- settings ------------------------------------------------------------------------------


@transaction.atomic
def do_update_bot_settings(inbox: Inbox, *, acting_user, enabled: bool | None = None,
                           threshold: float | str | None = "unchanged",
                           greeting: dict[str, str] | None = None,
                           languages: list[str] | None = None) -> BotSettings:
    """Change an inbox's bot (supervisors and administrators). ``threshold=None`` goes back to
    the calibrated default."""
    from django.conf import settings as django_settings

    _check_supervisor(acting_user)
    row, _created = BotSettings.objects.select_for_update().get_or_create(inbox=inbox)
    known = {code for code, _name in django_settings.LANGUAGES}
    if enabled is not None:
        row.enabled = bool(enabled)
    if threshold != "unchanged":
        if threshold is not None and not (0.0 <= float(threshold) <= 1.0):
            raise ValidationFailed(_("The confidence threshold is a number from 0 to 1."),
                                   field="threshold")
        row.threshold = None if threshold is None else float(threshold)
    if greeting is not None:
        unknown = set(greeting) - known
        if unknown:
            raise ValidationFailed(_("Unknown language %(language)s.")
                                   % {"language": ", ".join(sorted(unknown))}, field="greeting")
        row.greeting = {code: text.strip()[:500] for code, text in greeting.items()
                        if text.strip()}
    if languages is not None:
        unknown = set(languages) - known
        if unknown:
            raise ValidationFailed(_("Unknown language %(language)s.")
                                   % {"language": ", ".join(sorted(unknown))},
                                   field="languages")
        row.languages = sorted(set(languages))
    row.save()
    publish_on_commit(SETTINGS_CHANGED, {"inbox_id": inbox.pk, "enabled": row.enabled,
                                         "acting_user_id": acting_user.pk})
    return row

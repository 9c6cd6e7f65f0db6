"""What the public help center writes: readers' votes on articles, the life of a request-form
visit (started, suggestions shown, a suggestion opened, a request sent) and the request itself,
which becomes a conversation through the conversation actions.

Readers are anonymous and write nothing else. Counters move by conditional UPDATEs, so two
requests of one visit never lose each other's change.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.conversations.actions import do_create_conversation
from mostrador.conversations.models import Conversation, Inbox
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.customers.actions import do_update_customer, resolve_identity
from mostrador.knowledge.models import Article, Language
from mostrador.portal.models import COMMENT_MAX_CHARS, ArticleVote, RequestVisit

logger = logging.getLogger(__name__)

NAME_MAX_CHARS = 200
SUBJECT_MAX_CHARS = 200
MESSAGE_MIN_CHARS = 10
MESSAGE_MAX_CHARS = 10_000
# What the first message of a help-center request carries in its ``meta``.
SOURCE = "help_center"


def new_key() -> str:
    """A random key for a visitor or a form visit (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


# --- votes ----------------------------------------------------------------------------------


def do_record_vote(article: Article, *, visitor: str, helpful: bool, comment: str = "",
                   language: str) -> tuple[ArticleVote, bool]:
    """Record ``visitor``'s vote on a public article, replacing their earlier one (comment
    included). Returns (vote, created)."""
    if not article.is_public:
        raise NotFound(_("Article %(id)s not found.") % {"id": article.pk}, field="article")
    if not visitor:
        raise ValidationFailed(_("A vote needs a visitor key."), field="visitor")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise ValidationFailed(_("A comment has at most %(max)d characters.")
                               % {"max": COMMENT_MAX_CHARS}, field="comment")
    now = timezone.now()
    # update_or_create locks the row; two first votes racing end in one row (the loser of the
    # unique constraint reads the winner's and updates it).
    return ArticleVote.objects.update_or_create(
        article=article, visitor=visitor[:64],
        defaults={"helpful": bool(helpful), "comment": comment, "language": language,
                  "updated_at": now},
        create_defaults={"helpful": bool(helpful), "comment": comment, "language": language,
                         "created_at": now, "updated_at": now})


# --- request-form visits --------------------------------------------------------------------


def do_start_visit(language: str) -> RequestVisit:
    return RequestVisit.objects.create(token=new_key(), language=_language(language))


def do_record_suggestions_shown(token: str) -> bool:
    """The form showed suggested articles to this visit; False when the token is unknown."""
    if not token:
        return False
    return bool(RequestVisit.objects.filter(token=token, request_submitted_at__isnull=True)
                .update(suggestions_shown=F("suggestions_shown") + 1))


def do_record_suggestion_opened(token: str, article: Article) -> bool:
    """The reader opened a suggested article. Only the first one opened is kept; False when the
    token is unknown or the visit already opened one."""
    if not token:
        return False
    return bool(RequestVisit.objects.filter(token=token, suggestion_opened_at__isnull=True)
                .update(suggestion_opened_at=timezone.now(), opened_article=article))


# --- the request ----------------------------------------------------------------------------


def help_center_inbox() -> Inbox:
    """The inbox requests go to: ``MOSTRADOR_HELP_CENTER_INBOX`` when it names an active inbox,
    else the first active e-mail inbox."""
    configured = getattr(settings, "MOSTRADOR_HELP_CENTER_INBOX", None)
    if configured:
        inbox = Inbox.objects.filter(pk=configured, active=True).first()
        if inbox is not None:
            return inbox
        logger.warning("MOSTRADOR_HELP_CENTER_INBOX=%s is not an active inbox; help-center "
                       "requests go to the first active e-mail inbox", configured)
    inbox = Inbox.objects.filter(active=True, channel_kind="email").order_by("id").first()
    if inbox is None:
        raise NotFound(_("There is no inbox to take help-center requests: connect an e-mail "
                         "inbox or set MOSTRADOR_HELP_CENTER_INBOX."), field="inbox")
    return inbox


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("Please tell us your name."), field="name")
    if len(name) > NAME_MAX_CHARS:
        raise ValidationFailed(_("A name has at most %(max)d characters.")
                               % {"max": NAME_MAX_CHARS}, field="name")
    return name


def clean_email(email: str) -> str:
    email = (email or "").strip()
    if not email:
        raise ValidationFailed(_("Please enter your e-mail address: we answer there."),
                               field="email")
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(_("Enter an e-mail address like name@example.com."),
                               field="email") from None
    # Addresses are kept in lower case, as the customer's identity is.
    return email.lower()


def clean_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    if not subject:
        raise ValidationFailed(_("Please write a subject."), field="subject")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise ValidationFailed(_("A subject has at most %(max)d characters.")
                               % {"max": SUBJECT_MAX_CHARS}, field="subject")
    return subject


def clean_message(message: str) -> str:
    message = (message or "").strip()
    if not message:
        raise ValidationFailed(_("Please write your question."), field="message")
    if len(message) < MESSAGE_MIN_CHARS:
        raise ValidationFailed(_("Please tell us a little more (at least %(min)d characters).")
                               % {"min": MESSAGE_MIN_CHARS}, field="message")
    if len(message) > MESSAGE_MAX_CHARS:
        raise ValidationFailed(_("A message has at most %(max)d characters.")
                               % {"max": MESSAGE_MAX_CHARS}, field="message")
    return message


@transaction.atomic
def do_submit_request(*, token: str, language: str, name: str, email: str, subject: str,
                      message: str) -> Conversation:
    """A customer's request from the help center: the customer found (or created) by e-mail
    address, a new conversation in the help-center inbox whose replies go to that address,
    and the form visit marked as ended by a request.

    The visit row is locked (``select_for_update``); a visit that is unknown or already sent a
    request (the form posted twice) gets a visit row of its own, so every request has one."""
    language = _language(language)
    name, email = clean_name(name), clean_email(email)
    subject, message = clean_subject(subject), clean_message(message)
    inbox = help_center_inbox()
    customer, created = resolve_identity("email", email, name=name)
    if created or not customer.language:
        do_update_customer(customer, language=language)
    meta: dict[str, Any] = {"sender": email, "source": SOURCE}
    conversation = do_create_conversation(inbox=inbox, customer=customer, subject=subject,
                                          text=message, message_meta=meta)
    now = timezone.now()
    visit = (RequestVisit.objects.select_for_update()
             .filter(token=token, request_submitted_at__isnull=True).first() if token else None)
    if visit is None:
        RequestVisit.objects.create(token=new_key(), language=language, started_at=now,
                                    request_submitted_at=now, conversation=conversation)
    else:
        visit.request_submitted_at, visit.conversation = now, conversation
        visit.save(update_fields=["request_submitted_at", "conversation"])
    return conversation


def _language(language: str) -> str:
    return language if language in Language.values else Language.SPANISH

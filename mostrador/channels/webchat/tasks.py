"""Mail the chat sends itself: the transcript, and the link to continue on another device."""

from __future__ import annotations

from django.core.mail import send_mail
from django.utils import formats, translation
from django.utils.translation import gettext as _

from mostrador.channels.webchat.models import Visitor
from mostrador.core.tasks import task


def _language(visitor: Visitor) -> str:
    return visitor.language or "es"


@task(retries=3, retry_delay=60)
def send_transcript(visitor_id: int, address: str) -> int:
    """The conversation so far, as plain text; returns the number of messages sent."""
    from mostrador.channels.webchat.actions import messages_for_visitor
    from mostrador.channels.webchat.serialize import author_name, author_of

    visitor = Visitor.objects.select_related("inbox").filter(pk=visitor_id).first()
    if visitor is None:
        return 0
    messages = messages_for_visitor(visitor, limit=10_000)
    with translation.override(_language(visitor)):
        lines = []
        for message in messages:
            who = author_name(message) or (_("You") if author_of(message) == "visitor"
                                            else visitor.inbox.name)
            when = formats.date_format(message.created_at, "SHORT_DATETIME_FORMAT")
            lines.append(f"[{when}] {who}:\n{message.reply_text or message.text}\n")
        subject = _("Your chat with %(name)s") % {"name": visitor.inbox.name}
        body = "\n".join([_("This is the conversation you had with %(name)s.")
                          % {"name": visitor.inbox.name}, "", *lines])
    send_mail(subject[:200], body, None, [address])
    return len(messages)


@task(retries=3, retry_delay=60)
def send_magic_link(visitor_id: int, address: str, token: str) -> bool:
    from mostrador.channels.webchat.views import continue_url

    visitor = Visitor.objects.select_related("inbox").filter(pk=visitor_id).first()
    if visitor is None:
        return False
    with translation.override(_language(visitor)):
        subject = _("Continue your chat with %(name)s") % {"name": visitor.inbox.name}
        body = _("Open this link on the device where you want to go on with the chat. It "
                 "works once, within 24 hours:\n\n%(url)s\n\nIf you did not ask for it, you "
                 "can ignore this message.") % {"url": continue_url(visitor.inbox, token)}
    send_mail(subject[:200], body, None, [address])
    return True


# A reply the visitor's widget has not shown after this long goes out by e-mail too (when the
# visitor gave an address): the widget promises an answer "here and by e-mail".
MISSED_REPLY_SECONDS = 120


@task(retries=3, retry_delay=60)
def mail_missed_reply(message_id: int) -> bool:
    """E-mail a desk reply that no widget has shown, with a link back into the chat."""
    from mostrador.channels.webchat import actions
    from mostrador.channels.webchat.models import ChatState
    from mostrador.conversations.models import Message

    message = (Message.objects.select_related("conversation", "author_user__agent")
               .filter(pk=message_id).first())
    if message is None or message.direction != Message.Direction.OUTBOUND:
        return False
    state = ChatState.objects.filter(conversation_id=message.conversation_id).first()
    if state is not None and state.visitor_received_up_to >= message.pk:
        return False
    visitor = (Visitor.objects.select_related("inbox")
               .filter(conversation_id=message.conversation_id).exclude(email="")
               .order_by("-last_seen_at").first())
    if visitor is None:
        return False
    link = actions.new_magic_link(visitor, visitor.email)
    from mostrador.channels.webchat.views import continue_url

    with translation.override(_language(visitor)):
        subject = _("New reply from %(name)s") % {"name": visitor.inbox.name}
        body = _("You have a reply in your chat with %(name)s:\n\n%(text)s\n\nTo answer, open "
                 "the chat (the link works once, within 24 hours):\n%(url)s") % {
            "name": visitor.inbox.name, "text": message.reply_text or message.text,
            "url": continue_url(visitor.inbox, link)}
    send_mail(subject[:200], body, None, [visitor.email])
    return True

"""Messages of a conversation: read them, reply, add notes, retry a failed delivery, and
download attachments."""

from __future__ import annotations

import re

import nh3
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from mostrador.api import parse, reads, render
from mostrador.api.schemas import MessageOut, MessagePage, NoteIn, ReplyIn
from mostrador.conversations.actions import do_add_note, do_retry_delivery, do_send_reply
from mostrador.conversations.queries import access_conversation, conversation_messages
from mostrador.core.errors import NotFound

router = Router(tags=["messages"])

# Shown in the browser; anything else is downloaded.
_INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Control characters would break the header; separators would suggest a path.
_UNSAFE_FILENAME_RE = re.compile(r"[\x00-\x1f\x7f/\\]+")


@router.get("/conversations/{int:conversation_id}/messages", response=MessagePage)
def list_messages(request: HttpRequest, conversation_id: int, cursor: str | None = None,
                  after: int | None = None, limit: int = 100, notes: bool = True):
    """Messages oldest first, notes included unless ``notes=false``. ``reply_text`` is what
    the author wrote this time, with the quoted history folded away. Follow ``next_cursor``
    for the next page; ``after`` (a message id) asks only for messages newer than it."""
    conversation = access_conversation(request.user, conversation_id)
    limit = parse.page_limit(limit)
    if cursor:
        after = reads.decode_id_cursor(cursor, "message")
    rows = conversation_messages(conversation, include_notes=notes, after_id=after,
                                 limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = reads.encode_id_cursor("message", rows[-1].pk)
    return {"items": render.messages(rows), "next_cursor": next_cursor}


@router.post("/conversations/{int:conversation_id}/reply", response={201: MessageOut})
def reply(request: HttpRequest, conversation_id: int, payload: ReplyIn):
    """Queue a reply to the customer; it goes out in the background (``delivery.status``
    moves from queued to sent, or failed with the reason)."""
    conversation = access_conversation(request.user, conversation_id)
    message = do_send_reply(
        conversation, payload.text, html=nh3.clean(payload.html) if payload.html else "",
        channel_kind=payload.channel, status=payload.status, acting_user=request.user)
    names = reads.display_names([request.user])
    return render.message(message, names=names, attachments=[])


@router.post("/conversations/{int:conversation_id}/notes", response={201: MessageOut})
def add_note(request: HttpRequest, conversation_id: int, payload: NoteIn):
    """An internal note: seen by the desk, never sent to the customer."""
    conversation = access_conversation(request.user, conversation_id)
    note = do_add_note(conversation, payload.text, acting_user=request.user)
    return render.message(note, names=reads.display_names([request.user]), attachments=[])


@router.post("/conversations/{int:conversation_id}/messages/{int:message_id}/retry",
             response=MessageOut)
def retry_delivery(request: HttpRequest, conversation_id: int, message_id: int):
    """Send a failed reply again, after the address or the relay was fixed."""
    conversation = access_conversation(request.user, conversation_id)
    message = reads.access_message(conversation, message_id)
    message = do_retry_delivery(message, acting_user=request.user)
    names = reads.display_names([message.author_user] if message.author_user_id else [])
    return render.message(message, names=names)


@router.get("/attachments/{int:attachment_id}", url_name="attachment",
            response={200: None})
def download_attachment(request: HttpRequest, attachment_id: int):
    """The file, with its content type. Images are shown inline, anything else downloads."""
    attachment = reads.access_attachment(request.user, attachment_id)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound(_("The file of attachment %(id)s is missing from storage.")
                       % {"id": attachment_id}, field="id") from None
    inline = attachment.content_type in _INLINE_TYPES
    filename = _UNSAFE_FILENAME_RE.sub("_", attachment.filename).strip(" .")
    response = FileResponse(handle, content_type=attachment.content_type or
                            "application/octet-stream", as_attachment=not inline,
                            filename=filename or f"attachment-{attachment.pk}")
    # Even a mislabelled file cannot run script in our origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response

"""Committed events → websocket frames. The only way data reaches a browser.

``relay_batch`` is a batch listener of :mod:`mostrador.core.publish`: once a transaction has
committed, it reads what changed (two queries for the whole batch: its conversations and its
messages) and hands the frames to the channel layer. In a server process the frames go through
one queue into the process's event loop, so the thread that committed does not wait for the
sends and frames leave in commit order; elsewhere (a worker process, a command) they are sent
at once from the calling thread (the scaled-out layer is Redis, which any process reaches).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from mostrador.conversations import events
from mostrador.conversations.models import Conversation, Message
from mostrador.realtime import groups

logger = logging.getLogger(__name__)

Frame = tuple[str, dict[str, Any]]  # (group, channel-layer message)

MESSAGE_KINDS = frozenset({events.MESSAGE_RECEIVED, events.REPLY_QUEUED, events.NOTE_ADDED,
                           events.MESSAGE_AUTOMATIC})
MARKS_CHANGED = "webchat.marks_changed"
AVAILABILITY_KINDS = frozenset({"agent.status_changed", "agent.routing_changed",
                                "agent.deactivated", "agent.reactivated",
                                "team.members_changed", "sla.calendar_changed",
                                "sla.calendar_assigned"})
PREVIEW_CHARS = 140

_loop: asyncio.AbstractEventLoop | None = None
_queue: asyncio.Queue[list[Frame]] | None = None
_sender_task: asyncio.Task | None = None


def frame(payload: dict[str, Any], **routing: Any) -> dict[str, Any]:
    """A channel-layer message that consumers pass on to their browser as ``payload``."""
    return {"type": "relay.frame", "frame": payload, **routing}


def bind_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Send through ``loop`` from now on (the server process's loop; consumers call this)."""
    global _loop, _queue, _sender_task
    if _loop is loop and _sender_task is not None and not _sender_task.done():
        return
    _loop = loop
    _queue = asyncio.Queue()
    _sender_task = loop.create_task(_sender(_queue))


def unbind_loop() -> None:
    global _loop, _queue
    _loop = _queue = None


async def _sender(queue: asyncio.Queue[list[Frame]]) -> None:
    layer = get_channel_layer()
    while True:
        frames = await queue.get()
        while not queue.empty():
            frames.extend(queue.get_nowait())
        try:
            await _send_all(layer, frames)
        except Exception:
            logger.exception("sending %d frames failed", len(frames))


async def _send_all(layer, frames: list[Frame]) -> None:
    results = await asyncio.gather(*(layer.group_send(group, message)
                                      for group, message in frames), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            logger.warning("a websocket frame was not sent: %r", result)


def send(frames: list[Frame]) -> None:
    if not frames:
        return
    loop = _loop
    if loop is not None and loop.is_running() and _queue is not None:
        loop.call_soon_threadsafe(_queue.put_nowait, frames)
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_send_all)(layer, frames)
    except Exception:
        logger.exception("sending %d frames failed", len(frames))


# --- from events to frames ------------------------------------------------------------------


def relay_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    frames: list[Frame] = []
    conversation_kinds: dict[int, list[str]] = defaultdict(list)
    message_ids: list[int] = []
    availability = False
    for kind, payload in batch:
        if kind == MARKS_CHANGED:
            frames.extend(_marks_frames(payload))
            continue
        if kind in AVAILABILITY_KINDS:
            availability = True
            continue
        conversation_id = payload.get("conversation_id")
        if not isinstance(conversation_id, int):
            continue
        conversation_kinds[conversation_id].append(kind)
        if kind in MESSAGE_KINDS and payload.get("message_id"):
            message_ids.append(payload["message_id"])
    if conversation_kinds:
        frames.extend(_conversation_frames(conversation_kinds, message_ids))
    if availability:
        frames.extend(_availability_frames())
    send(frames)


def _senders(conversation_ids: list[int]) -> dict[int, set[str]]:
    """The chat identities (every device of each person) following these conversations."""
    from mostrador.channels.webchat.models import Visitor

    found: dict[int, set[str]] = defaultdict(set)
    for conversation_id, sender_id in (Visitor.objects
                                       .filter(conversation_id__in=conversation_ids)
                                       .values_list("conversation_id", "sender_id").distinct()):
        found[conversation_id].add(sender_id)
    return found


def _message_sender(message: Message) -> str:
    """Who a chat message is from or to: the sender of an inbound message, the recipient of a
    reply (replies go to the last sender, see ``_reply_target``)."""
    if message.direction == Message.Direction.INBOUND:
        return str(message.meta.get("sender") or "")
    to = message.meta.get("to") or []
    return str(to[0]) if to else ""


def _conversation_frames(kinds: dict[int, list[str]], message_ids: list[int]) -> list[Frame]:
    conversations = (Conversation.objects.select_related("customer", "assignee__agent")
                     .in_bulk(list(kinds)))
    messages = list(Message.objects.filter(pk__in=message_ids)
                    .select_related("author_user__agent", "author_customer")
                    .prefetch_related("attachments").order_by("id")) if message_ids else []
    from mostrador.channels.webchat.serialize import message_frame

    frames: list[Frame] = []
    last_message: dict[int, Message] = {}
    batch_ids: dict[int, list[int]] = defaultdict(list)
    for message in messages:
        conversation = conversations.get(message.conversation_id)
        if conversation is None:
            continue
        last_message[conversation.pk] = message
        batch_ids[conversation.pk].append(message.pk)
        data = message_frame(message)
        frames.append((groups.conversation(conversation.pk), frame(
            {"type": "message", "conversation_id": conversation.pk, "message": data})))
        sender = _message_sender(message) if message.channel_kind == "webchat" else ""
        if sender and message.direction != Message.Direction.NOTE:
            frames.append((groups.visitor(sender), frame(
                {"type": "message", "conversation_id": conversation.pk, "message": data},
                conversation_id=conversation.pk)))
        if message.direction == Message.Direction.INBOUND and conversation.assignee_id:
            frames.append((groups.agent(conversation.assignee_id), frame(
                _notify(conversation, data["text"], new=False),
                skip_watching=conversation.pk)))
    chat_changes = [conversation_id for conversation_id, conversation_kinds in kinds.items()
                    if conversation_id in conversations
                    and conversations[conversation_id].channel_kind == "webchat"
                    and ({events.ASSIGNEE_CHANGED, events.STATUS_CHANGED}
                         & set(conversation_kinds))]
    senders = _senders(chat_changes) if chat_changes else {}
    for conversation_id, conversation_kinds in kinds.items():
        conversation = conversations.get(conversation_id)
        if conversation is None:
            continue
        summary = _summary(conversation, last_message.get(conversation_id))
        frames.append((groups.DESK, frame({"type": "conversation",
                                           "kind": conversation_kinds[-1],
                                           "conversation": summary,
                                           "message_ids": batch_ids.get(conversation_id, [])})))
        is_chat = conversation.channel_kind == "webchat"
        if is_chat and conversation.assignee_id is None and (
                events.CONVERSATION_CREATED in conversation_kinds
                or events.FOLLOW_UP_OPENED in conversation_kinds):
            frames.append((groups.DESK, frame(
                _notify(conversation, summary["preview"], new=True),
                only_team=conversation.team_id)))
        visitor_groups = [groups.visitor(sender) for sender in senders.get(conversation_id, ())]
        if events.ASSIGNEE_CHANGED in conversation_kinds and conversation.assignee_id:
            frames.append((groups.agent(conversation.assignee_id), frame(
                _notify(conversation, summary["preview"], new=False, assigned=True))))
            agent = getattr(conversation.assignee, "agent", None)
            name = agent.display_name if agent else ""
            frames.extend((group, frame(
                {"type": "agent", "name": name.split()[0] if name.split() else name},
                conversation_id=conversation.pk)) for group in visitor_groups)
        if events.STATUS_CHANGED in conversation_kinds:
            frames.extend((group, frame(
                {"type": "conversation", "id": conversation.pk, "status": conversation.status},
                conversation_id=conversation.pk)) for group in visitor_groups)
    return frames


def _summary(conversation: Conversation, message: Message | None) -> dict[str, Any]:
    preview = ""
    if message is not None and message.direction != Message.Direction.NOTE:
        preview = " ".join((message.reply_text or message.text).split())[:PREVIEW_CHARS]
    return {
        "id": conversation.pk,
        "subject": conversation.subject,
        "status": conversation.status,
        "channel_kind": conversation.channel_kind,
        "assignee_id": conversation.assignee_id,
        "team_id": conversation.team_id,
        "customer_name": conversation.customer.name if conversation.customer_id else "",
        "preview": preview,
        "last_activity_at": conversation.last_activity_at.isoformat(),
        "waiting_since": conversation.waiting_since.isoformat()
        if conversation.waiting_since else None,
    }


def _notify(conversation: Conversation, body: str, *, new: bool,
            assigned: bool = False) -> dict[str, Any]:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    name = conversation.customer.name if conversation.customer_id else ""
    if assigned:
        title = _("Assigned to you: #%(number)d") % {"number": conversation.pk}
    elif new:
        title = _("New chat from %(name)s") % {"name": name} if name else _("New chat")
    else:
        title = _("New message from %(name)s") % {"name": name} if name else _("New message")
    return {"type": "notify", "title": title, "body": body[:PREVIEW_CHARS],
            "url": reverse("web:conversation", args=[conversation.pk]),
            "conversation_id": conversation.pk}


def _marks_frames(payload: dict[str, Any]) -> list[Frame]:
    conversation_id = payload["conversation_id"]
    frames: list[Frame] = [(groups.conversation(conversation_id), frame({
        "type": "marks", "conversation_id": conversation_id,
        "delivered_up_to": payload["visitor_received_up_to"],
        "read_up_to": payload["visitor_read_up_to"]}))]
    for sender in _senders([conversation_id]).get(conversation_id, ()):
        frames.append((groups.visitor(sender), frame({
            "type": "marks", "delivered_up_to": payload["desk_read_up_to"],
            "read_up_to": payload["desk_read_up_to"]}, conversation_id=conversation_id)))
    return frames


def _availability_frames() -> list[Frame]:
    from mostrador.channels.webchat import availability
    from mostrador.conversations.models import Inbox

    availability.forget()
    return [(groups.chat_inbox(inbox_id), {"type": "availability.changed"})
            for inbox_id in Inbox.objects.filter(channel_kind="webchat", active=True)
            .values_list("pk", flat=True)]

"""Websocket consumers: the chat widget's (``/ws/chat/<key>/``) and the agent workspace's
(``/ws/agent/``). They authenticate, join groups, turn frames into actions and pass the
relay's frames on. The protocol is described in docs/channels/webchat.md.

Data frames (messages, marks, status) come only from :mod:`mostrador.realtime.relay`, after
commit. Ephemeral signals that are never stored (typing, who is viewing a conversation) go
from consumer to consumer through the channel layer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import translation

from mostrador.channels.webchat import actions as chat_actions
from mostrador.channels.webchat import adapter as chat_adapter
from mostrador.channels.webchat import availability as chat_availability
from mostrador.channels.webchat import limits
from mostrador.channels.webchat.serialize import message_frame
from mostrador.core.errors import NotFound, ValidationFailed
from mostrador.realtime import db, groups, relay
from mostrador.realtime.intake import intake

logger = logging.getLogger(__name__)

HELLO_SECONDS = 15
TYPING_EVERY = 1.0
MAX_FRAME_BYTES = 256 * 1024


def _dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def same_origin(scope: dict[str, Any]) -> bool:
    """The page opening the socket is the desk's own (its host, or a trusted origin)."""
    from urllib.parse import urlsplit

    from django.conf import settings

    origin = _header(scope, b"origin")
    if not origin:
        return False
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return urlsplit(origin).netloc.lower() == _header(scope, b"host").lower()


def client_address(scope: dict[str, Any]) -> str:
    client = scope.get("client") or ("", 0)
    return client[0] or ""


class _Base(AsyncWebsocketConsumer):
    groups_joined: set[str]

    async def send_json(self, payload: dict[str, Any]) -> None:
        await self.send(text_data=_dumps(payload))

    async def join(self, group: str) -> None:
        if group not in self.groups_joined:
            self.groups_joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        if group in self.groups_joined:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def leave_all(self) -> None:
        for group in list(self.groups_joined):
            await self.leave(group)

    async def unknown_frame(self, kind: str) -> None:
        await self.send_json({"type": "error", "code": "bad_frame",
                              "message": f"unknown frame type {kind!r}"})

    async def read_frame(self, text_data: str | None) -> dict[str, Any] | None:
        if text_data is None or len(text_data) > MAX_FRAME_BYTES:
            await self.send_json({"type": "error", "code": "bad_frame",
                                  "message": "frames are JSON text of at most 256 KB"})
            return None
        try:
            data = json.loads(text_data)
        except json.JSONDecodeError as exc:
            await self.send_json({"type": "error", "code": "bad_frame",
                                  "message": f"not JSON: {exc}"})
            return None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self.send_json({"type": "error", "code": "bad_frame",
                                  "message": "a frame is a JSON object with a type"})
            return None
        return data


# --- the visitor's widget -------------------------------------------------------------------


class VisitorConsumer(_Base):
    async def connect(self) -> None:
        relay.bind_loop(asyncio.get_running_loop())
        self.groups_joined = set()
        self.visitor = None
        self.inbox = None
        self.language = "es"
        self.address = client_address(self.scope)
        self.counted = False
        self.last_typing = 0.0
        self.marks_sent = {"received": 0, "read": 0}
        key = self.scope["url_route"]["kwargs"]["key"]
        try:
            self.inbox = await db.run(chat_actions.chat_inbox, key)
        except NotFound:
            await self.close(code=4404)
            return
        self.config = chat_adapter.config_of(self.inbox)
        origin = _header(self.scope, b"origin")
        if not self.config.allows_origin(origin):
            await self.close(code=4403)
            return
        if not limits.connections.take(self.address, self.config.ip_connections):
            await self.close(code=4429)
            return
        self.counted = True
        await self.accept()
        self.hello_timer = asyncio.get_running_loop().call_later(HELLO_SECONDS,
                                                                 self._hello_timeout)

    def _hello_timeout(self) -> None:
        if self.visitor is None:
            self.closing = asyncio.ensure_future(self.close(code=4408))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            limits.connections.give_back(self.address)
            self.counted = False
        timer = getattr(self, "hello_timer", None)
        if timer is not None:
            timer.cancel()
        if self.visitor is not None and self.visitor.conversation_id:
            await self.channel_layer.group_send(groups.conversation(
                self.visitor.conversation_id), {"type": "visitor.typing",
                                                "conversation_id": self.visitor.conversation_id,
                                                "on": False})
        await self.leave_all()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None
                      ) -> None:
        data = await self.read_frame(text_data)
        if data is None:
            return
        kind = data["type"]
        if kind == "ping":
            await self.send_json({"type": "pong"})
            return
        if kind == "hello":
            await self.hello(data)
            return
        if self.visitor is None:
            await self.send_json({"type": "error", "code": "bad_frame",
                                  "message": "say hello first"})
            return
        handler = {"message": self.message, "typing": self.typing, "received": self.progress,
                   "read": self.progress, "identify": self.identify,
                   "human": self.human}.get(kind)
        if handler is None:
            await self.unknown_frame(kind)
            return
        await handler(data)

    async def hello(self, data: dict[str, Any]) -> None:
        language = str(data.get("language") or "")[:10]
        after = data.get("after") if isinstance(data.get("after"), int) else None
        welcome = await db.run(self._welcome, data.get("token"), language, after,
                               str(data.get("page") or "")[:1000],
                               _header(self.scope, b"user-agent"))
        visitor = self.visitor
        await self.join(groups.visitor(visitor.sender_id))
        await self.join(groups.chat_inbox(self.inbox.pk))
        await self.send_json(welcome)

    def _welcome(self, token: Any, language: str, after: int | None, page: str,
                 user_agent: str) -> dict[str, Any]:
        visitor = chat_actions.visitor_for_token(self.inbox, token)
        new_token = None
        if visitor is None:
            visitor, new_token = chat_actions.do_start_visitor(
                self.inbox, language=language, address=self.address or None,
                user_agent=user_agent, page=page)
            after = None
        else:
            chat_actions.do_touch_visitor(visitor, language=language, page=page)
        visitor.inbox = self.inbox
        self.visitor = visitor
        self.language = visitor.language or chat_actions._language(language) or "es"
        messages = chat_actions.messages_for_visitor(visitor, after=after)
        marks = chat_actions.marks_for(visitor.conversation_id)
        conversation = visitor.conversation
        return {
            "type": "welcome",
            "token": new_token,
            "visitor": {"id": visitor.public_id, "name": visitor.name, "email": visitor.email},
            "conversation": {"id": conversation.pk, "status": conversation.status}
            if conversation else None,
            "messages": [message_frame(message) for message in messages],
            "marks": {"delivered_up_to": marks["desk_read_up_to"],
                      "read_up_to": marks["desk_read_up_to"]},
            "availability": chat_availability.availability(self.inbox,
                                                           language=self.language),
        }

    async def message(self, data: dict[str, Any]) -> None:
        client_id = data.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            await self.send_json({"type": "error", "code": "bad_frame",
                                  "message": "a message needs its client_id"})
            return
        text = data.get("text")
        try:
            with translation.override(self.language):
                chat_actions.check_text(text, self.config)
        except ValidationFailed as exc:
            await self.send_json({"type": "error", "code": "too_long", "client_id": client_id,
                                  "message": str(exc.message)})
            return
        if not text.strip():
            await self.send_json({"type": "error", "code": "empty", "client_id": client_id,
                                  "message": "empty message"})
            return
        wait = limits.messages.take(self.visitor.sender_id, self.address, self.config)
        if wait:
            with translation.override(self.language):
                message = limits.rate_limited_text()
            await self.send_json({"type": "error", "code": "rate_limited",
                                  "client_id": client_id, "retry_after": wait,
                                  "message": message})
            return
        fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
        try:
            with translation.override(self.language):
                outcome = await intake.submit(chat_actions.Submission(
                    self.visitor, client_id, text, fields))
        except Exception:
            logger.exception("a chat message could not be stored")
            await self.send_json({"type": "error", "code": "retry", "client_id": client_id,
                                  "retry_after": 2,
                                  "message": "not stored; the widget sends it again"})
            return
        await self.send_outcome(outcome)

    async def send_outcome(self, outcome: chat_actions.Outcome) -> None:
        if outcome.error:
            await self.send_json({"type": "error", "code": outcome.error_code,
                                  "client_id": outcome.client_id, "message": outcome.error,
                                  **({"retry_after": 2} if outcome.error_code == "retry"
                                     else {})})
            return
        conversation = outcome.conversation
        if conversation is not None and conversation.pk != self.visitor.conversation_id:
            self.visitor.conversation_id = conversation.pk
            self.visitor.conversation = conversation
        frame = await db.run(message_frame, outcome.message)
        await self.send_json({"type": "ack", "client_id": outcome.client_id,
                              "message": frame, "duplicate": outcome.duplicate,
                              "conversation": {"id": conversation.pk,
                                               "status": conversation.status}
                              if conversation else None})

    async def typing(self, data: dict[str, Any]) -> None:
        conversation_id = self.visitor.conversation_id
        on = bool(data.get("on"))
        now = time.monotonic()
        if not conversation_id or (on and now - self.last_typing < TYPING_EVERY):
            return
        self.last_typing = now if on else 0.0
        await self.channel_layer.group_send(groups.conversation(conversation_id), {
            "type": "visitor.typing", "conversation_id": conversation_id, "on": on})

    async def progress(self, data: dict[str, Any]) -> None:
        up_to = data.get("up_to")
        field = "received" if data["type"] == "received" else "read"
        if not isinstance(up_to, int) or up_to <= self.marks_sent[field]:
            return
        self.marks_sent[field] = up_to
        await db.run(chat_actions.do_mark_visitor_progress, self.visitor,
                     **{field: up_to})

    async def identify(self, data: dict[str, Any]) -> None:
        try:
            with translation.override(self.language):
                await db.run(chat_actions.do_identify, self.visitor,
                             name=str(data.get("name") or ""), email=str(data.get("email") or ""))
        except ValidationFailed as exc:
            await self.send_json({"type": "error", "code": "invalid", "field": exc.field,
                                  "message": str(exc.message)})
            return
        await self.send_json({"type": "identified", "name": self.visitor.name,
                              "email": self.visitor.email})

    async def human(self, data: dict[str, Any]) -> None:
        await db.run(chat_actions.do_request_human, self.visitor)

    # Channel-layer handlers.

    async def relay_frame(self, event: dict[str, Any]) -> None:
        conversation_id = event.get("conversation_id")
        if conversation_id and self.visitor is not None:
            current = self.visitor.conversation_id
            if current and conversation_id < current:
                return  # an earlier conversation of this person: the widget shows the latest
            if current != conversation_id:
                # Another tab or device started a new conversation: follow it.
                self.visitor.conversation_id = conversation_id
        await self.send_json(event["frame"])

    async def agent_typing(self, event: dict[str, Any]) -> None:
        if self.visitor is not None and event["conversation_id"] == self.visitor.conversation_id:
            await self.send_json({"type": "typing", "on": event["on"], "name": event["name"]})

    async def availability_changed(self, event: dict[str, Any]) -> None:
        found = await db.run(chat_availability.availability, self.inbox, language=self.language)
        await self.send_json({"type": "availability", **found})

    async def visitor_typing(self, event: dict[str, Any]) -> None:
        """Agents' groups only; a visitor's consumer never joins them."""


# --- the agent workspace --------------------------------------------------------------------


class AgentConsumer(_Base):
    async def connect(self) -> None:
        relay.bind_loop(asyncio.get_running_loop())
        self.groups_joined = set()
        self.watching: int | None = None
        self.watching_chat = False
        self.watching_senders: list[str] = []
        self.peers: dict[str, dict[str, Any]] = {}
        self.typing_on = False
        if not same_origin(self.scope):
            await self.close(code=4403)
            return
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        profile = await db.run(_agent_profile, user)
        if profile is None:
            await self.close(code=4403)
            return
        self.user = user
        self.name, self.team_ids = profile
        await self.accept()
        await self.join(groups.DESK)
        await self.join(groups.agent(user.pk))

    async def disconnect(self, code: int) -> None:
        if getattr(self, "watching", None):
            await self.unwatch({})
        await self.leave_all()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None
                      ) -> None:
        data = await self.read_frame(text_data)
        if data is None:
            return
        handler = {"ping": self.ping, "watch": self.watch, "unwatch": self.unwatch,
                   "typing": self.typing, "read": self.read}.get(data["type"])
        if handler is None:
            await self.unknown_frame(data["type"])
            return
        await handler(data)

    async def ping(self, data: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def watch(self, data: dict[str, Any]) -> None:
        conversation_id = data.get("conversation")
        if not isinstance(conversation_id, int):
            return
        try:
            channel_kind, self.watching_senders, marks = await db.run(_chat_of, self.user,
                                                                      conversation_id)
        except NotFound:
            await self.send_json({"type": "error", "code": "not_found",
                                  "message": f"conversation {conversation_id} not found"})
            return
        if self.watching and self.watching != conversation_id:
            await self.unwatch({})
        self.watching = conversation_id
        self.watching_chat = channel_kind == "webchat"
        self.peers = {}
        await self.join(groups.conversation(conversation_id))
        await self._announce("presence.hello")
        await self.send_presence()
        if marks is not None:
            await self.send_json({"type": "marks", "conversation_id": conversation_id,
                                  "delivered_up_to": marks["visitor_received_up_to"],
                                  "read_up_to": marks["visitor_read_up_to"]})

    async def unwatch(self, data: dict[str, Any]) -> None:
        if not self.watching:
            return
        conversation_id = self.watching
        if self.typing_on:
            await self.typing({"conversation": conversation_id, "on": False})
        await self._announce("presence.bye")
        await self.leave(groups.conversation(conversation_id))
        self.watching = None
        self.peers = {}

    async def _announce(self, kind: str, **extra: Any) -> None:
        await self.channel_layer.group_send(groups.conversation(self.watching), {
            "type": kind, "conversation_id": self.watching, "sender": self.channel_name,
            "user_id": self.user.pk, "name": self.name, "typing": self.typing_on, **extra})

    async def typing(self, data: dict[str, Any]) -> None:
        conversation_id = data.get("conversation")
        if conversation_id != self.watching or not self.watching:
            return
        on = bool(data.get("on"))
        changed = on != self.typing_on
        self.typing_on = on
        if changed:
            await self._announce("presence.here")
        if self.watching_chat and not data.get("note"):
            first_name = self.name.split()[0] if self.name.split() else self.name
            for sender in self.watching_senders:
                await self.channel_layer.group_send(groups.visitor(sender), {
                    "type": "agent.typing", "on": on, "name": first_name,
                    "conversation_id": conversation_id})

    async def read(self, data: dict[str, Any]) -> None:
        conversation_id, up_to = data.get("conversation"), data.get("up_to")
        if conversation_id != self.watching or not isinstance(up_to, int) or \
                not self.watching_chat:
            return
        await db.run(chat_actions.do_mark_desk_read, conversation_id, up_to)

    async def send_presence(self) -> None:
        agents: dict[int, dict[str, Any]] = {}
        for peer in self.peers.values():
            if peer["user_id"] == self.user.pk:
                continue
            seen = agents.setdefault(peer["user_id"], {"id": peer["user_id"],
                                                       "name": peer["name"], "typing": False})
            seen["typing"] = seen["typing"] or peer["typing"]
        await self.send_json({"type": "presence", "conversation_id": self.watching,
                              "agents": sorted(agents.values(), key=lambda a: a["name"])})

    # Channel-layer handlers.

    async def relay_frame(self, event: dict[str, Any]) -> None:
        only_team = event.get("only_team")
        if only_team and only_team not in self.team_ids:
            return
        frame = event["frame"]
        skip = event.get("skip_watching")
        if skip is not None and skip == self.watching:
            # The agent is looking at it: the timeline shows the message, no alert needed.
            return
        await self.send_json(frame)

    async def presence_hello(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] != self.watching or event["sender"] == self.channel_name:
            return
        self.peers[event["sender"]] = event
        await self.channel_layer.send(event["sender"], {
            "type": "presence.here", "conversation_id": self.watching,
            "sender": self.channel_name, "user_id": self.user.pk, "name": self.name,
            "typing": self.typing_on})
        await self.send_presence()

    async def presence_here(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] != self.watching or event["sender"] == self.channel_name:
            return
        self.peers[event["sender"]] = event
        await self.send_presence()

    async def presence_bye(self, event: dict[str, Any]) -> None:
        if event["sender"] in self.peers:
            del self.peers[event["sender"]]
            await self.send_presence()

    async def visitor_typing(self, event: dict[str, Any]) -> None:
        if event["conversation_id"] == self.watching:
            await self.send_json({"type": "visitor_typing",
                                  "conversation_id": event["conversation_id"],
                                  "on": event["on"]})

    async def agent_typing(self, event: dict[str, Any]) -> None:
        """Visitors' groups only."""


def _agent_profile(user) -> tuple[str, set[int]] | None:
    agent = getattr(user, "agent", None)
    if agent is None:
        return None
    return agent.display_name, set(user.teams.values_list("pk", flat=True))


def _chat_of(user, conversation_id: int) -> tuple[str, list[str], dict[str, int] | None]:
    """The conversation's channel and, for a chat, its visitors' sender ids and its marks."""
    from mostrador.channels.webchat.models import Visitor
    from mostrador.conversations.queries import access_conversation

    kind = access_conversation(user, conversation_id).channel_kind
    if kind != "webchat":
        return kind, [], None
    senders = list(Visitor.objects.filter(conversation_id=conversation_id)
                   .values_list("sender_id", flat=True).distinct())
    return kind, senders, chat_actions.marks_for(conversation_id)

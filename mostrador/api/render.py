"""Models to the JSON documents of :mod:`mostrador.api.schemas`.

Renderers never query the database on their own: whatever they show comes loaded with the rows
(``select_related``/``prefetch_related``) or is passed in (``names``, ``tags``), so a page of 50
costs the same queries as a page of 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.urls import reverse

from mostrador.api.reads import agent_of, display_names
from mostrador.conversations.models import (
    Attachment,
    Conversation,
    Event,
    Inbox,
    Message,
    RawInbound,
)
from mostrador.customers.models import Customer

MASK = "********"
_SECRET_KEY_RE = re.compile(r"pass(word)?|secret|token|api_?key|private_?key|credential",
                            re.IGNORECASE)


def ref(obj, name: str | None = None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {"id": obj.pk, "name": name if name is not None else str(obj)}


# --- conversations --------------------------------------------------------------------------


def conversation(c: Conversation, *, names: Mapping[int, str],
                 tags: Iterable[str] | None = None) -> dict[str, Any]:
    """``tags`` overrides ``c.tags`` when the caller knows them (prefetched or just set)."""
    assignee = c.assignee if c.assignee_id else None
    return {
        "id": c.pk,
        "number": c.number,
        "subject": c.subject,
        "status": c.status,
        "priority": c.priority,
        "channel": c.channel_kind,
        "inbox": ref(c.inbox),
        "customer": ref(c.customer, c.customer.name),
        "assignee": ref(assignee, names.get(assignee.pk)) if assignee else None,
        "team": ref(c.team) if c.team_id else None,
        "tags": sorted(tags if tags is not None else (t.name for t in c.tags.all())),
        "custom_fields": c.custom_fields or {},
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_activity_at": c.last_activity_at,
        "waiting_since": c.waiting_since,
        "first_response_at": c.first_response_at,
        "solved_at": c.solved_at,
        "follow_up_of": c.follow_up_of_id,
        "merged_into": c.merged_into_id,
        "message_count": c.message_count,
    }


def conversations(rows: list[Conversation]) -> list[dict[str, Any]]:
    names = display_names(c.assignee for c in rows if c.assignee_id)
    return [conversation(c, names=names) for c in rows]


def event(e: Event) -> dict[str, Any]:
    if e.actor_user_id:
        user = e.actor_user
        agent = agent_of(user)
        actor = {"kind": "agent", "id": e.actor_user_id,
                 "name": agent.display_name if agent else user.get_username()}
    elif e.actor_customer_id:
        actor = {"kind": "customer", "id": e.actor_customer_id, "name": e.actor_customer.name}
    else:
        actor = {"kind": "system", "id": None, "name": ""}
    return {"id": e.pk, "kind": e.kind, "actor": actor, "before": e.before, "after": e.after,
            "at": e.at, "message": e.message_id}


# --- messages -------------------------------------------------------------------------------


def attachment(a: Attachment) -> dict[str, Any]:
    return {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size,
            "inline": a.inline,
            "url": reverse("api-v1:attachment", kwargs={"attachment_id": a.pk})}


def message(m: Message, *, names: Mapping[int, str],
            attachments: Iterable[Attachment] | None = None) -> dict[str, Any]:
    """``attachments`` overrides ``m.attachments`` when the caller knows them."""
    if m.author_user_id:
        author = {"kind": m.author_kind, "id": m.author_user_id,
                  "name": names.get(m.author_user_id, "")}
    elif m.author_customer_id:
        author = {"kind": m.author_kind, "id": m.author_customer_id,
                  "name": m.author_customer.name}
    else:
        author = {"kind": m.author_kind, "id": None, "name": ""}
    delivery = None
    if m.delivery_status:
        delivery = {"status": m.delivery_status, "error": m.delivery_error,
                    "attempts": m.delivery_attempts, "sent_at": m.sent_at}
    meta = m.meta or {}
    files = attachments if attachments is not None else m.attachments.all()
    return {
        "id": m.pk,
        "conversation": m.conversation_id,
        "direction": m.direction,
        "author": author,
        "channel": m.channel_kind,
        "subject": m.subject,
        "text": m.text,
        "html": m.html,
        "reply_text": m.reply_text,
        "attachments": [attachment(a) for a in files],
        "delivery": delivery,
        "provider_id": m.provider_id,
        "automatic": m.automatic,
        "to": list(meta.get("to") or []),
        "cc": list(meta.get("cc") or []),
        "skipped_attachments": list(meta.get("skipped_attachments") or []),
        "created_at": m.created_at,
    }


def messages(rows: list[Message]) -> list[dict[str, Any]]:
    names = display_names(m.author_user for m in rows if m.author_user_id)
    return [message(m, names=names) for m in rows]


# --- customers ------------------------------------------------------------------------------


def customer(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "name": c.name,
        "language": c.language,
        "time_zone": c.time_zone,
        "organisation": ref(c.organisation) if c.organisation_id else None,
        "segments": list(c.segments or []),
        "attributes": c.attributes or {},
        "identities": [{"id": i.pk, "kind": i.kind, "external_id": i.external_id,
                        "verified": i.verified}
                       for i in sorted(c.identities.all(), key=lambda i: i.pk)],
        "merged_into": c.merged_into_id,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


# --- inboxes and raw inbound ----------------------------------------------------------------


def mask_secrets(value: Any, key: str = "") -> Any:
    """The config with passwords, tokens and the password inside URLs replaced by a mask."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, key) for v in value]
    if isinstance(value, str) and value:
        if _SECRET_KEY_RE.search(key):
            return MASK
        if "://" in value:
            return _mask_url_password(value)
    return value


def _mask_url_password(url: str) -> str:
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    userinfo, _at, host = parts.netloc.rpartition("@")
    username = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{username}:{MASK}@{host}"))


def inbox(i: Inbox) -> dict[str, Any]:
    return {"id": i.pk, "name": i.name, "channel_kind": i.channel_kind,
            "config": mask_secrets(i.config or {}),
            "default_team": ref(i.default_team) if i.default_team_id else None,
            "active": i.active, "created_at": i.created_at}


def raw_inbound(r: RawInbound) -> dict[str, Any]:
    return {"id": r.pk, "channel": r.channel_kind, "inbox": r.inbox_id, "source": r.source,
            "received_at": r.received_at, "size": r.size, "status": r.status,
            "error": r.error, "attempts": r.attempts, "processed_at": r.processed_at,
            "message": r.message_id}


# --- me -------------------------------------------------------------------------------------


def me(user) -> dict[str, Any]:
    agent = agent_of(user)
    return {
        "id": user.pk,
        "email": user.email,
        "name": agent.display_name if agent else user.get_full_name() or user.get_username(),
        "role": agent.role if agent else None,
        "is_supervisor": bool(user.is_superuser or (agent and agent.is_supervisor)),
        "is_admin": bool(user.is_superuser or (agent and agent.is_admin)),
        "language": agent.language if agent else "",
        "time_zone": agent.time_zone if agent else "",
        "status": agent.status if agent else None,
        "tier": agent.tier if agent else None,
        "teams": [ref(t) for t in user.teams.order_by("name")],
    }

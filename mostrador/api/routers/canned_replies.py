"""Canned replies: the shared ones and the token user's own, and one rendered for a
conversation (placeholders filled in) for a client to put in its reply box. Every agent keeps
personal replies; supervisors and administrators change the shared ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from mostrador.api.schemas import StrictIn
from mostrador.automation.canned import (
    access_canned_replies,
    access_canned_reply,
    do_create_canned_reply,
    do_delete_canned_reply,
    do_update_canned_reply,
    may_change_canned_reply,
    render_canned_reply,
)
from mostrador.automation.models import CannedReply
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import ValidationFailed

router = Router(tags=["canned replies"])

BODIES_HELP = ('{"es": "Hola {{ customer.first_name }}…", "en": "Hi {{ customer.first_name '
               '}}…"}: at least one; placeholders as in docs/automation.md')


class CannedReplyQuery(Schema):
    q: str = ""
    language: str = ""


class CannedReplyCreateIn(StrictIn):
    title: str = Field(max_length=150)
    shortcut: str = Field(default="", max_length=41, description="Typed after / to find it")
    bodies: dict[str, str] = Field(description=BODIES_HELP)
    shared: bool = Field(default=False, description="Everyone sees it (supervisors only)")


class CannedReplyPatchIn(StrictIn):
    title: str | None = Field(default=None, max_length=150)
    shortcut: str | None = Field(default=None, max_length=41)
    bodies: dict[str, str] | None = Field(
        default=None, description="The languages given replace theirs; \"\" removes one")
    shared: bool | None = None


class CannedReplyOut(Schema):
    id: int
    title: str
    shortcut: str
    bodies: dict[str, str]
    shared: bool
    owner: int | None
    editable: bool
    used_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class CannedReplyList(Schema):
    items: list[CannedReplyOut]


class RenderIn(StrictIn):
    language: str | None = Field(default=None, description="es or en; by default the "
                                 "conversation's, the customer's, then yours")


class RenderOut(Schema):
    text: str
    language: str


def _reply(reply: CannedReply, user) -> dict[str, Any]:
    return {"id": reply.pk, "title": reply.title, "shortcut": reply.shortcut,
            "bodies": dict(reply.bodies or {}), "shared": reply.owner_id is None,
            "owner": reply.owner_id, "editable": may_change_canned_reply(user, reply),
            "used_count": reply.used_count, "created_at": reply.created_at,
            "updated_at": reply.updated_at}


@router.get("/canned-replies", response=CannedReplyList)
def list_canned_replies(request: HttpRequest, query: Query[CannedReplyQuery]):
    """The shared replies and your own, by title. ``q`` searches titles, shortcuts and bodies
    (only ``language``'s body when given); ``q=/ref`` finds shortcuts starting with ref."""
    replies = access_canned_replies(request.user, q=query.q, language=query.language)
    return {"items": [_reply(reply, request.user) for reply in replies]}


@router.post("/canned-replies", response={201: CannedReplyOut})
def create_canned_reply(request: HttpRequest, payload: CannedReplyCreateIn):
    """A personal reply, or a shared one (``shared: true``, supervisors and administrators)."""
    reply = do_create_canned_reply(
        title=payload.title, bodies=payload.bodies, shortcut=payload.shortcut,
        owner=None if payload.shared else request.user, acting_user=request.user)
    return Status(201, _reply(reply, request.user))


@router.get("/canned-replies/{int:reply_id}", response=CannedReplyOut)
def get_canned_reply(request: HttpRequest, reply_id: int):
    return _reply(access_canned_reply(request.user, reply_id), request.user)


@router.patch("/canned-replies/{int:reply_id}", response=CannedReplyOut)
def update_canned_reply(request: HttpRequest, reply_id: int, payload: CannedReplyPatchIn):
    """Change what is given. ``bodies`` changes the languages it names and keeps the other;
    ``shared: false`` makes a shared reply your own."""
    sent = payload.model_fields_set
    for field in ("title", "shortcut", "bodies", "shared"):
        if field in sent and getattr(payload, field) is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    reply = access_canned_reply(request.user, reply_id)
    bodies = None
    if payload.bodies is not None:
        bodies = {**(reply.bodies or {}), **payload.bodies}
    reply = do_update_canned_reply(reply, acting_user=request.user, title=payload.title,
                                   bodies=bodies, shortcut=payload.shortcut,
                                   shared=payload.shared)
    return _reply(reply, request.user)


@router.delete("/canned-replies/{int:reply_id}", response={204: None})
def delete_canned_reply(request: HttpRequest, reply_id: int):
    do_delete_canned_reply(access_canned_reply(request.user, reply_id),
                           acting_user=request.user)
    return Status(204, None)


@router.post("/conversations/{int:conversation_id}/canned-replies/{int:reply_id}/render",
             response=RenderOut)
def render_for_conversation(request: HttpRequest, conversation_id: int, reply_id: int,
                            payload: RenderIn | None = None):
    """The reply's text for this conversation, placeholders filled in, for the agent to edit
    before sending (nothing is sent). Counts as a use of the reply."""
    conversation = access_conversation(request.user, conversation_id)
    reply = access_canned_reply(request.user, reply_id, field="reply_id")
    text, language = render_canned_reply(reply, conversation, acting_user=request.user,
                                         language=payload.language if payload else None)
    return {"text": text, "language": language}

"""Inboxes: the connected channel accounts. Secrets in their settings are never returned."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from mostrador.api import reads, render
from mostrador.api.errors import config_error
from mostrador.api.schemas import InboxCreateIn, InboxOut, InboxPage
from mostrador.channels.base import ConfigError
from mostrador.conversations.actions import do_create_inbox
from mostrador.conversations.models import Inbox
from mostrador.conversations.queries import access_inbox
from mostrador.core.errors import ValidationFailed

router = Router(tags=["inboxes"])


@router.get("/inboxes", response=InboxPage)
def list_inboxes(request: HttpRequest):
    """Every inbox (a desk has a handful), in the order they were connected."""
    rows = Inbox.objects.select_related("default_team").order_by("id")
    return {"items": [render.inbox(i) for i in rows], "next_cursor": None}


@router.get("/inboxes/{int:inbox_id}", response=InboxOut)
def get_inbox(request: HttpRequest, inbox_id: int):
    return render.inbox(access_inbox(request.user, inbox_id))


@router.post("/inboxes", response={201: InboxOut})
def create_inbox(request: HttpRequest, payload: InboxCreateIn):
    """Connect a channel account (supervisors and administrators). ``config`` is checked
    against the channel's settings; a mistake answers 400 naming the setting."""
    reads.require_supervisor(request.user)
    team = reads.team(payload.default_team, field="default_team") if payload.default_team else None
    try:
        inbox = do_create_inbox(name=payload.name, channel_kind=payload.channel_kind,
                                config=payload.config, default_team=team,
                                active=payload.active, acting_user=request.user)
    except ConfigError as exc:
        message, field = config_error(exc)
        raise ValidationFailed(message, field=field) from None
    return render.inbox(inbox)

"""Raw inbound payloads (supervisors and administrators): what arrived, exactly as it arrived,
and the quarantined ones that can be processed again after a fix."""

from __future__ import annotations

import mimetypes

from django.http import HttpRequest, HttpResponse
from ninja import Body, Router

from mostrador.api import parse, reads, render
from mostrador.api.schemas import RawInboundOut, RawInboundPage, ReprocessIn, ReprocessOut
from mostrador.channels.registry import get_adapter
from mostrador.conversations.actions import process_raw
from mostrador.conversations.queries import access_inbox

router = Router(tags=["raw inbound"])

@router.get("/raw-inbound", response=RawInboundPage)
def list_raw(request: HttpRequest, status: str | None = None, cursor: str | None = None,
             limit: int = 50):
    """Newest first; ``status=quarantined`` lists what could not be processed, with the
    error."""
    rows, next_cursor = reads.list_raw_inbound(request.user, status=status, cursor=cursor,
                                               limit=parse.page_limit(limit))
    return {"items": [render.raw_inbound(r) for r in rows], "next_cursor": next_cursor}


@router.get("/raw-inbound/{int:raw_id}", response=RawInboundOut)
def get_raw(request: HttpRequest, raw_id: int):
    return render.raw_inbound(reads.access_raw_inbound(request.user, raw_id))


@router.get("/raw-inbound/{int:raw_id}/payload", response={200: None})
def raw_payload(request: HttpRequest, raw_id: int):
    """The bytes exactly as received (``message/rfc822`` for mail)."""
    raw = reads.access_raw_inbound(request.user, raw_id, with_payload=True)
    content_type = _payload_type(raw.channel_kind)
    extension = mimetypes.guess_extension(content_type) or ".bin"
    response = HttpResponse(bytes(raw.payload), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="raw-{raw.pk}{extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post("/raw-inbound/{int:raw_id}/reprocess", response=ReprocessOut)
def reprocess_raw(request: HttpRequest, raw_id: int, payload: ReprocessIn = Body(None)):  # noqa: B008
    """Process a payload again (after fixing what quarantined it); ``inbox`` receives it on
    another inbox. A payload already processed answers ``duplicate``."""
    raw = reads.access_raw_inbound(request.user, raw_id, with_payload=True)
    if payload is not None and payload.inbox is not None:
        raw.inbox = access_inbox(request.user, payload.inbox)
    result = process_raw(raw)
    raw = reads.access_raw_inbound(request.user, raw_id)
    return {"outcome": result.outcome, "reason": result.reason,
            "conversation": result.conversation.pk if result.conversation else None,
            "message": result.message.pk if result.message else None,
            "raw": render.raw_inbound(raw)}


def _payload_type(channel_kind: str) -> str:
    try:
        adapter = get_adapter(channel_kind)
    except LookupError:
        return "application/octet-stream"
    return adapter.raw_content_type

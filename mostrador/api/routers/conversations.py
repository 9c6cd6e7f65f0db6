"""Conversations: the keyset list with its filters, create, read, change, tag, merge, and the
timeline."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from mostrador.api import parse, reads, render
from mostrador.api.errors import renamed_fields
from mostrador.api.schemas import (
    ConversationCreateIn,
    ConversationOut,
    ConversationPage,
    ConversationPatchIn,
    EventPage,
    MergeIn,
    TagsIn,
)
from mostrador.conversations.actions import (
    do_add_tags,
    do_assign,
    do_change_priority,
    do_change_status,
    do_change_subject,
    do_create_conversation,
    do_merge_conversations,
    do_remove_tags,
    do_set_custom_fields,
    do_set_team,
    normalise_tag,
)
from mostrador.conversations.queries import (
    ConversationFilters,
    access_conversation,
    access_inbox,
    list_conversations,
)
from mostrador.core.errors import ValidationFailed
from mostrador.customers.actions import resolve_identity
from mostrador.customers.models import Identity

router = Router(tags=["conversations"])


class ConversationQuery(Schema):
    status: list[str] = []
    assignee: str | None = None
    team: int | None = None
    inbox: int | None = None
    customer: int | None = None
    tag: str | None = None
    priority: int | None = None
    q: str = ""
    updated_since: str | None = None
    order: str = "-last_activity"
    cursor: str | None = None
    limit: int = 50


def _filters(request: HttpRequest, query: ConversationQuery) -> ConversationFilters:
    filters = ConversationFilters(
        status=parse.split_values(query.status), team=query.team, inbox=query.inbox,
        customer=query.customer, tag=query.tag, priority=query.priority, q=query.q,
        order=query.order,
    )
    if query.assignee in {"none", "null"}:
        filters.unassigned = True
    elif query.assignee == "me":
        filters.assignee = request.user.pk
    elif query.assignee:
        if not query.assignee.isdigit():
            raise ValidationFailed(_("assignee must be a user id, \"me\" or \"none\"."),
                                   field="assignee")
        filters.assignee = int(query.assignee)
    if query.updated_since:
        filters.updated_since = parse.moment(query.updated_since, field="updated_since")
    return filters


@router.get("/conversations", response=ConversationPage)
def list_conversations_view(request: HttpRequest, query: Query[ConversationQuery]):
    """A page of conversations; follow ``next_cursor`` for the next one (null on the last).

    ``order``: ``-last_activity`` (default), ``last_activity``, ``-created``, ``created``,
    ``updated`` (oldest change first: with ``updated_since`` it suits incremental sync),
    ``-updated``."""
    page = list_conversations(request.user, _filters(request, query), cursor=query.cursor,
                              limit=parse.page_limit(query.limit))
    return {"items": render.conversations(page.items), "next_cursor": page.next_cursor}


@router.post("/conversations", response={201: ConversationOut})
def create_conversation(request: HttpRequest, payload: ConversationCreateIn):
    """Open a conversation with the customer's first message: give ``customer`` (an id) or
    ``customer_email`` (found, or created with ``customer_name``)."""
    inbox = access_inbox(request.user, payload.inbox)
    if (payload.customer is None) == (payload.customer_email is None):
        raise ValidationFailed(_("Give either customer (an id) or customer_email."),
                               field="customer")
    tags = sorted({normalise_tag(t) for t in payload.tags})
    if payload.customer is not None:
        customer = reads.access_customer(request.user, payload.customer, field="customer",
                                         detailed=False)
        conversation = _create(request, payload, inbox, customer, tags)
    else:
        # A customer created for the address is kept only if the conversation is.
        with transaction.atomic():
            customer, _created = resolve_identity(Identity.Kind.EMAIL,
                                                  payload.customer_email or "",
                                                  name=payload.customer_name)
            conversation = _create(request, payload, inbox, customer, tags)
    # Everything shown is already in memory: no re-read.
    return render.conversation(conversation, names={}, tags=tags)


def _create(request: HttpRequest, payload: ConversationCreateIn, inbox, customer,
            tags: list[str]):
    return do_create_conversation(
        inbox=inbox, customer=customer, subject=payload.subject, text=payload.text,
        priority=payload.priority, tags=tags, custom_fields=payload.custom_fields,
        acting_user=request.user)


def _conversation_out(request: HttpRequest, conversation_id: int) -> dict:
    conversation = access_conversation(request.user, conversation_id)
    names = reads.display_names([conversation.assignee] if conversation.assignee_id else [])
    return render.conversation(conversation, names=names)


@router.get("/conversations/{int:conversation_id}", response=ConversationOut)
def get_conversation(request: HttpRequest, conversation_id: int):
    return _conversation_out(request, conversation_id)


@router.patch("/conversations/{int:conversation_id}", response=ConversationOut)
def update_conversation(request: HttpRequest, conversation_id: int,
                        payload: ConversationPatchIn):
    """Change what is given; each change is its own timeline event. All or nothing: when one
    change is refused, none is made. Status is set last, so an explicit status wins over the
    automatic new → open of an assignment."""
    sent = payload.model_fields_set
    user = request.user
    for field in ("status", "priority", "subject", "custom_fields"):
        if field in sent and getattr(payload, field) is None:
            raise ValidationFailed(_("%(field)s cannot be null.") % {"field": field},
                                   field=field)
    with transaction.atomic():
        conversation = access_conversation(user, conversation_id)
        if payload.subject is not None:
            do_change_subject(conversation, payload.subject, acting_user=user)
        if payload.priority is not None:
            do_change_priority(conversation, payload.priority, acting_user=user)
        if "team" in sent:
            team = reads.team(payload.team, field="team") if payload.team else None
            do_set_team(conversation, team, acting_user=user)
        if "assignee" in sent:
            assignee = None
            if payload.assignee == "me":
                assignee = user
            elif payload.assignee is not None:
                assignee = reads.agent_user(payload.assignee, field="assignee")
            do_assign(conversation, assignee, acting_user=user)
        if payload.custom_fields is not None:
            do_set_custom_fields(conversation, payload.custom_fields, acting_user=user)
        if payload.status is not None:
            do_change_status(conversation, payload.status, acting_user=user)
    return _conversation_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/tags", response=ConversationOut)
def add_tags(request: HttpRequest, conversation_id: int, payload: TagsIn):
    conversation = access_conversation(request.user, conversation_id)
    do_add_tags(conversation, payload.tags, acting_user=request.user)
    return _conversation_out(request, conversation_id)


@router.delete("/conversations/{int:conversation_id}/tags/{tag}", response=ConversationOut)
def remove_tag(request: HttpRequest, conversation_id: int, tag: str):
    """Removing a tag the conversation does not have changes nothing."""
    conversation = access_conversation(request.user, conversation_id)
    do_remove_tags(conversation, [tag], acting_user=request.user)
    return _conversation_out(request, conversation_id)


@router.post("/conversations/{int:conversation_id}/merge", response=ConversationOut)
def merge_conversation(request: HttpRequest, conversation_id: int, payload: MergeIn):
    """Move this conversation's messages into ``into`` (same customer); this one is closed and
    points there. The answer is the conversation merged into."""
    source = access_conversation(request.user, conversation_id)
    with renamed_fields({"id": "into"}):
        target = access_conversation(request.user, payload.into)
    with renamed_fields({"target": "into"}):
        merged = do_merge_conversations(source, target, acting_user=request.user)
    return _conversation_out(request, merged.pk)


@router.get("/conversations/{int:conversation_id}/events", response=EventPage)
def list_events(request: HttpRequest, conversation_id: int, cursor: str | None = None,
                limit: int = 200):
    """The timeline, oldest first: who changed what, with the values before and after."""
    conversation = access_conversation(request.user, conversation_id)
    rows, next_cursor = reads.conversation_events(conversation, cursor=cursor,
                                                  limit=parse.page_limit(limit))
    return {"items": [render.event(e) for e in rows], "next_cursor": next_cursor}

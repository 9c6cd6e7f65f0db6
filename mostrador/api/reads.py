"""Reads the API needs that the apps' query modules do not offer (yet): events, messages
by id, attachments, raw inbound payloads, and the agents and teams a change names.

They follow the ``access_*`` rule: a missing object and one the user may not see get the same
NotFound. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from mostrador.accounts.models import Agent, Team
from mostrador.conversations.models import Attachment, Conversation, Event, Message, RawInbound
from mostrador.conversations.queries import access_conversation
from mostrador.core.errors import NotFound, PermissionDenied, ValidationFailed
from mostrador.customers.models import Organisation
from mostrador.customers.queries import (  # noqa: F401 - re-exported for the routers
    access_customer,
    decode_id_cursor,
    encode_id_cursor,
    list_customers,
    visible_customers,
)

# --- paging by id ---------------------------------------------------------------------------


def page_by_id(queryset: QuerySet, kind: str, cursor: str | None, limit: int, *,
               descending: bool = True) -> tuple[list, str | None]:
    """One keyset page ordered by id; the cursor is the last id of the previous page."""
    if cursor:
        after = decode_id_cursor(cursor, kind)
        queryset = queryset.filter(pk__lt=after) if descending else queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("-pk" if descending else "pk")[:limit + 1])
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_id_cursor(kind, rows[-1].pk)
    return rows, None


# --- people ---------------------------------------------------------------------------------


def agent_of(user) -> Agent | None:
    return getattr(user, "agent", None) if user is not None else None


def require_supervisor(user) -> None:
    agent = agent_of(user)
    if not (user.is_superuser or (agent is not None and agent.is_supervisor)):
        raise PermissionDenied(_("Only supervisors and administrators may do this."))


def display_names(users: Iterable) -> dict[int, str]:
    """Names to show for ``users`` (agent display names), in at most one query: profiles
    already loaded with ``select_related`` are used as they are."""
    User = get_user_model()
    names: dict[int, str] = {}
    missing: dict[int, object] = {}
    for user in users:
        if user is None or user.pk in names:
            continue
        if User.agent.is_cached(user):
            agent = agent_of(user)
            names[user.pk] = agent.display_name if agent else _fallback_name(user)
        else:
            missing[user.pk] = user
    if missing:
        found = dict(Agent.objects.filter(user_id__in=missing)
                     .values_list("user_id", "display_name"))
        for pk, user in missing.items():
            names[pk] = found.get(pk) or _fallback_name(user)
    return names


def _fallback_name(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


def agent_user(user_id: int, *, field: str):
    """An active user with an agent profile, for assigning."""
    user = (get_user_model().objects.select_related("agent")
            .filter(pk=user_id, is_active=True, agent__isnull=False).first())
    if user is None:
        raise ValidationFailed(_("There is no active agent with id %(id)s.") % {"id": user_id},
                               field=field)
    return user


def team(team_id: int, *, field: str) -> Team:
    found = Team.objects.filter(pk=team_id).first()
    if found is None:
        raise ValidationFailed(_("There is no team with id %(id)s.") % {"id": team_id},
                               field=field)
    return found


def organisation(organisation_id: int, *, field: str = "organisation") -> Organisation:
    found = Organisation.objects.filter(pk=organisation_id).first()
    if found is None:
        raise ValidationFailed(_("There is no organisation with id %(id)s.")
                               % {"id": organisation_id}, field=field)
    return found


# --- customers ------------------------------------------------------------------------------
# ``access_customer``, ``list_customers`` and ``visible_customers`` live in
# ``mostrador.customers.queries`` (the workspace reads them too) and are re-exported here.

# --- conversations --------------------------------------------------------------------------


def conversation_events(conversation: Conversation, *, cursor: str | None = None,
                        limit: int = 200) -> tuple[list[Event], str | None]:
    """The timeline, oldest first."""
    queryset = conversation.events.select_related("actor_user__agent", "actor_customer")
    return page_by_id(queryset, "event", cursor, limit, descending=False)


def access_message(conversation: Conversation, message_id: int) -> Message:
    message = (Message.objects.select_related("author_user__agent", "author_customer")
               .filter(pk=message_id, conversation=conversation).first())
    if message is None:
        raise NotFound(_("Message %(id)s not found in this conversation.") % {"id": message_id},
                       field="message")
    return message


def access_attachment(user, attachment_id: int) -> Attachment:
    attachment = (Attachment.objects.select_related("message")
                  .filter(pk=attachment_id).first())
    not_found = NotFound(_("Attachment %(id)s not found.") % {"id": attachment_id}, field="id")
    if attachment is None:
        raise not_found
    try:
        access_conversation(user, attachment.message.conversation_id)
    except NotFound:
        raise not_found from None
    return attachment


# --- raw inbound ----------------------------------------------------------------------------


def list_raw_inbound(user, *, status: str | None = None, cursor: str | None = None,
                     limit: int = 50) -> tuple[list[RawInbound], str | None]:
    require_supervisor(user)
    queryset = RawInbound.objects.defer("payload")
    if status:
        if status not in RawInbound.Status.values:
            raise ValidationFailed(_("Unknown status %(status)s; use one of %(choices)s.")
                                   % {"status": status,
                                      "choices": ", ".join(RawInbound.Status.values)},
                                   field="status")
        queryset = queryset.filter(status=status)
    return page_by_id(queryset, "raw", cursor, limit)


def access_raw_inbound(user, raw_id: int, *, with_payload: bool = False) -> RawInbound:
    require_supervisor(user)
    queryset = RawInbound.objects.all() if with_payload else RawInbound.objects.defer("payload")
    raw = queryset.filter(pk=raw_id).first()
    if raw is None:
        raise NotFound(_("Raw inbound payload %(id)s not found.") % {"id": raw_id}, field="id")
    return raw

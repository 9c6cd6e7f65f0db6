"""What the REST API reads and writes: request bodies (``…In``) and responses (``…Out``).

Bodies forbid unknown fields, so a typo in a field name is a 400 naming it instead of a change
silently not made. Responses are documented here and built by :mod:`mostrador.api.render`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


# --- shared ---------------------------------------------------------------------------------


class ErrorOut(Schema):
    detail: str
    field: str | None = None


class Ref(Schema):
    id: int
    name: str


class MergeIn(StrictIn):
    into: int


# --- customers ------------------------------------------------------------------------------


class IdentityIn(StrictIn):
    kind: str = Field(description="email, phone, webchat, telegram, whatsapp or social")
    external_id: str = Field(max_length=320)
    verified: bool = False


class IdentityOut(Schema):
    id: int
    kind: str
    external_id: str
    verified: bool


class CustomerCreateIn(StrictIn):
    name: str = Field(default="", max_length=200)
    language: str = Field(default="", max_length=10)
    time_zone: str = Field(default="", max_length=64)
    organisation: int | None = None
    segments: list[str] = []
    attributes: dict[str, Any] = {}
    identities: list[IdentityIn] = []


class CustomerPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=10)
    time_zone: str | None = Field(default=None, max_length=64)
    organisation: int | None = None
    segments: list[str] | None = None
    attributes: dict[str, Any] | None = None


class CustomerOut(Schema):
    id: int
    name: str
    language: str
    time_zone: str
    organisation: Ref | None
    segments: list[str]
    attributes: dict[str, Any]
    identities: list[IdentityOut]
    merged_into: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


# --- inboxes --------------------------------------------------------------------------------


class InboxCreateIn(StrictIn):
    name: str = Field(min_length=1, max_length=150)
    channel_kind: str = Field(max_length=30)
    config: dict[str, Any] = {}
    default_team: int | None = None
    active: bool = True


class InboxOut(Schema):
    id: int
    name: str
    channel_kind: str
    config: dict[str, Any] = Field(description="the channel settings; secrets are masked")
    default_team: Ref | None
    active: bool
    created_at: dt.datetime


class InboxPage(Schema):
    items: list[InboxOut]
    next_cursor: str | None


# --- conversations --------------------------------------------------------------------------


class ConversationCreateIn(StrictIn):
    inbox: int
    customer: int | None = Field(default=None, description="a customer id, or give "
                                                           "customer_email instead")
    customer_email: str | None = Field(default=None, max_length=320)
    customer_name: str = Field(default="", max_length=200)
    subject: str = Field(default="", max_length=500)
    text: str
    priority: int | None = Field(default=None, ge=1, le=4)
    tags: list[str] = []
    custom_fields: dict[str, Any] = {}

    @field_validator("customer_email")
    @classmethod
    def _check_email(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(f"{value!r} is not an e-mail address") from None
        return value


class ConversationPatchIn(StrictIn):
    status: str | None = None
    priority: int | None = Field(default=None, ge=1, le=4)
    assignee: int | Literal["me"] | None = Field(
        default=None, description="a user id, \"me\", or null to unassign")
    team: int | None = Field(default=None, description="a team id, or null")
    subject: str | None = Field(default=None, max_length=500)
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="merged into the current fields; a null value removes a key")


class TagsIn(StrictIn):
    tags: list[str] = Field(min_length=1)


class ConversationOut(Schema):
    id: int
    number: int
    subject: str
    status: str
    priority: int
    channel: str
    inbox: Ref
    customer: Ref
    assignee: Ref | None
    team: Ref | None
    tags: list[str]
    custom_fields: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    last_activity_at: dt.datetime
    waiting_since: dt.datetime | None
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    follow_up_of: int | None
    merged_into: int | None
    message_count: int


class ConversationPage(Schema):
    items: list[ConversationOut]
    next_cursor: str | None


class Actor(Schema):
    kind: str = Field(description="agent, customer, bot or system")
    id: int | None
    name: str


class EventOut(Schema):
    id: int
    kind: str
    actor: Actor
    before: Any
    after: Any
    at: dt.datetime
    message: int | None


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


# --- messages -------------------------------------------------------------------------------


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str


class DeliveryOut(Schema):
    status: str = Field(description="queued, sending, sent or failed")
    error: str
    attempts: int
    sent_at: dt.datetime | None


class SkippedAttachmentOut(Schema):
    filename: str
    content_type: str
    size: int
    reason: str


class MessageOut(Schema):
    id: int
    conversation: int
    direction: str = Field(description="inbound, outbound or note")
    author: Actor
    channel: str
    subject: str
    text: str
    html: str
    reply_text: str = Field(description="what the author wrote this time: quoted history and "
                                        "signature folded away")
    attachments: list[AttachmentOut]
    delivery: DeliveryOut | None = Field(description="null for messages that are not sent: "
                                                     "inbound messages and notes")
    provider_id: str
    automatic: bool
    to: list[str]
    cc: list[str]
    skipped_attachments: list[SkippedAttachmentOut]
    created_at: dt.datetime


class MessagePage(Schema):
    items: list[MessageOut]
    next_cursor: str | None


class ReplyIn(StrictIn):
    text: str
    html: str = ""
    channel: str | None = Field(default=None, description="defaults to the channel the "
                                                          "customer used last")
    status: str | None = Field(default=None, description="the status to set after replying")


class NoteIn(StrictIn):
    text: str


# --- raw inbound ----------------------------------------------------------------------------


class RawInboundOut(Schema):
    id: int
    channel: str
    inbox: int | None
    source: str
    received_at: dt.datetime
    size: int
    status: str
    error: str
    attempts: int
    processed_at: dt.datetime | None
    message: int | None


class RawInboundPage(Schema):
    items: list[RawInboundOut]
    next_cursor: str | None


class ReprocessIn(StrictIn):
    inbox: int | None = Field(default=None, description="the inbox to receive it on; by "
                                                        "default the one it was stored for, or "
                                                        "the one its addresses route to")


class ReprocessOut(Schema):
    outcome: str = Field(description="created, threaded, duplicate, ignored, bounced or "
                                     "quarantined")
    reason: str
    conversation: int | None
    message: int | None
    raw: RawInboundOut


# --- me -------------------------------------------------------------------------------------


class MeOut(Schema):
    id: int
    email: str
    name: str
    role: str | None
    is_supervisor: bool
    is_admin: bool
    language: str
    time_zone: str
    status: str | None
    tier: int | None
    teams: list[Ref]

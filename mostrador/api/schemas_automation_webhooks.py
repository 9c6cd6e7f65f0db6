"""What the webhook endpoints read and write: subscriptions (the secret in full only when it is
made) and their delivery log. Bodies forbid unknown fields, as in :mod:`mostrador.api.schemas`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field

from mostrador.api.schemas import StrictIn

EVENT_TYPES_HELP = ("event kinds to receive, e.g. [\"conversation.created\", "
                    "\"status.changed\"], or [\"*\"] for all; see docs/webhooks.md")


class WebhookCreateIn(StrictIn):
    name: str = Field(max_length=150)
    url: str = Field(max_length=1000, description="http:// or https:// address of the receiver")
    event_types: list[str] = Field(description=EVENT_TYPES_HELP)
    active: bool = True


class WebhookPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=150)
    url: str | None = Field(default=None, max_length=1000)
    event_types: list[str] | None = Field(default=None, description=EVENT_TYPES_HELP)
    active: bool | None = Field(default=None, description="true turns a webhook that was "
                                                          "turned off back on")


class WebhookOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    active: bool
    secret_prefix: str = Field(description="the secret's first characters, to tell it apart")
    consecutive_failures: int
    disabled_at: dt.datetime | None = Field(description="when it was turned off for failing")
    disabled_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(description="the signing secret in full: shown only now")


class WebhookPage(Schema):
    items: list[WebhookOut]
    next_cursor: str | None


class SecretOut(Schema):
    secret: str = Field(description="the new signing secret in full: shown only now")
    secret_prefix: str


class AttemptOut(Schema):
    at: dt.datetime
    response_code: int | None
    error: str
    duration_ms: int


class DeliveryOut(Schema):
    id: int
    uid: str = Field(description="sent as X-Mostrador-Delivery; the same on every attempt")
    webhook: int
    event_type: str
    status: str = Field(description="pending, sending, delivered, retrying or failed")
    attempts: int
    next_attempt_at: dt.datetime | None
    response_code: int | None
    response_body: str = Field(description="the start of the receiver's last answer")
    error: str
    duration_ms: int | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    payload: dict[str, Any] = Field(description="the JSON document posted")
    attempt_log: list[AttemptOut] | None = Field(
        default=None, description="every attempt, oldest first (in the delivery log)")


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None

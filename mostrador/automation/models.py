"""Triggers, time rules, macros, canned replies and outbound webhooks.

Conditions and actions are stored as JSON in one shape shared by triggers, time rules and
macros; ``automation.rules`` parses them into typed objects (and refuses what it does not
understand) before anything is saved or run.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Trigger(models.Model):
    """On a conversation event, if the conditions hold, run the actions (in ``position``
    order, each trigger at most once per change)."""

    class On(models.TextChoices):
        CREATED = "conversation.created", _("Conversation created")
        MESSAGE = "message.received", _("Customer message received")
        UPDATED = "conversation.updated", _("Conversation updated")

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    # Which of On's events wake it up.
    events = models.JSONField(default=list)
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TimeRule(models.Model):
    """When a conversation has been in ``status`` for ``hours`` (and the conditions hold), run
    the actions, once per stay in that status.

    The periodic task reads only conversations whose stay crossed the threshold since the last
    run (``checked_until``), through the (status, status_since) index."""

    name = models.CharField(max_length=150)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10)
    hours = models.PositiveIntegerField()
    conditions = models.JSONField(default=dict, blank=True)
    actions = models.JSONField(default=list)
    # Conversations whose stay began at or before this moment have been looked at.
    checked_until = models.DateTimeField(null=True, blank=True)
    fired_count = models.PositiveIntegerField(default=0)
    last_fired_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TimeRuleFiring(models.Model):
    """One firing of a time rule for one stay (``anchor`` = when the stay began): the unique
    constraint is what makes a rule fire exactly once, however many workers run it."""

    rule = models.ForeignKey(TimeRule, on_delete=models.CASCADE, related_name="firings")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="+")
    anchor = models.DateTimeField()
    fired_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "conversation", "anchor"],
                                    name="time_rule_firing_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} on #{self.conversation_id} at {self.fired_at:%Y-%m-%d %H:%M}"


class Macro(models.Model):
    """A named bundle of actions an agent applies to a conversation in one click."""

    name = models.CharField(max_length=150)
    description = models.TextField(blank=True, default="")
    actions = models.JSONField(default=list)
    # Null: shared with everyone; otherwise only its owner sees it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="macros")
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    used_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name", "id"]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A reply text with placeholders, one body per language, inserted into the reply box."""

    title = models.CharField(max_length=150)
    # Typed after "/" in the reply box to find it.
    shortcut = models.CharField(max_length=40, blank=True, default="")
    # {"es": "Hola {{ customer.first_name }}…", "en": "Hi {{ customer.first_name }}…"}
    bodies = models.JSONField(default=dict)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="canned_replies")
    used_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.title


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=150)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    # Event kinds ("conversation.created", "message.received", "status.changed"…) or ["*"].
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        RETRYING = "retrying", _("Failed, will retry")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    # The receiver's idempotency key: the same on every attempt.
    uid = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["subscription", "created_at", "id"],
                         name="webhook_delivery_log_idx"),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                         condition=Q(status__in=["pending", "retrying", "sending"])),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.subscription_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the log shows every try, not only the last."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE,
                                 related_name="attempt_log")
    at = models.DateTimeField()
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"attempt of {self.delivery_id}: {self.response_code or self.error[:40]}"

"""Calendars, SLA policies and the targets each conversation runs against.

A ``Target`` keeps its clock as a *budget*: the business time still left, counted from an
anchor moment. Pausing spends the budget up to the pause and drops the anchor; resuming sets a
new anchor; moving to another calendar spends the budget under the old calendar and re-anchors
under the new one; a policy change adds the difference between the old and new target. The due
time is always ``calendar.add(anchor, budget)``, so every change is exact and local to one row.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Calendar(models.Model):
    """Opening hours in one time zone, with a country's public holidays and the desk's own
    closed days and special hours. Inboxes (channels) and teams point at one."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Madrid")
    # {"mon": [["09:00", "14:00"], ["15:00", "18:00"]], ...}; a missing day is closed.
    weekly = models.JSONField(default=dict, blank=True)
    # Public holidays from the `holidays` package: ISO country code and optional subdivision.
    country = models.CharField(max_length=8, blank=True, default="")
    subdivision = models.CharField(max_length=16, blank=True, default="")
    # The desk-wide fallback for conversations whose team and inbox name no calendar.
    is_default = models.BooleanField(default=False)
    # Outside these hours a customer who writes to a channel using this calendar is told, in
    # their language, when a person will answer.
    after_hours_reply = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="calendar_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """A date that does not follow the weekly hours: closed all day, or open special hours."""

    class Kind(models.TextChoices):
        CLOSED = "closed", _("Closed")
        SPECIAL = "special", _("Special hours")

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CLOSED)
    periods = models.JSONField(default=list, blank=True)
    name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.calendar} {self.date} {self.kind}"


class Policy(models.Model):
    """Targets for the conversations it matches. Policies are tried in ``position`` order and
    the first whose every non-empty condition matches applies."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    # Conditions; an empty list matches anything.
    channels = models.JSONField(default=list, blank=True)
    request_types = models.JSONField(default=list, blank=True)
    priorities = models.JSONField(default=list, blank=True)
    segments = models.JSONField(default=list, blank=True)
    organisations = models.ManyToManyField("customers.Organisation", blank=True,
                                           related_name="sla_policies")
    # Targets in minutes; null means no target of that kind.
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    # Count the targets in the calendar's opening hours (True) or around the clock (False).
    business_hours = models.BooleanField(default=True)
    # A legal deadline: the answer is due at the close of the Nth business day counted from
    # the day after receipt, under ``legal_calendar`` (a national calendar).
    legal_days = models.PositiveSmallIntegerField(null=True, blank=True)
    legal_calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="legal_policies")
    # Overrides the team's or the inbox's calendar for this policy's targets.
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="policies")
    pause_when_pending = models.BooleanField(default=True)
    warn_percent = models.PositiveSmallIntegerField(default=75)
    # What happens at breach.
    escalate_priority = models.BooleanField(default=True)
    escalate_tier = models.BooleanField(default=False)
    escalate_team = models.ForeignKey("accounts.Team", null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="+")
    notify_supervisors = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def target_minutes(self) -> dict[str, int]:
        """The timed targets this policy sets, by kind."""
        pairs = ((Target.Kind.FIRST_RESPONSE, self.first_response_minutes),
                 (Target.Kind.NEXT_RESPONSE, self.next_response_minutes),
                 (Target.Kind.RESOLUTION, self.resolution_minutes))
        return {kind: minutes for kind, minutes in pairs if minutes}


class Target(models.Model):
    """One promise on one conversation (at most one of each kind)."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")
        LEGAL = "legal", _("Legal deadline")

    class State(models.TextChoices):
        ACTIVE = "active", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        CANCELLED = "cancelled", _("No longer applies")

    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="sla_targets")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    policy = models.ForeignKey(Policy, null=True, on_delete=models.SET_NULL, related_name="+")
    calendar = models.ForeignKey(Calendar, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    business_hours = models.BooleanField(default=True)
    target_seconds = models.PositiveIntegerField(default=0)
    warn_percent = models.PositiveSmallIntegerField(default=75)
    # When this promise started (the conversation's creation, or the customer message that a
    # next response answers).
    started_at = models.DateTimeField()
    # The clock: business time left (microseconds) counted from ``anchor_at``; no anchor while
    # paused. Negative once breached.
    anchor_at = models.DateTimeField(null=True, blank=True)
    budget_us = models.BigIntegerField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "kind"], name="sla_target_unique"),
        ]
        indexes = [
            # The sweep reads only these: running targets whose warning or breach is still to
            # come, by the moment it falls due.
            models.Index(fields=["warn_at"], name="sla_warn_idx",
                         condition=Q(state="active", warned_at__isnull=True,
                                     warn_at__isnull=False)),
            models.Index(fields=["due_at"], name="sla_due_idx",
                         condition=Q(state="active", breached_at__isnull=True,
                                     due_at__isnull=False)),
            models.Index(fields=["policy", "state"], name="sla_policy_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.kind} due {self.due_at}"

    @property
    def is_running(self) -> bool:
        return self.state == self.State.ACTIVE

    def health(self, now: dt.datetime) -> str:
        """on_track, at_risk, breached, paused or met, as shown to agents."""
        if self.state == self.State.MET:
            return "met_late" if self.breached_at else "met"
        if self.state == self.State.PAUSED:
            return "paused"
        if self.breached_at or (self.due_at and self.due_at <= now):
            return "breached"
        if self.warned_at or (self.warn_at and self.warn_at <= now):
            return "at_risk"
        return "on_track"

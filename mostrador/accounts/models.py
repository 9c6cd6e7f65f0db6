"""Agents (a profile on Django's user), teams and API tokens."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Agent(models.Model):
    class Role(models.TextChoices):
        AGENT = "agent", _("Agent")
        SUPERVISOR = "supervisor", _("Supervisor")
        ADMIN = "admin", _("Administrator")

    class Status(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="agent")
    display_name = models.CharField(max_length=150)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.AGENT)
    language = models.CharField(max_length=10, blank=True, default="")
    time_zone = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OFFLINE)
    tier = models.PositiveSmallIntegerField(default=1)
    # Concurrent conversations per channel kind, e.g. {"email": 20, "webchat": 3}.
    capacity = models.JSONField(default=dict, blank=True)
    # Tagged strings: "language:es", "product:billing", "channel:webchat".
    skills = models.JSONField(default=list, blank=True)
    # When routing last gave this agent a conversation (round robin serves the longest idle).
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.display_name

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN or self.user.is_superuser

    @property
    def is_supervisor(self) -> bool:
        return self.role in {self.Role.SUPERVISOR, self.Role.ADMIN} or self.user.is_superuser


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="led_teams")
    tier = models.PositiveSmallIntegerField(default=1)
    # The next rung of the ladder: where an escalation from this team goes (L1 → L2 → L3).
    # Without it, escalation goes to the desk's team of the next tier.
    escalates_to = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="escalated_from")
    # The team's working hours; wins over the inbox's calendar for its conversations' SLAs.
    calendar = models.ForeignKey("sla.Calendar", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="teams")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

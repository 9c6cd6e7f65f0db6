"""How conversations find their agent: an assignment rule per team (or per inbox for
conversations without a team). Tiers, skills, capacity and status live on the agent and the team
(``accounts``); the escalation ladder is ``Team.escalates_to``."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AssignmentRule(models.Model):
    class Strategy(models.TextChoices):
        MANUAL = "manual", _("Manual")
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_LOADED = "least_loaded", _("Least loaded")
        SKILLS = "skills", _("Skills match")

    team = models.OneToOneField("accounts.Team", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="assignment_rule")
    inbox = models.OneToOneField("conversations.Inbox", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="assignment_rule")
    strategy = models.CharField(max_length=20, choices=Strategy.choices,
                                default=Strategy.MANUAL)
    # Customers in any of these segments are served before everyone else in the queue.
    premium_segments = models.JSONField(default=list, blank=True)
    # Give work to agents who are away as well as to those online.
    include_away = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False, inbox__isnull=True)
                           | Q(team__isnull=True, inbox__isnull=False)),
                name="assignment_rule_one_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.get_strategy_display()} for {self.team or self.inbox}"

    @property
    def automatic(self) -> bool:
        return self.strategy != self.Strategy.MANUAL

"""The answer bot's settings per inbox and the questions it could not answer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class BotSettings(models.Model):
    """How the bot behaves on one inbox; an inbox without a row has the bot off."""

    inbox = models.OneToOneField("conversations.Inbox", on_delete=models.CASCADE,
                                 related_name="bot_settings")
    enabled = models.BooleanField(default=False)
    # Confidence (0-1) below which the bot hands over instead of answering; None: the
    # calibrated default (``answer.DEFAULT_THRESHOLD``).
    threshold = models.FloatField(null=True, blank=True)
    # {"es": "...", "en": "..."}: put before an answer; empty for none.
    greeting = models.JSONField(default=dict, blank=True)
    # The languages the bot answers in; a customer writing in another goes to a person.
    languages = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "bot settings"

    def __str__(self) -> str:
        return f"bot on inbox {self.inbox_id}: {'on' if self.enabled else 'off'}"


class UnansweredQuestion(models.Model):
    """A customer's question the bot could not answer, or whose answer did not help: for
    supervisors, as candidates for new or better articles."""

    class Reason(models.TextChoices):
        LOW_CONFIDENCE = "low_confidence", _("No article was close enough")
        NO_ARTICLES = "no_articles", _("No article matched")
        NOT_HELPFUL = "not_helpful", _("The answer did not help")
        ASKED_FOR_HUMAN = "asked_for_human", _("The customer asked for a person")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Dismissed")
        DRAFTED = "drafted", _("Article drafted")

    text = models.TextField()
    language = models.CharField(max_length=5, blank=True)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    confidence = models.FloatField(null=True, blank=True)
    # The best article the bot found (answered and not helpful, or below the threshold).
    article = models.ForeignKey("knowledge.Article", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    inbox = models.ForeignKey("conversations.Inbox", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    # Where it came from: "conversation", "help_center", "api".
    source = models.CharField(max_length=20)
    draft = models.ForeignKey("knowledge.Article", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-created_at"], name="bot_unanswered_open")]

    def __str__(self) -> str:
        return self.text[:60]

"""What each agent keeps of the inbox for themselves: saved views and what they have read."""

from __future__ import annotations

from django.conf import settings
from django.db import models

# Filter keys a saved view may hold; the same names as the inbox's query parameters.
SAVED_VIEW_KEYS = frozenset({"status", "priority", "inbox", "assignee", "team", "tag",
                             "customer", "q", "order"})
MAX_SAVED_VIEWS = 50


class SavedView(models.Model):
    """A named set of inbox filters that one agent keeps as a tab of their own."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="saved_views")
    name = models.CharField(max_length=80)
    # {"status": ["open"], "assignee": "me", "tag": "vip", "order": "waiting"…}: values as
    # the inbox's query string carries them, so "me" and "mine" follow whoever uses the view.
    filters = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_unique_name"),
        ]
        indexes = [models.Index(fields=["user", "position"], name="saved_view_user_idx")]

    def __str__(self) -> str:
        return self.name


class ConversationRead(models.Model):
    """When ``user`` last read ``conversation``. A conversation is unread for a user when its
    last activity is later than this, or when there is no row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.CASCADE,
                                     related_name="reads")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "conversation"],
                                    name="conversation_read_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.conversation_id} read by {self.user_id}"

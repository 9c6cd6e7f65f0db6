"""A chat visitor (one browser) and the chat's read marks (one per conversation)."""

from __future__ import annotations

from django.db import models


class Visitor(models.Model):
    """One browser talking to one chat inbox. Its secret token (kept in the browser's
    localStorage) is stored only as a SHA-256 digest. ``sender_id`` is the identity the desk
    knows the person by (``Identity(kind="webchat")``); a second device reached by a magic link
    is a new visitor row with the same ``sender_id``, customer and conversation."""

    inbox = models.ForeignKey("conversations.Inbox", on_delete=models.CASCADE,
                              related_name="+")
    public_id = models.CharField(max_length=40, unique=True)
    sender_id = models.CharField(max_length=40, db_index=True)
    token_digest = models.CharField(max_length=64, unique=True)
    customer = models.ForeignKey("customers.Customer", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200, blank=True, default="")
    email = models.CharField(max_length=320, blank=True, default="")
    email_verified = models.BooleanField(default=False)
    topic = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    page = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["conversation"], name="webchat_visitor_conv_idx")]

    def __str__(self) -> str:
        return self.public_id


class ChatState(models.Model):
    """Read marks of one chat conversation, both ways: how far the visitor's widget has
    received and read the desk's messages, and how far an agent has read the visitor's."""

    conversation = models.OneToOneField("conversations.Conversation", on_delete=models.CASCADE,
                                        primary_key=True, related_name="+")
    visitor_received_up_to = models.BigIntegerField(default=0)
    visitor_read_up_to = models.BigIntegerField(default=0)
    desk_read_up_to = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"chat marks of #{self.conversation_id}"


class MagicLink(models.Model):
    """A one-time link that lets a visitor continue the chat on another device."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    email = models.CharField(max_length=320)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"magic link for {self.visitor_id}"

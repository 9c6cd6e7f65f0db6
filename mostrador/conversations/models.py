"""Inboxes, conversations, messages, attachments, the timeline, and the raw inbound store."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mostrador.customers.models import Customer


class Inbox(models.Model):
    """One connected channel account: a mailbox, a chat widget, a bot token, a phone line."""

    name = models.CharField(max_length=150)
    channel_kind = models.CharField(max_length=30)
    # Validated by the channel adapter's pydantic Config.
    config = models.JSONField(default=dict, blank=True)
    default_team = models.ForeignKey("accounts.Team", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # Opening hours of this channel; a team's calendar wins over it (see sla.policies).
    calendar = models.ForeignKey("sla.Calendar", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="inboxes")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "inboxes"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        PENDING = "pending", _("Pending customer")
        ON_HOLD = "on_hold", _("On hold")
        SOLVED = "solved", _("Solved")
        CLOSED = "closed", _("Closed")

    class Priority(models.IntegerChoices):
        LOW = 1, _("Low")
        NORMAL = 2, _("Normal")
        HIGH = 3, _("High")
        URGENT = 4, _("Urgent")

    # Waiting for the desk: the customer expects an answer from us.
    ACTIVE_STATUSES = (Status.NEW, Status.OPEN)
    REOPENABLE_STATUSES = (Status.PENDING, Status.ON_HOLD, Status.SOLVED)

    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT,
                                 related_name="conversations")
    subject = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    # When the conversation entered its current status (time rules count from it).
    status_since = models.DateTimeField(null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices,
                                                default=Priority.NORMAL)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_conversations")
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="conversations")
    tier = models.PositiveSmallIntegerField(default=1)
    request_type = models.CharField(max_length=64, blank=True, default="")
    tags = models.ManyToManyField(Tag, through="ConversationTag", related_name="conversations",
                                  blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=10, blank=True, default="")
    sentiment = models.FloatField(null=True, blank=True)
    channel_kind = models.CharField(max_length=30, default="")
    message_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    # Since when the customer has been waiting for us; null while the ball is in their court.
    waiting_since = models.DateTimeField(null=True, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_response_due = models.DateTimeField(null=True, blank=True, db_index=True)
    next_response_due = models.DateTimeField(null=True, blank=True, db_index=True)
    resolution_due = models.DateTimeField(null=True, blank=True, db_index=True)
    # The nearest due time of any running SLA target (legal deadlines included) and the
    # conversation's SLA health: on_track, at_risk, breached, paused, met or "" (none).
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_status = models.CharField(max_length=12, blank=True, default="")

    follow_up_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="follow_ups")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="merged_from")

    class Meta:
        indexes = [
            # The inbox's hot filters, each ending in the keyset order (last activity, id).
            models.Index(fields=["last_activity_at", "id"], name="conv_activity_idx"),
            models.Index(fields=["status", "last_activity_at", "id"], name="conv_status_idx"),
            models.Index(fields=["assignee", "status", "last_activity_at", "id"],
                         name="conv_assignee_idx"),
            models.Index(fields=["team", "status", "last_activity_at", "id"],
                         name="conv_team_idx"),
            models.Index(fields=["inbox", "status", "last_activity_at", "id"],
                         name="conv_inbox_idx"),
            models.Index(fields=["customer", "created_at"], name="conv_customer_idx"),
            models.Index(fields=["updated_at", "id"], name="conv_updated_idx"),
            models.Index(fields=["created_at", "id"], name="conv_created_idx"),
            # The same filters without a status (a team's or an inbox's whole list).
            models.Index(fields=["team", "last_activity_at", "id"], name="conv_team_all_idx"),
            models.Index(fields=["inbox", "last_activity_at", "id"], name="conv_inbox_all_idx"),
            models.Index(fields=["assignee", "last_activity_at", "id"],
                         name="conv_assignee_all_idx"),
            # The inbox's other orders: oldest waiting first, and most urgent first.
            models.Index(fields=["status", "waiting_since", "id"], name="conv_waiting_idx"),
            models.Index(fields=["waiting_since", "id"], name="conv_waiting_all_idx",
                         condition=Q(waiting_since__isnull=False)),
            models.Index(fields=["status", "priority", "last_activity_at", "id"],
                         name="conv_priority_idx"),
            models.Index(fields=["priority", "last_activity_at", "id"],
                         name="conv_priority_all_idx"),
            # Time rules: "pending for 3 days", "solved for 4 days".
            models.Index(fields=["status", "status_since", "id"], name="conv_status_since_idx"),
            # Routing's load count: conversations waiting on each agent, per channel.
            models.Index(fields=["channel_kind", "assignee"], name="conv_load_idx",
                         condition=Q(status__in=["new", "open", "on_hold"],
                                     assignee__isnull=False)),
            # Least time left first.
            models.Index(fields=["status", "sla_due_at", "id"], name="conv_sla_idx"),
            models.Index(fields=["sla_due_at", "id"], name="conv_sla_all_idx",
                         condition=Q(sla_due_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> int:
        """The number people see and quote (``[#1234]``)."""
        return self.pk


class ConversationTag(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "tag"], name="conversation_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "conversation"], name="conv_tag_idx")]

    def __str__(self) -> str:
        return f"{self.tag_id} on #{self.conversation_id}"


class RawInbound(models.Model):
    """Every inbound payload, stored before anything tries to understand it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate")
        IGNORED = "ignored", _("Recorded, not a conversation")
        QUARANTINED = "quarantined", _("Quarantined")

    inbox = models.ForeignKey(Inbox, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="raw_inbound")
    channel_kind = models.CharField(max_length=30)
    # Where it came from: "smtp", "imap:INBOX:123", "import:/path/file.eml", "webhook"…
    source = models.CharField(max_length=500, blank=True, default="")
    received_at = models.DateTimeField()
    payload = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey("Message", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        verbose_name = "raw inbound payload"
        indexes = [models.Index(fields=["status", "received_at"], name="raw_status_idx")]

    def __str__(self) -> str:
        return f"{self.channel_kind} {self.source} ({self.status})"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        NOTE = "note", _("Internal note")

    class AuthorKind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        AGENT = "agent", _("Agent")
        BOT = "bot", _("Bot")
        SYSTEM = "system", _("System")

    class Delivery(models.TextChoices):
        NONE = "", _("Not applicable")
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="messages")
    # Denormalised from the conversation so provider ids are unique per inbox.
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    author_kind = models.CharField(max_length=10, choices=AuthorKind.choices)
    author_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    author_customer = models.ForeignKey(Customer, null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="messages")
    channel_kind = models.CharField(max_length=30)
    subject = models.CharField(max_length=500, blank=True, default="")
    text = models.TextField(blank=True, default="")
    html = models.TextField(blank=True, default="")
    reply_text = models.TextField(blank=True, default="")
    provider_id = models.CharField(max_length=500, blank=True, default="")
    # Machine-generated (auto-reply, bounce) recorded on the thread without reopening it.
    automatic = models.BooleanField(default=False)
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, blank=True,
                                       default=Delivery.NONE)
    delivery_error = models.TextField(blank=True, default="")
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Channel details: e-mail recipients and Cc, reply target, references…
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inbox", "provider_id"], name="message_provider_unique",
                                    condition=~Q(provider_id="")),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="message_conv_idx"),
            models.Index(fields=["delivery_status"], name="message_delivery_idx",
                         condition=Q(delivery_status__in=["queued", "sending"])),
        ]

    def __str__(self) -> str:
        return f"{self.direction} message {self.pk} in #{self.conversation_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.message.created_at:%Y/%m}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150)
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True, default="")
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class Event(models.Model):
    """One change on a conversation's timeline; append-only, the audit trail."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE,
                                     related_name="events")
    kind = models.CharField(max_length=40)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    actor_customer = models.ForeignKey(Customer, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["conversation", "at", "id"], name="event_conv_idx"),
            models.Index(fields=["kind", "at"], name="event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.conversation_id}"

    @property
    def actor_label(self) -> str:
        if self.actor_user_id:
            return str(self.actor_user)
        if self.actor_customer_id:
            return str(self.actor_customer)
        return "system"


from mostrador.conversations.models_inbox import ConversationRead, SavedView  # noqa: E402,F401

"""State the e-mail channel keeps of its own."""

from __future__ import annotations

from django.db import models

from mostrador.conversations.models import Inbox


class ImapCursor(models.Model):
    """How far IMAP polling has read a mailbox folder.

    UIDs are only meaningful within one UIDVALIDITY (RFC 3501 §2.3.1.1): when the server
    reports a new one, the folder was rebuilt and is read again from the start, with
    Message-ID dedupe keeping already-received mail out.
    """

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="imap_cursors")
    folder = models.CharField(max_length=200, default="INBOX")
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inbox", "folder"], name="imap_cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.inbox} {self.folder} {self.uidvalidity}:{self.last_uid}"

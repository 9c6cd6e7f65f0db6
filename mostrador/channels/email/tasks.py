"""Background work of the e-mail channel: processing received mail and polling IMAP."""

from __future__ import annotations

import logging

from huey import crontab

from mostrador.conversations.actions import process_raw
from mostrador.conversations.models import RawInbound
from mostrador.core.tasks import periodic_task, task

logger = logging.getLogger(__name__)


@task()
def process_raw_inbound(raw_id: int) -> str:
    """Parse and receive one stored payload (SMTP or IMAP). Safe to run twice: a processed row
    is left alone, and a row that stays pending is retried by the conversations sweep."""
    raw = RawInbound.objects.select_related("inbox").filter(pk=raw_id).first()
    if raw is None:
        return "missing"
    return process_raw(raw).outcome


@periodic_task(crontab(minute="*"))
def poll_imap_inboxes() -> list[str]:
    """Fetch new mail from every active e-mail inbox that has IMAP settings."""
    from mostrador.channels.email.imap import poll_inboxes

    lines = list(poll_inboxes())
    for line in lines:
        # Every minute: routine lines stay quiet; failures are logged as warnings by the poll.
        logger.debug("imap %s", line)
    return lines

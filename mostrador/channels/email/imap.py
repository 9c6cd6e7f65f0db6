"""IMAP polling: fetch new mail from the mailboxes of inboxes that have an ``imap`` block.

Polling only reads. The folder is opened read-only (EXAMINE) and bodies are fetched with
``BODY.PEEK[]``, so nothing is deleted, moved or marked \\Seen: the mailbox stays the
administrator's, and other clients still see the mail as unread.

How far a folder has been read is an :class:`ImapCursor` (UIDVALIDITY, last UID). Each message
is stored as a raw row in the same transaction that advances the cursor, so a crash between
two messages neither fetches one twice nor skips one; processing (parsing, threading) happens
after commit in the task ``process_raw_inbound``.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator

import pydantic
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mostrador.channels.email.adapter import EmailConfig, ImapSettings
from mostrador.channels.email.models import ImapCursor
from mostrador.channels.email.tasks import process_raw_inbound
from mostrador.conversations.actions import store_raw
from mostrador.conversations.models import Inbox
from mostrador.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60
# A first poll of a large mailbox is spread over several polls instead of one very long one.
MAX_MESSAGES_PER_POLL = 500
_SIZE_RE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID_RE = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    """Polling a mailbox failed; the message says what to check."""


@dataclasses.dataclass
class PollResult:
    fetched: int = 0  # messages downloaded from the server
    stored: int = 0  # of those, stored as new raw rows
    skipped: int = 0  # left on the server: over the size limit, gone, or stored meanwhile
    error: str = ""


def encode_mailbox_name(name: str) -> str:
    """``name`` in IMAP's modified UTF-7 (RFC 3501 §5.1.3), quoted for the command line."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            chunk = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=")
            out.append("&" + chunk.replace(b"/", b",").decode("ascii") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    encoded = "".join(out)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _connect(config: ImapSettings) -> imaplib.IMAP4:
    where = f"{config.host}:{config.port}"
    try:
        if config.security == "ssl":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host,
                config.port,
                ssl_context=ssl.create_default_context(),
                timeout=TIMEOUT_SECONDS,
            )
        else:
            client = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_SECONDS)
            if config.security == "starttls":
                client.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(
            f"could not connect to {where} ({config.security}): {exc}; check the "
            f"host, port and security of the inbox's IMAP settings"
        ) from exc
    try:
        client.login(config.username, config.password)
    except imaplib.IMAP4.error as exc:
        _logout(client)
        raise ImapError(
            f"login as {config.username} on {where} failed: {_text(exc)}; check "
            f"the username and password (some providers need an app password)"
        ) from exc
    return client


def _logout(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error, EOFError):
        client.logout()


def _text(value: object) -> str:
    if isinstance(value, Exception) and value.args:
        value = value.args[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _check(response: tuple[str, list], what: str) -> list:
    status, data = response
    if status != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what} failed: {status} {detail}".rstrip())
    return data


def poll_inbox(inbox: Inbox, *, limit: int = MAX_MESSAGES_PER_POLL) -> PollResult:
    """Fetch the mail that arrived in ``inbox``'s IMAP folder since the last poll.

    Problems with the server (network, login, a missing folder) are recorded on the cursor's
    ``last_error`` and returned in ``PollResult.error``; they are never raised. Database
    errors are raised: nothing was fetched past the last committed row.
    """
    config = _imap_settings(inbox)
    if config is None:
        return PollResult(error="this inbox has no valid IMAP settings")
    cursor, _created = ImapCursor.objects.get_or_create(inbox=inbox, folder=config.folder)
    result = PollResult()
    try:
        client = _connect(config)
        try:
            _poll(client, inbox, cursor, config, result, limit)
        finally:
            _logout(client)
    except ImapError as exc:
        result.error = str(exc)
    except (OSError, EOFError, imaplib.IMAP4.error) as exc:
        result.error = (
            f"connection to {config.host}:{config.port} failed while reading "
            f"{config.folder}: {_text(exc) or type(exc).__name__}; it is tried "
            f"again at the next poll"
        )
    ImapCursor.objects.filter(pk=cursor.pk).update(
        last_polled_at=timezone.now(), last_error=result.error
    )
    if result.error:
        logger.warning("polling inbox %s failed: %s", inbox.pk, result.error)
    return result


def _poll(
    client: imaplib.IMAP4,
    inbox: Inbox,
    cursor: ImapCursor,
    config: ImapSettings,
    result: PollResult,
    limit: int,
) -> None:
    folder = config.folder
    try:
        status, data = client.select(encode_mailbox_name(folder), readonly=True)
        detail = " ".join(_text(d) for d in data if d)
    except imaplib.IMAP4.error as exc:
        status, detail = "BAD", _text(exc)
    if status != "OK":
        raise ImapError(
            f"opening folder {folder!r} failed: {detail}; check the folder name in the inbox's "
            f"IMAP settings"
        )
    _name, values = client.response("UIDVALIDITY")
    if not values or not values[-1]:
        raise ImapError(f"the server did not report UIDVALIDITY for {folder!r}")
    uidvalidity = int(values[-1])
    if cursor.uidvalidity != uidvalidity:
        # A new UIDVALIDITY means the folder was rebuilt and old UIDs mean nothing: read it
        # again from the start; Message-ID dedupe keeps already received mail out.
        if cursor.uidvalidity:
            logger.info(
                "inbox %s folder %s has a new UIDVALIDITY (%s, was %s); reading it again",
                inbox.pk,
                folder,
                uidvalidity,
                cursor.uidvalidity,
            )
        ImapCursor.objects.filter(pk=cursor.pk).update(uidvalidity=uidvalidity, last_uid=0)
        cursor.uidvalidity, cursor.last_uid = uidvalidity, 0

    found = _check(client.uid("SEARCH", None, "UID", f"{cursor.last_uid + 1}:*"), "UID SEARCH")
    # "N:*" always includes the highest UID in the folder, even when it is below N.
    uids = sorted(
        int(u) for u in b" ".join(d for d in found if d).split() if int(u) > cursor.last_uid
    )[:limit]
    max_bytes = settings.MOSTRADOR["MAX_MESSAGE_BYTES"]
    for start in range(0, len(uids), 50):
        batch = uids[start : start + 50]
        sizes = _sizes(client, batch)
        for uid in batch:
            size = sizes.get(uid)
            if size is not None and size > max_bytes:
                logger.warning(
                    "inbox %s: message UID %s in %s is %s bytes, over the limit "
                    "of %s; left on the server",
                    inbox.pk,
                    uid,
                    folder,
                    size,
                    max_bytes,
                )
                result.skipped += 1
                _advance(cursor, uidvalidity, uid)
                continue
            data = _fetch(client, uid)
            if data is None:  # expunged since the search
                result.skipped += 1
                _advance(cursor, uidvalidity, uid)
                continue
            result.fetched += 1
            if _store(inbox, cursor, folder, uidvalidity, uid, data):
                result.stored += 1
            else:
                result.skipped += 1


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    data = _check(
        client.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)"), "UID FETCH sizes"
    )
    sizes: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID_RE.search(line), _SIZE_RE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(client: imaplib.IMAP4, uid: int) -> bytes | None:
    data = _check(client.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"UID FETCH {uid}")
    for item in data:
        # ``(b'1 (UID 101 BODY[] {312}', b'<the message>')``; unsolicited FLAGS updates
        # may come along as plain bytes.
        if isinstance(item, tuple) and b"BODY[]" in item[0]:
            return bytes(item[1])
    return None


def _store(
    inbox: Inbox, cursor: ImapCursor, folder: str, uidvalidity: int, uid: int, data: bytes
) -> bool:
    """Store one message and move the cursor past it, in one transaction. The cursor row is
    locked (``select_for_update``) so two overlapping polls cannot both store the same UID;
    False when another poll already did."""
    with transaction.atomic():
        locked = ImapCursor.objects.select_for_update().get(pk=cursor.pk)
        if locked.uidvalidity != uidvalidity or locked.last_uid >= uid:
            return False
        raw = store_raw("email", data, inbox=inbox, source=f"imap:{folder}:{uidvalidity}:{uid}")
        ImapCursor.objects.filter(pk=cursor.pk).update(last_uid=uid)
        enqueue_on_commit(process_raw_inbound, raw.pk)
    cursor.last_uid = uid
    return True


def _advance(cursor: ImapCursor, uidvalidity: int, uid: int) -> None:
    ImapCursor.objects.filter(pk=cursor.pk, uidvalidity=uidvalidity, last_uid__lt=uid).update(
        last_uid=uid
    )
    cursor.last_uid = max(cursor.last_uid, uid)


def _imap_settings(inbox: Inbox) -> ImapSettings | None:
    try:
        return EmailConfig.model_validate(inbox.config or {}).imap
    except pydantic.ValidationError:
        return None


def poll_inboxes(inbox_id: int | None = None) -> Iterator[str]:
    """Poll every active e-mail inbox with IMAP settings (or only ``inbox_id``), one line of
    outcome per inbox. Never raises for one inbox's trouble: it is reported and the others
    are still polled."""
    inboxes = Inbox.objects.filter(channel_kind="email").order_by("id")
    # An inbox named explicitly is polled even while inactive (to test its settings).
    inboxes = inboxes.filter(pk=inbox_id) if inbox_id is not None else inboxes.filter(active=True)
    seen = 0
    for inbox in inboxes:
        config = _imap_settings(inbox)
        if config is None:
            if inbox_id is not None:
                yield (
                    f"{inbox.name} (#{inbox.pk}): no IMAP settings (or invalid ones); add "
                    f"an imap block to the inbox's configuration"
                )
            continue
        seen += 1
        label = f"{inbox.name} (#{inbox.pk}) {config.username}@{config.host} {config.folder}"
        try:
            result = poll_inbox(inbox)
        except Exception as exc:
            logger.exception("polling inbox %s failed", inbox.pk)
            yield f"{label}: failed: {type(exc).__name__}: {exc}"
            continue
        if result.error:
            yield f"{label}: error: {result.error}"
        else:
            line = f"{label}: {result.fetched} fetched, {result.stored} new"
            if result.skipped:
                line += f", {result.skipped} skipped"
            yield line
    if inbox_id is not None and not seen and not inboxes.exists():
        yield f"there is no e-mail inbox {inbox_id}"
    elif inbox_id is None and not seen:
        yield "no active e-mail inbox has IMAP settings"

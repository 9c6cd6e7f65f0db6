"""Receiving inbound messages, once for every channel.

``store_raw`` keeps a payload exactly as it arrived; ``process_raw`` / ``process_raw_many``
parse it with the channel's adapter (quarantining what does not parse) and hand the result to
``receive_inbound_many``, which does the rest: resolve the sender to a customer, drop
re-deliveries of a provider id already stored, thread by the provider ids the message answers
and by the conversation number it quotes (only into a conversation of the same customer), open
a follow-up when that conversation is closed or was solved long ago, reopen a solved or pending
one, store message and attachments, index the text and write the timeline.

One message and ten thousand go through the same code. The common case (a new request, or a
reply to a conversation that is still active) is buffered and written with a handful of bulk
statements per batch; the rare cases that change an existing conversation (reopen, follow-up,
automatic mail on a thread, bounces) flush the buffer and are written one by one, so the
outcome never depends on how messages were batched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Case, F, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.channels.base import InboundAttachment, InboundMessage, ParseError
from mostrador.channels.registry import get_adapter
from mostrador.conversations import events, search
from mostrador.conversations.language import detect_language
from mostrador.conversations.models import (
    Attachment,
    Conversation,
    Event,
    Inbox,
    Message,
    RawInbound,
)
from mostrador.core.publish import publish_on_commit
from mostrador.customers.actions import live_customer, normalise_external_id, resolve_identity
from mostrador.customers.models import Customer, Identity, Organisation

logger = logging.getLogger(__name__)
Status = Conversation.Status


@dataclasses.dataclass(slots=True)
class ReceiveResult:
    """What became of one inbound payload."""

    outcome: str  # created | threaded | duplicate | ignored | bounced | quarantined
    conversation: Conversation | None = None
    message: Message | None = None
    reason: str = ""


_RAW_STATUS = {
    "created": RawInbound.Status.PROCESSED,
    "threaded": RawInbound.Status.PROCESSED,
    "bounced": RawInbound.Status.PROCESSED,
    "duplicate": RawInbound.Status.DUPLICATE,
    "ignored": RawInbound.Status.IGNORED,
}


# --- raw payloads ---------------------------------------------------------------------------


def store_raw(channel_kind: str, payload: bytes, *, inbox: Inbox | None, source: str) -> RawInbound:
    """Keep a payload exactly as it arrived, before any attempt to understand it."""
    return RawInbound.objects.create(
        inbox=inbox, channel_kind=channel_kind, source=source[:500], payload=payload,
        size=len(payload), received_at=timezone.now(),
    )


def process_raw(raw: RawInbound) -> ReceiveResult:
    """Parse and receive one stored payload. Safe to call again on the same row.

    A payload that does not parse, or whose processing fails, is quarantined with the error and
    can be processed again later; if the database itself is unreachable the error propagates
    and the row stays pending for the periodic sweep.
    """
    return process_raw_many([raw])[0]


def process_raw_many(raws: Sequence[RawInbound], *,
                     parsed_already: Sequence[InboundMessage | ParseError] | None = None
                     ) -> list[ReceiveResult]:
    """Parse and receive stored payloads in order, in bulk where possible.

    ``parsed_already`` (aligned with ``raws``) carries what the channel's parser made of each
    payload when the caller parsed them elsewhere (the importer parses in another process).
    """
    results: list[ReceiveResult | None] = [None] * len(raws)
    parsed: list[tuple[int, RawInbound, InboundMessage]] = []
    for index, raw in enumerate(raws):
        if raw.status in {RawInbound.Status.PROCESSED, RawInbound.Status.DUPLICATE,
                          RawInbound.Status.IGNORED}:
            results[index] = ReceiveResult("duplicate", reason="already processed")
            continue
        outcome = _parse(raw, parsed_already[index] if parsed_already is not None else None)
        if isinstance(outcome, ReceiveResult):
            results[index] = outcome
        else:
            parsed.append((index, raw, outcome))
    # Consecutive messages of one inbox go in one batch; order is kept across batches.
    run: list[tuple[int, RawInbound, InboundMessage]] = []
    for item in parsed:
        if run and run[-1][1].inbox_id != item[1].inbox_id:
            _receive_run(run, results)
            run = []
        run.append(item)
    if run:
        _receive_run(run, results)
    return [r for r in results if r is not None]


def _parse(raw: RawInbound, parsed: InboundMessage | ParseError | None
           ) -> InboundMessage | ReceiveResult:
    adapter = get_adapter(raw.channel_kind)
    try:
        if isinstance(parsed, ParseError):
            raise parsed
        inbound = parsed or adapter.parse_inbound(bytes(raw.payload), inbox=raw.inbox)
    except ParseError as exc:
        return _quarantine(raw, str(exc))
    except Exception as exc:  # an adapter bug must not lose the payload either
        logger.exception("parsing raw inbound %s failed", raw.pk)
        return _quarantine(raw, f"unexpected {type(exc).__name__} while parsing: {exc}")
    if raw.inbox is None:
        raw.inbox = adapter.route_inbound(inbound)
        if raw.inbox is None:
            return _quarantine(raw, _("No inbox accepts this message; connect an inbox for "
                                      "its address, then process it again."))
    return inbound


def _receive_run(run: list[tuple[int, RawInbound, InboundMessage]],
                 results: list[ReceiveResult | None]) -> None:
    inbox = run[0][1].inbox
    try:
        with transaction.atomic():
            batch = receive_inbound_many(inbox, [(inbound, raw) for _, raw, inbound in run])
    except DatabaseError:
        if len(run) > 1:
            # One message may be at fault (a value the database refuses): find it by
            # receiving the run one by one, each in its own savepoint.
            for item in run:
                _receive_run([item], results)
            return
        # The database went away mid-write: the savepoint rolled back, the raw row is still
        # there (pending) and the periodic sweep will try again.
        logger.exception("storing raw inbound %s failed; it stays pending", run[0][1].pk)
        raise
    except Exception as exc:
        if len(run) > 1:
            for item in run:
                _receive_run([item], results)
            return
        raw = run[0][1]
        logger.exception("receiving raw inbound %s failed", raw.pk)
        results[run[0][0]] = _quarantine(raw, f"unexpected {type(exc).__name__} while "
                                              f"storing: {exc}")
        return
    for (index, _raw, _inbound), result in zip(run, batch, strict=True):
        results[index] = result


def _quarantine(raw: RawInbound, error: str) -> ReceiveResult:
    RawInbound.objects.filter(pk=raw.pk).update(
        status=RawInbound.Status.QUARANTINED, error=error[:10_000], inbox=raw.inbox,
        attempts=F("attempts") + 1, processed_at=timezone.now(),
    )
    raw.status = RawInbound.Status.QUARANTINED
    raw.error = error
    return ReceiveResult("quarantined", reason=error)


# --- receiving ------------------------------------------------------------------------------


def receive_inbound(inbox: Inbox, inbound: InboundMessage, *, raw: RawInbound | None = None,
                    now: dt.datetime | None = None) -> ReceiveResult:
    """Receive one parsed message on ``inbox``. Call it inside a transaction."""
    return receive_inbound_many(inbox, [(inbound, raw)], now=now)[0]


def receive_inbound_many(inbox: Inbox, items: Sequence[tuple[InboundMessage, RawInbound | None]],
                         *, now: dt.datetime | None = None) -> list[ReceiveResult]:
    """Receive parsed messages on ``inbox`` in order. Call it inside a transaction."""
    return _Batch(inbox, now or timezone.now()).receive(items)


@dataclasses.dataclass(slots=True)
class _Pending:
    inbound: InboundMessage
    raw: RawInbound | None
    customer: Customer
    conversation: Conversation
    new_conversation: bool
    thread_note: str
    result: ReceiveResult
    message: Message | None = None


class _Batch:
    def __init__(self, inbox: Inbox, now: dt.datetime) -> None:
        self.inbox = inbox
        self.now = now
        self.pending: list[_Pending] = []
        # provider id -> conversation, for messages stored earlier in this batch
        self.batch_refs: dict[str, Conversation] = {}
        self.seen: set[str] = set()
        self.ref_map: dict[str, int] = {}
        self.conversations: dict[int, Conversation] = {}
        self.customers: dict[tuple[str, str], Customer] = {}
        self.finished: list[tuple[RawInbound, ReceiveResult]] = []

    # The order of work: look everything up in a few queries, decide per message, write.
    def receive(self, items: Sequence[tuple[InboundMessage, RawInbound | None]]
                ) -> list[ReceiveResult]:
        self._prefetch([inbound for inbound, _ in items])
        results = []
        for inbound, raw in items:
            result = self._receive_one(inbound, raw)
            results.append(result)
            if raw is not None:
                self.finished.append((raw, result))
        self._flush()
        self._finish_raws()
        return results

    def _prefetch(self, inbounds: list[InboundMessage]) -> None:
        provider_ids = [i.provider_id for i in inbounds if i.provider_id]
        if provider_ids:
            self.seen = set(Message.objects.filter(inbox=self.inbox, provider_id__in=provider_ids)
                            .values_list("provider_id", flat=True))
        refs = {ref for i in inbounds for ref in i.references[-50:]}
        if refs:
            self.ref_map = dict(Message.objects.filter(provider_id__in=refs)
                                .values_list("provider_id", "conversation_id"))
        wanted = set(self.ref_map.values()) | {i.conversation_number for i in inbounds
                                               if i.conversation_number is not None}
        if wanted:
            self.conversations = Conversation.objects.in_bulk(list(wanted))
        self._resolve_customers([i for i in inbounds if not i.bounce_of and not (
            i.noise and not i.references and i.conversation_number is None)])

    def _resolve_customers(self, inbounds: list[InboundMessage]) -> None:
        keys: dict[tuple[str, str], str] = {}
        for inbound in inbounds:
            key = (inbound.sender_kind, normalise_external_id(inbound.sender_kind,
                                                              inbound.sender_id))
            if key[1] and key not in keys:
                keys[key] = inbound.sender_name
        if not keys:
            return
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, external_id in keys:
            by_kind[kind].append(external_id)
        query = Q()
        for kind, external_ids in by_kind.items():
            query |= Q(kind=kind, external_id__in=external_ids)
        for identity in Identity.objects.select_related("customer").filter(query):
            customer = identity.customer
            if customer.merged_into_id:
                customer = live_customer(customer)
            self.customers[(identity.kind, identity.external_id)] = customer
        missing = [key for key in keys if key not in self.customers]
        if missing:
            self._create_customers(missing, keys)

    def _create_customers(self, missing: list[tuple[str, str]],
                          names: dict[tuple[str, str], str]) -> None:
        organisations = {domain.lower(): organisation
                         for organisation in Organisation.objects.only("id", "domains")
                         for domain in organisation.domains or []}
        try:
            with transaction.atomic():
                customers = Customer.objects.bulk_create([
                    Customer(name=(names[key] or "")[:200],
                             organisation=organisations.get(key[1].rpartition("@")[2])
                             if key[0] == Identity.Kind.EMAIL else None)
                    for key in missing
                ])
                Identity.objects.bulk_create([
                    Identity(customer=customer, kind=key[0], external_id=key[1])
                    for key, customer in zip(missing, customers, strict=True)
                ])
        except IntegrityError:
            # Another process created one of these identities a moment ago.
            for key in missing:
                self.customers[key] = resolve_identity(key[0], key[1], name=names[key])[0]
            return
        self.customers.update(zip(missing, customers, strict=True))

    def _customer(self, inbound: InboundMessage) -> Customer:
        key = (inbound.sender_kind, normalise_external_id(inbound.sender_kind,
                                                          inbound.sender_id))
        customer = self.customers.get(key)
        if customer is None:
            customer = resolve_identity(key[0], key[1], name=inbound.sender_name)[0]
            self.customers[key] = customer
        return customer

    def _receive_one(self, inbound: InboundMessage, raw: RawInbound | None) -> ReceiveResult:
        if inbound.provider_id and inbound.provider_id in self.seen:
            return ReceiveResult("duplicate",
                                 reason=f"{inbound.provider_id} was already received")
        if inbound.bounce_of:
            self._flush()
            return _receive_bounce(inbound, self.now)
        if inbound.noise and not inbound.references and inbound.conversation_number is None:
            return ReceiveResult("ignored", reason=inbound.noise)

        customer = self._customer(inbound)
        conversation, thread_note = self._find_thread(inbound, customer)
        follow_up_of = None
        if conversation is not None and _needs_follow_up(conversation, self.now):
            follow_up_of, conversation = conversation, None
        if inbound.provider_id:
            self.seen.add(inbound.provider_id)

        if inbound.noise:
            if conversation is None:
                return ReceiveResult("ignored", reason=inbound.noise)
            self._flush()
            return _receive_automatic(self.inbox, conversation, inbound, customer, self.now)

        if follow_up_of is not None or (
            conversation is not None and conversation.pk
            and conversation.status in Conversation.REOPENABLE_STATUSES
        ):
            # Changes an existing conversation's state: written at once, in order.
            self._flush()
            result = _receive_changing(self.inbox, conversation, inbound, customer, self.now,
                                       follow_up_of=follow_up_of, thread_note=thread_note)
            self._remember(inbound, result.conversation)
            return result

        new = conversation is None
        if new:
            conversation = Conversation(
                inbox=self.inbox, customer=customer, subject=(inbound.subject or "")[:500],
                status=Status.NEW, status_since=self.now, channel_kind=self.inbox.channel_kind,
                team_id=self.inbox.default_team_id, created_at=self.now, updated_at=self.now,
                language=intake_language(inbound, customer),
                last_activity_at=self.now, waiting_since=self.now, message_count=0,
            )
        result = ReceiveResult("created" if new else "threaded", conversation,
                               reason=thread_note)
        self.pending.append(_Pending(inbound, raw, customer, conversation, new, thread_note,
                                     result))
        self._remember(inbound, conversation)
        return result

    def _remember(self, inbound: InboundMessage, conversation: Conversation | None) -> None:
        if inbound.provider_id and conversation is not None:
            self.batch_refs[inbound.provider_id] = conversation

    def _find_thread(self, inbound: InboundMessage,
                     customer: Customer) -> tuple[Conversation | None, str]:
        """The conversation this message continues, and a note when a hint was refused."""
        candidates: list[Conversation | int] = []
        for ref in reversed(inbound.references[-50:]):  # In-Reply-To, the most recent, first
            if ref in self.batch_refs:
                candidates.append(self.batch_refs[ref])
            elif ref in self.ref_map:
                candidates.append(self.ref_map[ref])
        if inbound.conversation_number is not None:
            candidates.append(inbound.conversation_number)
        refused = ""
        for candidate in candidates:
            conversation = (candidate if isinstance(candidate, Conversation)
                            else self._live_conversation(candidate))
            if conversation is None:
                continue
            if conversation.customer_id == customer.pk:
                return conversation, ""
            # One customer's mail never joins another customer's conversation.
            refused = (f"refers to conversation #{conversation.pk} of another customer; "
                       f"opened apart")
        return None, refused

    def _live_conversation(self, conversation_id: int) -> Conversation | None:
        conversation = self.conversations.get(conversation_id)
        if conversation is None and conversation_id not in self.conversations:
            conversation = Conversation.objects.filter(pk=conversation_id).first()
            self.conversations[conversation_id] = conversation
        hops = 0
        while conversation is not None and conversation.merged_into_id and hops < 10:
            conversation = Conversation.objects.filter(pk=conversation.merged_into_id).first()
            hops += 1
        return conversation

    def _flush(self) -> None:
        """Write the buffered messages: a few bulk statements for the whole buffer."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        now = self.now
        new_conversations: list[Conversation] = []
        # Replies to conversations saved before this flush grow by one UPDATE each; those
        # created in this flush are inserted with their count.
        grown: dict[int, int] = defaultdict(int)
        for item in pending:
            if item.conversation.pk is None:
                item.conversation.message_count += 1
                if item.new_conversation:
                    new_conversations.append(item.conversation)
            else:
                grown[item.conversation.pk] += 1
        Conversation.objects.bulk_create(new_conversations)
        messages = [
            _message(item.conversation, self.inbox, item.inbound, item.customer, now,
                     thread_note=item.thread_note)
            for item in pending
        ]
        Message.objects.bulk_create(messages)
        new_events: list[Event] = []
        for item, message in zip(pending, messages, strict=True):
            item.message = item.result.message = message
            _store_attachments(message, item.inbound.attachments)
            if item.new_conversation:
                new_events.append(_new_event(item.conversation, events.CONVERSATION_CREATED,
                                             now, customer=item.customer,
                                             after={"channel": self.inbox.channel_kind,
                                                    "inbox": self.inbox.pk,
                                                    "follow_up_of": None}))
            new_events.append(_new_event(item.conversation, events.MESSAGE_RECEIVED, now,
                                         customer=item.customer, message=message))
        _save_events(new_events)
        for conversation_id, count in grown.items():
            Conversation.objects.filter(pk=conversation_id).update(
                last_activity_at=now, updated_at=now, message_count=F("message_count") + count,
                waiting_since=Coalesce("waiting_since", now))
        search.index_messages([
            (message.pk, message.conversation_id, f"{item.inbound.subject}\n{message.reply_text}")
            for item, message in zip(pending, messages, strict=True)
        ])

    def _finish_raws(self) -> None:
        """Record each payload's outcome (and the inbox it was routed to) in one statement."""
        if not self.finished:
            return
        table = RawInbound._meta.db_table
        processed_at = connection.ops.adapt_datetimefield_value(self.now)
        rows = []
        for raw, result in self.finished:
            raw.status = _RAW_STATUS[result.outcome]
            raw.error = result.reason[:10_000]
            raw.message = result.message
            rows.append((raw.status, raw.error, processed_at,
                         result.message.pk if result.message else None, raw.inbox_id, raw.pk))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET status = %s, error = %s, processed_at = %s, "
                f"attempts = attempts + 1, message_id = %s, inbox_id = %s WHERE id = %s", rows)


# --- the pieces -----------------------------------------------------------------------------


def _new_event(conversation: Conversation, kind: str, at: dt.datetime, *, user=None,
               customer: Customer | None = None, message: Message | None = None,
               before: Any = None, after: Any = None) -> Event:
    return Event(conversation=conversation, kind=kind, actor_user=user, actor_customer=customer,
                 message=message, before=before, after=after, at=at)


def _save_events(new_events: list[Event]) -> None:
    Event.objects.bulk_create(new_events)
    for event in new_events:
        publish_on_commit(event.kind, {"conversation_id": event.conversation_id,
                                       "event_id": event.pk, "message_id": event.message_id})


def _message(conversation: Conversation, inbox: Inbox, inbound: InboundMessage,
             customer: Customer, now: dt.datetime, *, automatic: bool = False,
             thread_note: str = "") -> Message:
    meta: dict[str, Any] = {"sender": inbound.sender_id}
    if inbound.recipients:
        meta["to"] = inbound.recipients
    if inbound.cc:
        meta["cc"] = inbound.cc
    if inbound.references:
        meta["references"] = inbound.references[-20:]
    if inbound.skipped_attachments:
        meta["skipped_attachments"] = [dataclasses.asdict(s) for s in inbound.skipped_attachments]
    if inbound.noise:
        meta["noise"] = inbound.noise
    if inbound.extra.get("suppress_autoreply"):
        meta["suppress_autoreply"] = True
    if inbound.sent_at:
        meta["sent_at"] = inbound.sent_at.isoformat()
    if thread_note:
        meta["thread_note"] = thread_note
    return Message(
        conversation=conversation, inbox=inbox, direction=Message.Direction.INBOUND,
        author_kind=Message.AuthorKind.CUSTOMER, author_customer=customer,
        channel_kind=inbox.channel_kind, subject=(inbound.subject or "")[:500],
        text=inbound.text, html=inbound.html, reply_text=inbound.reply_text or inbound.text,
        provider_id=inbound.provider_id[:500], automatic=automatic, meta=meta, created_at=now,
    )


def _store_attachments(message: Message, attachments: Sequence[InboundAttachment]) -> None:
    if not attachments:
        return
    rows = []
    for item in attachments:
        attachment = Attachment(message=message, filename=item.filename[:255] or "attachment",
                                content_type=item.content_type[:150], size=len(item.data),
                                content_id=item.content_id[:255], inline=item.inline)
        attachment.file.save(attachment.filename, ContentFile(item.data), save=False)
        rows.append(attachment)
    Attachment.objects.bulk_create(rows)


def store_attachments(message: Message, attachments: Iterable[InboundAttachment]) -> None:
    """Attach files to a message (replies with files use this too)."""
    _store_attachments(message, list(attachments))


def _needs_follow_up(conversation: Conversation, now: dt.datetime) -> bool:
    if not conversation.pk:
        return False
    if conversation.status == Status.CLOSED:
        return True
    window = dt.timedelta(days=settings.MOSTRADOR["REOPEN_WINDOW_DAYS"])
    return bool(conversation.status == Status.SOLVED and conversation.solved_at
                and conversation.solved_at < now - window)


def intake_language(inbound: InboundMessage, customer: Customer) -> str:
    """The language a new conversation is in: what the customer wrote, else their setting."""
    text = f"{inbound.subject}\n{inbound.reply_text or inbound.text}"
    return detect_language(text) or customer.language or ""


def _receive_changing(inbox: Inbox, conversation: Conversation | None, inbound: InboundMessage,
                      customer: Customer, now: dt.datetime, *,
                      follow_up_of: Conversation | None, thread_note: str) -> ReceiveResult:
    """A message that reopens its conversation, or opens a follow-up of a closed one."""
    if conversation is None:
        conversation = Conversation.objects.create(
            inbox=inbox, customer=customer, subject=(inbound.subject or "")[:500],
            status=Status.NEW, status_since=now, channel_kind=inbox.channel_kind,
            team=inbox.default_team, created_at=now, language=intake_language(inbound, customer),
            updated_at=now, last_activity_at=now, waiting_since=now,
            follow_up_of=follow_up_of, message_count=1,
        )
        opened = [_new_event(conversation, events.CONVERSATION_CREATED, now, customer=customer,
                             after={"channel": inbox.channel_kind, "inbox": inbox.pk,
                                    "follow_up_of": follow_up_of.pk if follow_up_of else None})]
        if follow_up_of is not None:
            opened.append(_new_event(follow_up_of, events.FOLLOW_UP_OPENED, now,
                                     customer=customer, after={"conversation": conversation.pk}))
        _save_events(opened)
        outcome = "created"
        message = _message(conversation, inbox, inbound, customer, now, thread_note=thread_note)
        message.save()
    else:
        outcome = "threaded"
        message = _message(conversation, inbox, inbound, customer, now, thread_note=thread_note)
        message.save()
        before = conversation.status
        Conversation.objects.filter(pk=conversation.pk).update(
            last_activity_at=now, updated_at=now, message_count=F("message_count") + 1,
            waiting_since=Coalesce("waiting_since", now), status=Status.OPEN, solved_at=None,
            status_since=Case(When(status=Status.OPEN, then=F("status_since")), default=now))
        conversation.status, conversation.solved_at = Status.OPEN, None
        _save_events([_new_event(conversation, events.STATUS_CHANGED, now, customer=customer,
                                 message=message, before=before, after=Status.OPEN)])
    _store_attachments(message, inbound.attachments)
    search.index_messages([(message.pk, conversation.pk,
                            f"{inbound.subject}\n{message.reply_text}")])
    _save_events([_new_event(conversation, events.MESSAGE_RECEIVED, now, customer=customer,
                             message=message)])
    return ReceiveResult(outcome, conversation, message, reason=thread_note)


def _receive_automatic(inbox: Inbox, conversation: Conversation, inbound: InboundMessage,
                       customer: Customer, now: dt.datetime) -> ReceiveResult:
    """Machine mail on a known thread (an out-of-office answer): kept on the timeline, but the
    conversation neither reopens nor counts it as the customer waiting."""
    if not conversation.pk:
        return ReceiveResult("ignored", reason=inbound.noise)
    message = _message(conversation, inbox, inbound, customer, now, automatic=True)
    message.save()
    _store_attachments(message, inbound.attachments)
    Conversation.objects.filter(pk=conversation.pk).update(
        message_count=F("message_count") + 1, updated_at=now)
    _save_events([_new_event(conversation, events.MESSAGE_AUTOMATIC, now, customer=customer,
                             message=message, after={"reason": inbound.noise})])
    return ReceiveResult("threaded", conversation, message, reason=inbound.noise)


def _receive_bounce(inbound: InboundMessage, now: dt.datetime) -> ReceiveResult:
    original = (Message.objects.select_related("conversation")
                .filter(provider_id=inbound.bounce_of, direction=Message.Direction.OUTBOUND)
                .first())
    if original is None:
        return ReceiveResult("ignored", reason=f"bounce of an unknown message "
                                               f"{inbound.bounce_of}: {inbound.bounce_reason}")
    reason = inbound.bounce_reason or "the recipient's server returned the message"
    Message.objects.filter(pk=original.pk).update(
        delivery_status=Message.Delivery.FAILED, delivery_error=f"bounced: {reason}"[:5000])
    _save_events([_new_event(original.conversation, events.MESSAGE_BOUNCED, now,
                             message=original, before=original.delivery_status,
                             after={"status": "failed", "reason": reason})])
    return ReceiveResult("bounced", original.conversation, original, reason=reason)

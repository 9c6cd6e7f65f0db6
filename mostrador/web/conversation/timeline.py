"""Reading a conversation for the agent's page: the thread (messages, notes, attachments and
timeline events merged in time order) and what the properties panel offers.

Everything is fetched in a fixed number of queries whatever the length of the thread: one
for the messages (authors joined), one for their attachments, one for the events (actors
joined), and one each for the agents, teams, tags, identities and follow-ups. Names that
events refer to by id (assignees, teams) are looked up in the agent and team lists the panel
needs anyway.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import DateFormat
from django.utils.dateparse import parse_datetime
from django.utils.formats import get_format
from django.utils.html import escape, format_html, format_html_join, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from mostrador.accounts.models import Agent, Team
from mostrador.automation import events as automation_events
from mostrador.channels.registry import all_adapters
from mostrador.conversations import events
from mostrador.conversations.actions import mention_handle
from mostrador.conversations.models import Attachment, Conversation, Event, Message
from mostrador.customers.models import Customer, Identity
from mostrador.routing import events as routing_events
from mostrador.routing.models import AssignmentRule
from mostrador.sla import calendars as sla_calendars
from mostrador.sla import events as sla_events
from mostrador.sla.models import Target

# Messages shown at once; older ones load on demand ("Show earlier messages").
THREAD_LIMIT = 250
# Shown in the browser; PDFs open in a new tab, anything else downloads.
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PDF_TYPE = "application/pdf"
# Events the thread already shows as messages (or on them): no separate line.
SHOWN_AS_MESSAGES = (events.MESSAGE_RECEIVED, events.MESSAGE_AUTOMATIC, events.MESSAGE_SENT,
                     events.NOTE_ADDED, events.NOTE_MENTIONED)
_MENTION_RE = re.compile(r"(?<![\w@])@(\w+(?:[.\-]\w+)*)")
# Only text that may hold a link or an address goes through urlize (slow on long text).
_LINKABLE_RE = re.compile(r"://|www\.|@")
# A sandboxed frame runs no script; this policy also keeps remote images (tracking pixels) and
# fonts out, and links open outside the frame.
_FRAME_HEAD = ('<!doctype html><meta charset="utf-8">'
               '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
               'img-src data:; style-src \'unsafe-inline\'">'
               '<base target="_blank"><style>body{font-family:system-ui,sans-serif;'
               'font-size:14px;margin:.5rem;color:#1c2430}img{max-width:100%;height:auto}'
               '</style>')


@dataclasses.dataclass
class Directory:
    """Agents and teams by id: for the panel's choices and for naming people in events."""

    agents: list[Agent]
    teams: list[Team]

    def __post_init__(self) -> None:
        self.agent_names = {a.user_id: a.display_name for a in self.agents}
        self.team_names = {t.pk: t.name for t in self.teams}

    @property
    def assignable(self) -> list[Agent]:
        return [a for a in self.agents if a.user.is_active]

    def mention_choices(self) -> list[dict[str, str]]:
        return [{"handle": mention_handle(a.user), "name": a.display_name}
                for a in self.assignable]

    def agent_name(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        return self.agent_names.get(user_id) or _("agent %(id)s") % {"id": user_id}

    def team_name(self, team_id: int | None) -> str:
        if team_id is None:
            return ""
        return self.team_names.get(team_id) or _("team %(id)s") % {"id": team_id}


def directory() -> Directory:
    agents = list(Agent.objects.select_related("user").order_by("display_name", "user_id"))
    teams = list(Team.objects.order_by("name"))
    return Directory(agents, teams)


@dataclasses.dataclass(frozen=True)
class Moment:
    """A time as the page shows it: in the agent's zone, and machine-readable."""

    iso: str
    text: str


def moment(value: dt.datetime) -> Moment:
    local = timezone.localtime(value)
    return Moment(local.isoformat(), DateFormat(local).format(get_format("SHORT_DATETIME_FORMAT")))


@dataclasses.dataclass
class FileView:
    attachment: Attachment
    url: str
    is_image: bool
    is_pdf: bool


@dataclasses.dataclass
class MessageView:
    message: Message
    author: str
    body: SafeString
    # The folded part: shown behind "Show original".
    original_text: str
    original_html: str
    files: list[FileView]
    skipped: list[dict[str, Any]]
    mentions: list[str]
    when: Moment
    kind_label: str = ""
    recipients: str = ""
    split_url: str = ""
    retry_url: str = ""
    # "Save as article": an agent's own replies only ("" for the rest).
    article_url: str = ""
    error: str = ""
    kind: str = "message"

    @property
    def at(self) -> dt.datetime:
        return self.message.created_at

    @property
    def sort_key(self) -> tuple[dt.datetime, int, int]:
        return (self.message.created_at, 1, self.message.pk)


@dataclasses.dataclass
class EventView:
    event: Event
    actor: str
    text: SafeString
    when: Moment
    failure: bool = False
    kind: str = "event"

    @property
    def at(self) -> dt.datetime:
        return self.event.at

    @property
    def sort_key(self) -> tuple[dt.datetime, int, int]:
        # An event written with a message (reopened by it) comes before it.
        return (self.event.at, 0, self.event.pk)


@dataclasses.dataclass
class Thread:
    entries: list[MessageView | EventView]
    earlier_before: int | None  # id of the oldest message shown, when older ones exist
    last_customer_channel: str


def load_thread(conversation: Conversation, names: Directory, *,
                before: Message | None = None, limit: int | None = None) -> Thread:
    """The newest ``limit`` messages (or those older than ``before``) with the events of the
    same stretch of time, in time order."""
    limit = limit or THREAD_LIMIT
    # Authors and actors are named from the agent list and the conversation's customer, not
    # joined per row: a long thread would otherwise build four model instances per line.
    messages_qs = conversation.messages.all()
    if before is not None:
        messages_qs = messages_qs.filter(
            Q(created_at__lt=before.created_at)
            | Q(created_at=before.created_at, pk__lt=before.pk))
    rows = list(messages_qs.order_by("-created_at", "-id")[:limit + 1])
    earlier = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()

    events_qs = (conversation.events.exclude(kind__in=SHOWN_AS_MESSAGES)
                 # A queued reply is its message; only a retry gets a line of its own.
                 .exclude(kind=events.REPLY_QUEUED, after__retry__isnull=True))
    if earlier and rows:
        events_qs = events_qs.filter(at__gte=rows[0].created_at)
    if before is not None:
        events_qs = events_qs.filter(at__lt=before.created_at)
    event_rows = list(events_qs.order_by("at", "id"))

    # Built once, not reversed per message: these lists run to hundreds of links.
    base = reverse("web:conversation", args=[conversation.pk])
    files_base = reverse("web:attachment", args=[0])[:-2]
    # Grouped here rather than with prefetch_related, which builds a queryset per message.
    files: dict[int, list[Attachment]] = {}
    for attachment in Attachment.objects.filter(message_id__in=[m.pk for m in rows]):
        files.setdefault(attachment.message_id, []).append(attachment)
    people = People.for_thread(conversation, names, rows, event_rows)
    entries: list[MessageView | EventView] = [
        message_view(m, base, files_base, people, files.get(m.pk, ())) for m in rows]
    for event in event_rows:
        view = event_view(event, names, people)
        if view is not None:
            entries.append(view)
    entries.sort(key=lambda e: e.sort_key)
    last_inbound = next((m.channel_kind for m in reversed(rows)
                         if m.direction == Message.Direction.INBOUND and not m.automatic), None)
    return Thread(entries, rows[0].pk if earlier and rows else None,
                  last_inbound or conversation.channel_kind)


@dataclasses.dataclass
class People:
    """Names of the users and customers a stretch of the thread mentions."""

    users: dict[int, str]
    customers: dict[int, str]

    @classmethod
    def for_thread(cls, conversation: Conversation, names: Directory,
                   messages: list[Message], timeline: list[Event]) -> People:
        users = dict(names.agent_names)
        customers = {conversation.customer_id: str(conversation.customer)}
        user_ids = ({m.author_user_id for m in messages} | {e.actor_user_id for e in timeline})
        user_ids -= {None, *users}
        if user_ids:  # people without an agent profile (integrations, former staff)
            for user in get_user_model().objects.filter(pk__in=user_ids):
                users[user.pk] = user.get_full_name() or user.get_username()
        customer_ids = ({m.author_customer_id for m in messages}
                        | {e.actor_customer_id for e in timeline}) - {None, *customers}
        if customer_ids:  # customers merged into this one
            customers.update((c.pk, str(c)) for c in Customer.objects.filter(pk__in=customer_ids))
        return cls(users, customers)

    def user(self, user_id: int) -> str:
        return self.users.get(user_id) or _("user %(id)s") % {"id": user_id}

    def customer(self, customer_id: int) -> str:
        return self.customers.get(customer_id) or _("customer %(id)s") % {"id": customer_id}


def message_view(message: Message, base: str, files_base: str, people: People,
                 attachments: Iterable[Attachment]) -> MessageView:
    """``base`` is the conversation page's path, ``files_base`` the attachments' prefix."""
    meta = message.meta or {}
    if message.author_user_id:
        author = people.user(message.author_user_id)
    elif message.author_customer_id:
        author = people.customer(message.author_customer_id)
    elif message.author_kind == Message.AuthorKind.BOT:
        author = _("Bot")
    else:
        author = _("System")
    shown = (message.reply_text or message.text).strip()
    original_text = message.text.strip()
    if original_text == shown:
        original_text = ""
    mentions: list[str] = []
    channel = channel_label(message.channel_kind)
    if message.direction == Message.Direction.NOTE:
        body = highlight_mentions(shown)
        mentions = [str(m) for m in meta.get("mentions") or []]
        kind_label = _("internal note")
    else:
        # urlize escapes the text around the links it makes, but returns a plain str.
        body = (mark_safe(urlize(shown, nofollow=True, autoescape=True))
                if _LINKABLE_RE.search(shown) else escape(shown))
        outbound = message.direction == Message.Direction.OUTBOUND
        kind_label = (_("replied via %(channel)s") if outbound
                      else _("wrote via %(channel)s")) % {"channel": channel}
    files = [FileView(a, f"{files_base}{a.pk}/", a.content_type in IMAGE_TYPES,
                      a.content_type == PDF_TYPE)
             for a in sorted(attachments, key=lambda a: a.pk)]
    return MessageView(message, author, body, original_text,
                       _FRAME_HEAD + message.html if message.html else "",
                       files, list(meta.get("skipped_attachments") or []), mentions,
                       moment(message.created_at), kind_label=kind_label,
                       recipients=", ".join(str(r) for r in meta.get("to") or []),
                       split_url=f"{base}messages/{message.pk}/split/",
                       retry_url=f"{base}messages/{message.pk}/retry/",
                       article_url=(f"{base}messages/{message.pk}/article/"
                                    if message.direction == Message.Direction.OUTBOUND
                                    and message.author_kind == Message.AuthorKind.AGENT
                                    else ""))


def highlight_mentions(text: str) -> SafeString:
    """The note's text, escaped, with ``@name`` tokens marked."""
    parts, last = [], 0
    for match in _MENTION_RE.finditer(text):
        parts.append(escape(text[last:match.start()]))
        parts.append(format_html('<span class="mention">{}</span>', match.group(0)))
        last = match.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece escaped above


def _link(number: Any) -> SafeString:
    if not isinstance(number, int):
        return format_html("#{}", number)
    return format_html('<a href="{}">#{}</a>', reverse("web:conversation", args=[number]),
                       number)


def _status(value: Any) -> str:
    try:
        return str(Conversation.Status(value).label)
    except ValueError:
        return str(value)


def _priority(value: Any) -> str:
    try:
        return str(Conversation.Priority(value).label)
    except ValueError:
        return str(value)


def _actor(event: Event, people: People) -> str:
    if event.actor_user_id:
        return people.user(event.actor_user_id)
    if event.actor_customer_id:
        return people.customer(event.actor_customer_id)
    return _("Mostrador")


def _list(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def event_view(event: Event, names: Directory, people: People) -> EventView | None:
    """One compact line for the event, or None when the thread shows it otherwise."""
    kind, before, after = event.kind, event.before, event.after
    after_dict = after if isinstance(after, dict) else {}
    failure = False
    if kind == events.STATUS_CHANGED:
        text = format_html(_("changed the status from {before} to {after}"),
                           before=_status(before), after=_status(after))
    elif kind == events.PRIORITY_CHANGED:
        text = format_html(_("changed the priority from {before} to {after}"),
                           before=_priority(before), after=_priority(after))
    elif kind == events.ASSIGNEE_CHANGED:
        if after is None:
            text = format_html(_("unassigned the conversation (was {before})"),
                               before=names.agent_name(before))
        else:
            text = format_html(_("assigned the conversation to {name}"),
                               name=names.agent_name(after))
    elif kind == events.TEAM_CHANGED:
        if after is None:
            text = format_html(_("removed the team {before}"), before=names.team_name(before))
        else:
            text = format_html(_("moved the conversation to team {team}"),
                               team=names.team_name(after))
    elif kind == events.TAGS_CHANGED:
        old, new = set(before or []), set(after or [])
        pieces = []
        if new - old:
            pieces.append(format_html(_("added tags {tags}"), tags=_list(sorted(new - old))))
        if old - new:
            pieces.append(format_html(_("removed tags {tags}"), tags=_list(sorted(old - new))))
        if not pieces:
            return None
        text = format_html_join("; ", "{}", ((p,) for p in pieces))
    elif kind == events.SUBJECT_CHANGED:
        text = format_html(_("changed the subject to “{subject}”"), subject=after or "")
    elif kind == events.FIELDS_CHANGED:
        changes = []
        for key, value in sorted(after_dict.items()):
            if value is None:
                changes.append(format_html(_("{key} removed"), key=key))
            else:
                changes.append(format_html("{} = {}", key, value))
        text = format_html(_("changed custom fields: {changes}"),
                           changes=format_html_join(", ", "{}", ((c,) for c in changes)))
    elif kind == events.CONVERSATION_CREATED:
        if after_dict.get("split_from"):
            text = format_html(_("split this conversation off from {number}"),
                               number=_link(after_dict["split_from"]))
        elif after_dict.get("follow_up_of"):
            text = format_html(_("opened this conversation as a follow-up of {number}"),
                               number=_link(after_dict["follow_up_of"]))
        else:
            text = format_html(_("opened the conversation via {channel}"),
                               channel=channel_label(after_dict.get("channel") or ""))
    elif kind == events.FOLLOW_UP_OPENED:
        text = format_html(_("wrote again after the conversation closed: follow-up {number}"),
                           number=_link(after_dict.get("conversation")))
    elif kind == events.SPLIT:
        text = format_html(_("split a message off into {number}"),
                           number=_link(after_dict.get("conversation")))
    elif kind == events.MERGED:
        count = after_dict.get("messages") or 0
        text = format_html(ngettext("merged {number} into this conversation ({count} message)",
                                    "merged {number} into this conversation ({count} messages)",
                                    count), number=_link(after_dict.get("from")), count=count)
    elif kind == events.MERGED_INTO:
        text = format_html(_("merged this conversation into {number}"),
                           number=_link(after_dict.get("into")))
    elif kind == events.CUSTOMER_CHANGED:
        text = escape(_("moved the conversation to another customer (customers merged)"))
    elif kind == events.REPLY_QUEUED:
        if not after_dict.get("retry"):
            return None
        text = escape(_("sent a failed reply again"))
    elif kind == events.MESSAGE_FAILED:
        failure = True
        text = format_html(_("Delivery of a reply failed: {reason}"),
                           reason=after_dict.get("reason") or "")
    elif kind == events.MESSAGE_BOUNCED:
        failure = True
        text = format_html(_("A reply bounced: {reason}"), reason=after_dict.get("reason") or "")
    elif kind == events.TIER_CHANGED:
        text = format_html(_("moved the conversation from tier {before} to tier {after}"),
                           before=before, after=after)
    elif kind in sla_events.ALL:
        text, failure = sla_event_text(kind, after_dict, names)
    elif kind in ROUTING_KINDS:
        text = routing_event_text(kind, before if isinstance(before, dict) else {}, after_dict,
                                  names)
    elif kind in AUTOMATION_KINDS:
        text = automation_event_text(kind, after_dict)
    else:
        # Kinds written by other parts of the desk (routing…): named as they are.
        text = format_html("{}", kind)
    return EventView(event, _actor(event, people), text, moment(event.at), failure)


# --- routing and automation -----------------------------------------------------------------

ROUTING_KINDS = (routing_events.ASSIGNED, routing_events.ESCALATED, routing_events.DEESCALATED,
                 routing_events.TRANSFERRED)
AUTOMATION_KINDS = (automation_events.TRIGGER_FIRED, automation_events.TIME_RULE_FIRED,
                    automation_events.MACRO_APPLIED)


def strategy_label(value: Any) -> str:
    try:
        return str(AssignmentRule.Strategy(value).label)
    except ValueError:
        return str(value or "")


def _place(tier: Any, team_id: Any, names: Directory) -> str:
    """"tier 2 (Soporte L2)", or "tier 2" without a team."""
    if team_id is None:
        return _("tier %(tier)s") % {"tier": tier}
    return _("tier %(tier)s (%(team)s)") % {"tier": tier, "team": names.team_name(team_id)}


def _holder(side: dict[str, Any], names: Directory) -> str:
    """Who had the conversation on one side of a transfer: "Soporte L1, Ana García"."""
    team = names.team_name(side["team"]) if side.get("team") is not None else _("no team")
    agent = (names.agent_name(side["agent"]) if side.get("agent") is not None
             else _("unassigned"))
    return _("%(team)s, %(agent)s") % {"team": team, "agent": agent}


def routing_event_text(kind: str, before: dict[str, Any], after: dict[str, Any],
                       names: Directory) -> SafeString:
    """The line for a ``routing.*`` event. Moves keep what the conversation had before the
    move in ``before`` and what it has after it in ``after`` (tier, team, agent)."""
    if kind == routing_events.ASSIGNED:
        details = [strategy_label(after.get("strategy"))]
        load, capacity = after.get("load"), after.get("capacity")
        if load is not None and capacity is not None:
            details.append(_("%(load)s of %(capacity)s on this channel") % {
                "load": load, "capacity": capacity})
        if after.get("skills"):
            details.append(_("skills %(skills)s") % {"skills": _list(after["skills"])})
        return format_html(_("assigned the conversation to {name} by routing ({details})"),
                           name=names.agent_name(after.get("agent")),
                           details="; ".join(d for d in details if d))
    note = format_html("; {}", _("with a note")) if after.get("note") else mark_safe("")
    if kind == routing_events.TRANSFERRED:
        return format_html(_("transferred the conversation from {source} to {target}{note}"),
                           source=_holder(before, names), target=_holder(after, names),
                           note=note)
    source = _place(before.get("tier", after.get("from_tier")), before.get("team"), names)
    target = _place(after.get("tier", after.get("to_tier")), after.get("team"), names)
    let_go = mark_safe("")
    if before.get("agent") is not None and after.get("agent") is None:
        let_go = format_html("; {}", _("unassigned (was %(name)s)") % {
            "name": names.agent_name(before["agent"])})
    if kind == routing_events.ESCALATED:
        template = _("escalated the conversation from {source} to {target}{let_go}{note}")
    else:
        template = _("sent the conversation back from {source} to {target}{let_go}{note}")
    return format_html(template, source=source, target=target, let_go=let_go, note=note)


def automation_action_labels() -> dict[str, str]:
    """What each action type did, as a timeline line says it."""
    return {
        "assign": _("assigned"), "set_team": _("set the team"), "set_tier": _("set the tier"),
        "escalate": _("escalated"), "set_priority": _("set the priority"),
        "set_status": _("set the status"), "add_tags": _("added tags"),
        "remove_tags": _("removed tags"), "set_field": _("set a custom field"),
        "reply": _("replied to the customer"), "add_note": _("added a note"),
        "notify": _("notified by e-mail"), "webhook": _("called a webhook"),
    }


def automation_event_text(kind: str, after: dict[str, Any]) -> SafeString:
    """The line for an ``automation.*`` event: which rule or macro, what it did and what it
    had to skip (the skipped reasons are the engine's own words)."""
    labels = automation_action_labels()
    done = [labels.get(str(a), str(a)) for a in after.get("actions") or []]
    did = _list(done) if done else _("nothing to change")
    skipped = mark_safe("")
    if after.get("skipped"):
        skipped = format_html(_("; skipped: {reasons}"), reasons="; ".join(
            str(reason) for reason in after["skipped"]))
    name = after.get("name") or ""
    if kind == automation_events.TRIGGER_FIRED:
        return format_html(_("ran the trigger “{name}”: {did}{skipped}"), name=name, did=did,
                           skipped=skipped)
    if kind == automation_events.TIME_RULE_FIRED:
        hours = after.get("hours")
        if hours:
            return format_html(ngettext("ran the time rule “{name}” after {hours} hour: "
                                        "{did}{skipped}",
                                        "ran the time rule “{name}” after {hours} hours: "
                                        "{did}{skipped}", hours),
                               name=name, hours=hours, did=did, skipped=skipped)
        return format_html(_("ran the time rule “{name}”: {did}{skipped}"), name=name, did=did,
                           skipped=skipped)
    return format_html(_("applied the macro “{name}”: {did}{skipped}"), name=name, did=did,
                       skipped=skipped)


# --- SLA ------------------------------------------------------------------------------------


def target_kind_label(kind: Any) -> str:
    try:
        return str(Target.Kind(kind).label)
    except ValueError:
        return str(kind)


def _when(value: Any) -> str:
    """An ISO time from an event's payload, as the page shows times (agent's zone)."""
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return moment(parsed).text if parsed is not None else ""


def _target_pieces(entries: Any, *, due: bool = True) -> SafeString:
    """"First response due 13/10 09:59; Resolution due …" for a clock step's targets."""
    pieces = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        label = target_kind_label(entry.get("kind"))
        if entry.get("days"):
            label = ngettext("%(kind)s (%(days)d business day)",
                             "%(kind)s (%(days)d business days)", entry["days"]) % {
                "kind": label, "days": entry["days"]}
        if entry.get("late"):
            pieces.append(format_html(_("{kind} (late)"), kind=label))
        elif due and entry.get("due") and entry.get("before_due"):
            pieces.append(format_html(_("{kind} due {due} (was {before})"), kind=label,
                                      due=_when(entry["due"]), before=_when(entry["before_due"])))
        elif due and entry.get("due"):
            pieces.append(format_html(_("{kind} due {due}"), kind=label, due=_when(entry["due"])))
        else:
            pieces.append(format_html("{}", label))
    return format_html_join("; ", "{}", ((piece,) for piece in pieces))


def _notified(after: dict[str, Any], names: Directory) -> SafeString:
    people = [names.agent_name(user_id) for user_id in after.get("notified") or []
              if isinstance(user_id, int)]
    if not people:
        return mark_safe("")
    return format_html(_("; told {people}"), people=_list(people))


def sla_event_text(kind: str, after: dict[str, Any], names: Directory) -> tuple[SafeString, bool]:
    """The line for an ``sla.*`` event and whether it is shown as a failure (a breach)."""
    targets = after.get("targets")
    policy = after.get("policy") or ""
    if kind == sla_events.STARTED:
        text = (format_html(_("started the SLA clock ({policy}): {targets}"), policy=policy,
                            targets=_target_pieces(targets)) if policy else
                format_html(_("started the SLA clock: {targets}"),
                            targets=_target_pieces(targets)))
    elif kind == sla_events.PAUSED:
        text = format_html(_("paused the SLA clock while the customer has the next move: "
                             "{targets}"), targets=_target_pieces(targets, due=False))
    elif kind == sla_events.RESUMED:
        text = format_html(_("resumed the SLA clock: {targets}"),
                           targets=_target_pieces(targets))
    elif kind == sla_events.MET:
        text = format_html(_("recorded the SLA target as met: {targets}"),
                           targets=_target_pieces(targets, due=False))
    elif kind == sla_events.RECOMPUTED:
        text = (format_html(_("recomputed the SLA due times ({policy}): {targets}"),
                            policy=policy, targets=_target_pieces(targets)) if policy else
                format_html(_("recomputed the SLA due times: {targets}"),
                            targets=_target_pieces(targets)))
    elif kind == sla_events.CANCELLED:
        text = format_html(_("stopped SLA targets that no longer apply: {targets}"),
                           targets=_target_pieces(targets, due=False))
    elif kind == sla_events.WARNING:
        text = format_html(_("warned that the SLA is at risk: {kind} due {due}{notified}"),
                           kind=target_kind_label(after.get("kind")),
                           due=_when(after.get("due")), notified=_notified(after, names))
    elif kind == sla_events.BREACHED:
        return format_html(_("SLA breached: {kind} was due {due}{notified}"),
                           kind=target_kind_label(after.get("kind")),
                           due=_when(after.get("due")), notified=_notified(after, names)), True
    elif kind == sla_events.ESCALATED:
        steps = []
        if "priority" in after:
            steps.append(format_html(_("priority raised to {priority}"),
                                     priority=_priority(after["priority"])))
        if "tier" in after:
            steps.append(format_html(_("moved up to tier {tier}"), tier=after["tier"]))
        if "unassigned" in after:
            steps.append(format_html(_("unassigned {name}"),
                                     name=names.agent_name(after["unassigned"])))
        if "team" in after:
            steps.append(format_html(_("moved to team {team}"),
                                     team=names.team_name(after["team"])))
        text = format_html(_("escalated the SLA breach ({policy}): {steps}"), policy=policy,
                           steps=format_html_join("; ", "{}", ((step,) for step in steps)))
    else:  # sla.after_hours
        text = format_html(_("told the customer the desk is closed; a person answers from "
                             "{opens}"), opens=_when(after.get("opens")))
    return text, False


@dataclasses.dataclass
class TargetView:
    """One SLA promise as the properties panel shows it."""

    kind: str
    label: str
    health: str  # on_track, at_risk, breached, paused, met, met_late
    health_label: str
    due: Moment | None
    left: str
    met: Moment | None


def sla_health_labels() -> dict[str, str]:
    return {"on_track": _("On track"), "at_risk": _("At risk"), "breached": _("Breached"),
            "paused": _("Paused"), "met": _("Met"), "met_late": _("Met late")}


def duration_text(seconds: int) -> str:
    """"45 min", "2 h 15 min", "3 d 4 h": precise enough to plan by, short enough to scan."""
    minutes = max(0, seconds) // 60
    if minutes < 1:
        return _("<1 min")
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return (_("%(days)d d %(hours)d h") % {"days": days, "hours": hours} if hours
                else _("%(count)d d") % {"count": days})
    if hours:
        return (_("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
                if minutes else _("%(count)d h") % {"count": hours})
    return _("%(count)d min") % {"count": minutes}


def sla_targets(conversation: Conversation, *, now: dt.datetime | None = None) -> list[TargetView]:
    """The conversation's SLA promises (those that still apply), in a fixed kind order. No
    query for a conversation that never had an SLA (its ``sla_status`` is empty); one with
    the calendars joined otherwise, whose opening hours come from the per-process cache."""
    if not conversation.sla_status:
        return []
    now = now or timezone.now()
    labels = sla_health_labels()
    order = {kind: index for index, kind in enumerate(Target.Kind.values)}
    rows = sorted(Target.objects.filter(conversation=conversation)
                  .exclude(state=Target.State.CANCELLED).select_related("calendar"),
                  key=lambda t: order.get(t.kind, len(order)))
    views = []
    for target in rows:
        health = target.health(now)
        left = ""
        if target.state == Target.State.PAUSED:
            left = _("%(duration)s left when the clock resumes") % {
                "duration": duration_text(target.budget_us // 1_000_000)}
        elif target.state == Target.State.ACTIVE and target.due_at is not None:
            if target.due_at > now:
                left = _time_left(target, now)
            else:
                left = _("%(duration)s overdue") % {
                    "duration": duration_text(int((now - target.due_at).total_seconds()))}
        views.append(TargetView(
            kind=target.kind, label=target_kind_label(target.kind), health=health,
            health_label=labels.get(health, health),
            due=moment(target.due_at) if target.due_at and target.state == Target.State.ACTIVE
            else None, left=left, met=moment(target.met_at) if target.met_at else None))
    return views


def _time_left(target: Target, now: dt.datetime) -> str:
    if target.business_hours and target.calendar is not None:
        business = sla_calendars.for_row(target.calendar)
        seconds = int(business.working_time(now, target.due_at).total_seconds())
        return _("%(duration)s of opening hours left") % {"duration": duration_text(seconds)}
    seconds = int((target.due_at - now).total_seconds())
    return _("%(duration)s left") % {"duration": duration_text(seconds)}


_CHANNEL_LABELS = dict(Identity.Kind.choices)


def channel_label(kind: str) -> str:
    return str(_CHANNEL_LABELS.get(kind, kind or _("unknown channel")))


def reply_channels(conversation: Conversation, default: str) -> list[tuple[str, str]]:
    """Channels a reply can go out on: those the customer has an identity on that the desk
    can send through, plus the one the customer used last."""
    sendable = {adapter.kind for adapter in all_adapters()}
    kinds = set(conversation.customer.identities.values_list("kind", flat=True)) & sendable
    kinds.add(default)
    ordered = [default, *sorted(kinds - {default})]
    return [(kind, channel_label(kind)) for kind in ordered]


def follow_up_numbers(conversation: Conversation) -> list[int]:
    return list(Conversation.objects.filter(follow_up_of=conversation)
                .order_by("pk").values_list("pk", flat=True)[:20])

"""Running rules: the facts a condition looks at, and the actions triggers, time rules and
macros share.

Triggers run after commit, once per committed change of a conversation, in ``position`` order.
When one fires, the pass starts again from the top with the conversation as the actions left it,
and each trigger fires at most once per change (so "if priority is urgent, then notify" sees the
priority another trigger just raised). The writes a trigger makes are published as caused by
``trigger`` and do not wake triggers again: that is the loop guard. Writes of time rules,
routing and people do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from mostrador.accounts.models import Agent, Team
from mostrador.automation import events
from mostrador.automation.models import Trigger
from mostrador.automation.rules import (
    Action,
    Facts,
    Predicate,
    compile_conditions,
    fold,
    parse_actions,
    parse_conditions,
)
from mostrador.conversations import actions as conversation_actions
from mostrador.conversations import events as conversation_events
from mostrador.conversations.models import Conversation, Event, Inbox, Message
from mostrador.core.publish import caused_by
from mostrador.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)
TRIGGER_CAUSE = "trigger"
# Timeline kinds that are not a change worth a trigger's attention.
QUIET_PREFIXES = ("sla.", "automation.", "routing.", "message.sent", "message.failed",
                  "message.bounced", "message.automatic", "note.mentioned")
CHANGE_FIELDS = {
    conversation_events.STATUS_CHANGED: "status",
    conversation_events.PRIORITY_CHANGED: "priority",
    conversation_events.ASSIGNEE_CHANGED: "assignee",
    conversation_events.TEAM_CHANGED: "team",
    conversation_events.TIER_CHANGED: "tier",
}


# --- facts ---------------------------------------------------------------------------------


# Facts that cost a query of their own, read only when some rule looks at them.
COSTLY_FACTS = frozenset({"text", "tags", "customer.email", "business_hours"})


def facts_for(conversation: Conversation, *, changes: dict[str, tuple] | None = None,
              needs: frozenset[str] | set[str] | None = None,
              need_business_hours: bool = False, now: dt.datetime | None = None) -> Facts:
    """What conditions look at: the conversation and its customer (already loaded) and, when
    ``needs`` names them (None: all), the latest customer message, the tags, the customer's
    e-mail address and whether the channel is open now."""
    customer = conversation.customer
    wanted = COSTLY_FACTS if needs is None else needs
    facts: Facts = {
        "status": conversation.status,
        "priority": conversation.priority,
        "channel": conversation.channel_kind,
        "inbox": conversation.inbox_id,
        "team": conversation.team_id,
        "tier": conversation.tier,
        "assignee": conversation.assignee_id,
        "request_type": conversation.request_type,
        "language": conversation.language,
        "subject": conversation.subject,
        "customer.segments": list(customer.segments or ()),
        "customer.language": customer.language,
        "customer.organisation": customer.organisation_id,
        "customer.attributes": dict(customer.attributes or {}),
        "fields": dict(conversation.custom_fields or {}),
        "message_count": conversation.message_count,
        "_changes": changes or {},
        "_folded.subject": fold(conversation.subject),
    }
    if "text" in wanted:
        last = (Message.objects.filter(conversation_id=conversation.pk,
                                       direction=Message.Direction.INBOUND, automatic=False)
                .order_by("-created_at", "-id").values_list("reply_text", "text").first())
        text = (last[0] or last[1]) if last else ""
        facts["text"], facts["_folded.text"] = text, fold(text)
    if "tags" in wanted:
        facts["tags"] = list(conversation.tags.values_list("name", flat=True))
    if "customer.email" in wanted:
        facts["customer.email"] = customer.identities.filter(kind="email").order_by(
            "id").values_list("external_id", flat=True).first() or ""
    if need_business_hours or "business_hours" in wanted:
        facts["business_hours"] = is_open(conversation, now or timezone.now())
    return facts


def is_open(conversation: Conversation, now: dt.datetime) -> bool:
    """Whether the conversation's hours (its team's calendar, else its inbox's, else the
    desk's default) are open at ``now``; always open without a calendar. What it reads is
    trusted for VERSION_CHECK_SECONDS, like the compiled triggers."""
    key = (conversation.team_id, conversation.inbox_id)
    clock = time.monotonic()
    cached = _hours.get(key)
    if cached is None or clock - cached[0] > VERSION_CHECK_SECONDS:
        if len(_hours) > 10_000:
            _hours.clear()
        cached = (clock, _hours_of(conversation))
        _hours[key] = cached
    return cached[1].is_open(now)


def _hours_of(conversation: Conversation):
    from mostrador.sla import calendars
    from mostrador.sla.models import Calendar

    calendar_id = None
    if conversation.team_id:
        calendar_id = Team.objects.filter(pk=conversation.team_id).values_list(
            "calendar_id", flat=True).first()
    if calendar_id is None:
        calendar_id = Inbox.objects.filter(pk=conversation.inbox_id).values_list(
            "calendar_id", flat=True).first()
    if calendar_id is None:
        calendar_id = Calendar.objects.filter(is_default=True).values_list(
            "pk", flat=True).first()
    return calendars.business_calendar(calendar_id)


_hours: dict[tuple[int | None, int], tuple[float, Any]] = {}





# --- compiled triggers ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class CompiledRule:
    pk: int
    name: str
    on: frozenset[str]
    matches: Predicate
    actions: tuple[Action, ...]
    needs_business_hours: bool
    # The condition fields it reads (see COSTLY_FACTS).
    needs: frozenset[str] = frozenset()


_ordered: dict[str, Any] = {"version": None, "rules": [], "checked": 0.0}
# How long a process trusts its compiled triggers before it checks their version again. A
# change made in this process is seen at once (forget_compiled runs after its commit); one
# made in another process within this many seconds.
VERSION_CHECK_SECONDS = 1.0


def forget_compiled() -> None:
    _ordered.update(version=None, rules=[], checked=0.0)
    _hours.clear()


def compiled_triggers() -> list[CompiledRule]:
    """The active triggers in order, compiled once per version.

    Checking the version costs one aggregate query (how many triggers, the latest change): every
    write to a trigger (edit, toggle, move) stamps ``updated_at`` and a deletion changes the
    count, so while both stay the same the compiled list is still right. The check runs at most
    once per VERSION_CHECK_SECONDS."""
    clock = time.monotonic()
    if _ordered["version"] is not None and clock - _ordered["checked"] < VERSION_CHECK_SECONDS:
        return _ordered["rules"]
    version = Trigger.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    key = (version["n"], version["last"])
    _ordered["checked"] = clock
    if _ordered["version"] == key:
        return _ordered["rules"]
    rules = []
    for row in Trigger.objects.filter(active=True).order_by("position", "id"):
        try:
            rules.append(compile_rule(row.pk, row.name, row.events, row.conditions,
                                      row.actions))
        except Exception:
            logger.exception("trigger %s cannot be compiled; skipped", row.pk)
    _ordered.update(version=key, rules=rules, checked=clock)
    return rules


def compile_rule(pk: int, name: str, on: Iterable[str], conditions: Any,
                 actions: Any) -> CompiledRule:
    parsed = parse_conditions(conditions)
    fields = {c.field for c in [*parsed.all, *parsed.any]}
    return CompiledRule(pk, name, frozenset(on or ()), compile_conditions(parsed),
                        tuple(parse_actions(actions)), "business_hours" in fields,
                        frozenset(fields))


# --- triggers after commit -----------------------------------------------------------------


@dataclasses.dataclass
class _Change:
    on: set[str] = dataclasses.field(default_factory=set)
    event_ids: list[int] = dataclasses.field(default_factory=list)


def on_commit_batch(batch: list[tuple[str, dict[str, Any]]]) -> None:
    """The listener: which conversations changed how, then :func:`run_triggers` for each."""
    changes: dict[int, _Change] = {}
    for kind, payload in batch:
        conversation_id = payload.get("conversation_id")
        if not conversation_id or payload.get("cause") == TRIGGER_CAUSE:
            continue
        if kind.startswith(QUIET_PREFIXES):
            continue
        change = changes.setdefault(conversation_id, _Change())
        if kind == conversation_events.CONVERSATION_CREATED:
            change.on.add(Trigger.On.CREATED)
        elif kind == conversation_events.MESSAGE_RECEIVED:
            change.on.add(Trigger.On.MESSAGE)
        if payload.get("event_id") and kind in CHANGE_FIELDS:
            change.event_ids.append(payload["event_id"])
        if kind != conversation_events.CONVERSATION_CREATED:
            change.on.add(Trigger.On.UPDATED)
    if not changes:
        return
    triggers = compiled_triggers()
    if not triggers:
        return
    for conversation_id, change in changes.items():
        if Trigger.On.CREATED in change.on:
            # The first message comes with the creation: one "created", not also an update.
            change.on -= {Trigger.On.UPDATED, Trigger.On.MESSAGE}
        try:
            run_triggers(conversation_id, change.on, triggers,
                         changes=_field_changes(change.event_ids))
        except Exception:
            logger.exception("triggers failed on conversation %s", conversation_id)


def _field_changes(event_ids: list[int]) -> dict[str, tuple]:
    found: dict[str, tuple] = {}
    if not event_ids:
        return found
    for kind, before, after in (Event.objects.filter(pk__in=event_ids).order_by("at", "id")
                                .values_list("kind", "before", "after")):
        field = CHANGE_FIELDS[kind]
        first_before = found[field][0] if field in found else before
        found[field] = (first_before, after)
    return found


# What conditions read of a conversation and its customer (nothing else is loaded: every
# inbound message pays for this read).
FACT_COLUMNS = ("status", "priority", "channel_kind", "inbox_id", "team_id", "tier",
                "assignee_id", "request_type", "language", "subject", "custom_fields",
                "message_count", "merged_into_id", "customer_id", "customer__segments",
                "customer__language", "customer__organisation_id", "customer__attributes",
                "customer__name")


def _load(conversation_id: int) -> Conversation | None:
    return (Conversation.objects.select_related("customer").only(*FACT_COLUMNS)
            .filter(pk=conversation_id, merged_into__isnull=True).first())


def run_triggers(conversation_id: int, on: set[str], triggers: list[CompiledRule], *,
                 changes: dict[str, tuple] | None = None) -> list[int]:
    """Evaluate the triggers for one change; returns the ids of those that fired."""
    interested = [t for t in triggers if t.on & on]
    if not interested:
        return []
    conversation = _load(conversation_id)
    if conversation is None:
        return []
    needs = frozenset().union(*(t.needs for t in interested))
    facts = facts_for(conversation, changes=changes, needs=needs)
    fired: list[int] = []
    while True:
        for trigger in interested:
            if trigger.pk in fired or not trigger.matches(facts):
                continue
            fire_trigger(conversation, trigger)
            fired.append(trigger.pk)
            conversation = _load(conversation_id)
            if conversation is None:
                return fired
            facts = facts_for(conversation, changes=changes, needs=needs)
            break
        else:
            return fired


def fire_trigger(conversation: Conversation, trigger: CompiledRule) -> None:
    with caused_by(TRIGGER_CAUSE), transaction.atomic():
        outcome = apply_actions(conversation, trigger.actions, acting_user=None,
                                automatic=True, label=trigger.name)
        conversation_actions.record_event(
            conversation, events.TRIGGER_FIRED, at=timezone.now(),
            after={"trigger": trigger.pk, "name": trigger.name, **outcome.as_dict()})
        Trigger.objects.filter(pk=trigger.pk).update(fired_count=F("fired_count") + 1,
                                                     last_fired_at=timezone.now())


# --- actions -------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    done: list[str] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    # A macro's reply text, when the macro writes one.
    reply: Message | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"actions": self.done, "skipped": self.skipped}


def text_for(value: Any, conversation: Conversation) -> tuple[str, str]:
    """The body of a reply or note in the conversation's language (else the customer's, else
    Spanish, else English, else any) and that language ("" for a single text)."""
    if isinstance(value, str):
        return value, ""
    bodies = {k: v for k, v in (value or {}).items() if isinstance(v, str) and v.strip()}
    for language in (conversation.language, conversation.customer.language, "es", "en", ""):
        if language in bodies:
            return bodies[language], language
    return next(iter(bodies.items()), ("", ""))


def _render(value: Any, conversation: Conversation, agent_user) -> str:
    from mostrador.automation.templating import placeholder_context, render

    text, language = text_for(value, conversation)
    # Labels and dates in the body's own language.
    return render(text, placeholder_context(conversation, agent_user=agent_user,
                                            language=language or None)).strip()


def apply_actions(conversation: Conversation, actions: Iterable[Action], *, acting_user,
                  automatic: bool, label: str) -> Outcome:
    """Run actions on a conversation inside the caller's transaction. An action whose target
    is gone (a deleted team, a deactivated agent) is skipped and reported, not fatal."""
    outcome = Outcome()
    user_model = get_user_model()
    for action in actions:
        kind, value = action.type, action.value
        conversation.refresh_from_db()
        try:
            if kind == "assign":
                if value == "auto":
                    from mostrador.routing.actions import route

                    if conversation.assignee_id:
                        conversation_actions.do_assign(conversation, None,
                                                       acting_user=acting_user)
                    route(conversation.pk)
                else:
                    user = None
                    if value is not None:
                        user = user_model.objects.filter(pk=value, is_active=True).first()
                        if user is None:
                            outcome.skipped.append(f"assign: no active agent {value}")
                            continue
                    conversation_actions.do_assign(conversation, user, acting_user=acting_user)
            elif kind == "set_team":
                team = Team.objects.filter(pk=value).first() if value is not None else None
                if value is not None and team is None:
                    outcome.skipped.append(f"set_team: no team {value}")
                    continue
                conversation_actions.do_set_team(conversation, team, acting_user=acting_user)
            elif kind == "set_tier":
                conversation_actions.do_set_tier(conversation, value, acting_user=acting_user)
            elif kind == "escalate":
                from mostrador.routing.actions import MAX_TIER, do_escalate

                if conversation.tier >= MAX_TIER:
                    outcome.skipped.append("escalate: already at the top tier")
                    continue
                do_escalate(conversation, acting_user=acting_user)
            elif kind == "set_priority":
                conversation_actions.do_change_priority(conversation, value,
                                                        acting_user=acting_user)
            elif kind == "set_status":
                if conversation.status == Conversation.Status.CLOSED:
                    outcome.skipped.append("set_status: closed")
                    continue
                conversation_actions.do_change_status(conversation, value,
                                                      acting_user=acting_user)
            elif kind == "add_tags":
                conversation_actions.do_add_tags(conversation, value, acting_user=acting_user)
            elif kind == "remove_tags":
                conversation_actions.do_remove_tags(conversation, value, acting_user=acting_user)
            elif kind == "set_field":
                conversation_actions.do_set_custom_fields(
                    conversation, {value["name"]: value.get("value")}, acting_user=acting_user)
            elif kind == "reply":
                text = _render(value, conversation, acting_user)
                if not text:
                    outcome.skipped.append("reply: empty")
                    continue
                if automatic:
                    sent = conversation_actions.do_send_automatic_reply(
                        conversation, text, reason=f"automation: {label}")
                    if sent is None:
                        outcome.skipped.append("reply: the customer's message may not be "
                                               "answered automatically")
                        continue
                else:
                    outcome.reply = conversation_actions.do_send_reply(
                        conversation, text, acting_user=acting_user)
            elif kind == "add_note":
                text = _render(value, conversation, acting_user)
                conversation_actions.do_add_note(conversation, text, acting_user=acting_user)
            elif kind == "notify":
                recipients = notify_recipients(conversation, value.get("to"))
                if not recipients:
                    outcome.skipped.append("notify: nobody to tell")
                    continue
                from mostrador.automation.tasks import notify_agents

                text = _render(value.get("text") or "", conversation, None)
                enqueue_on_commit(notify_agents, recipients, conversation.pk, label, text)
            elif kind == "webhook":
                from mostrador.automation.webhooks import enqueue_trigger_webhook

                enqueue_trigger_webhook(value, conversation.pk, trigger_name=label)
            outcome.done.append(kind)
        except Exception as exc:  # one failing action does not undo the others
            from mostrador.core.errors import MostradorError

            if not isinstance(exc, MostradorError):
                raise
            outcome.skipped.append(f"{kind}: {exc}")
    return outcome


def notify_recipients(conversation: Conversation, to: Any) -> list[int]:
    users = get_user_model().objects.filter(is_active=True)
    if to == "assignee":
        ids = [conversation.assignee_id] if conversation.assignee_id else []
    elif to == "team":
        ids = list(users.filter(teams=conversation.team_id).values_list("pk", flat=True)) \
            if conversation.team_id else []
    elif to == "supervisors":
        ids = list(users.filter(agent__role__in=[Agent.Role.SUPERVISOR, Agent.Role.ADMIN])
                   .values_list("pk", flat=True))
    elif isinstance(to, list):
        ids = list(users.filter(pk__in=[i for i in to if isinstance(i, int)])
                   .values_list("pk", flat=True))
    else:
        ids = []
    return sorted(set(ids))

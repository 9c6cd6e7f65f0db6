"""What the automation endpoints read and write: triggers, time rules, macros, a macro applied
to a conversation, and the rule language's schema. Conditions and actions travel as free JSON
(the shapes of :mod:`mostrador.automation.rules`, listed by ``GET /automation/schema``); the
domain validates them and names ``conditions`` or ``actions`` when one is wrong. Bodies forbid
unknown fields, as in :mod:`mostrador.api.schemas`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from mostrador.api.schemas import ConversationOut, Ref, StrictIn

CONDITIONS_HELP = ("{\"all\": [{\"field\": \"channel\", \"op\": \"is\", \"value\": \"email\"}], "
                   "\"any\": [...]}: every \"all\" condition holds and, when \"any\" is not "
                   "empty, one of \"any\"; fields and operators in GET /automation/schema")
ACTIONS_HELP = ("[{\"type\": \"set_priority\", \"value\": 3}, {\"type\": \"add_tags\", "
                "\"value\": [\"vip\"]}]: run in order; types in GET /automation/schema")
EVENTS_HELP = ("when it runs: conversation.created, message.received (a customer message) "
               "and/or conversation.updated")

# --- triggers -------------------------------------------------------------------------------


class TriggerCreateIn(StrictIn):
    name: str = Field(max_length=150)
    description: str = ""
    events: list[str] = Field(description=EVENTS_HELP)
    conditions: dict[str, Any] = Field(default={}, description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP)
    active: bool = True


class TriggerPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=150)
    description: str | None = None
    events: list[str] | None = Field(default=None, description=EVENTS_HELP)
    conditions: dict[str, Any] | None = Field(default=None, description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] | None = Field(default=None, description=ACTIONS_HELP)
    active: bool | None = None


class TriggerOut(Schema):
    id: int
    name: str
    description: str
    active: bool
    position: int = Field(description="triggers run in position order")
    events: list[str]
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    fired_count: int
    last_fired_at: dt.datetime | None
    created_by: Ref | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TriggerPage(Schema):
    items: list[TriggerOut]
    next_cursor: str | None


class MoveIn(StrictIn):
    direction: Literal["up", "down"] = Field(description="one place earlier (up) or later "
                                                         "(down) in the order triggers run in")


# --- time rules -----------------------------------------------------------------------------


class TimeRuleCreateIn(StrictIn):
    name: str = Field(max_length=150)
    status: str = Field(description="the status it waits on: new, open, pending, on_hold or "
                                    "solved")
    hours: int = Field(description="how long in that status before it runs (1 to 8760)")
    conditions: dict[str, Any] = Field(default={}, description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP)
    active: bool = True


class TimeRulePatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=150)
    status: str | None = None
    hours: int | None = None
    conditions: dict[str, Any] | None = Field(default=None, description=CONDITIONS_HELP)
    actions: list[dict[str, Any]] | None = Field(default=None, description=ACTIONS_HELP)
    active: bool | None = None


class TimeRuleOut(Schema):
    id: int
    name: str
    active: bool
    position: int
    status: str
    hours: int
    conditions: dict[str, Any]
    actions: list[dict[str, Any]]
    fired_count: int
    last_fired_at: dt.datetime | None
    created_by: Ref | None
    created_at: dt.datetime
    updated_at: dt.datetime


class TimeRulePage(Schema):
    items: list[TimeRuleOut]
    next_cursor: str | None


# --- macros ---------------------------------------------------------------------------------


class MacroCreateIn(StrictIn):
    name: str = Field(max_length=150)
    description: str = ""
    actions: list[dict[str, Any]] = Field(description=ACTIONS_HELP + " (not notify)")
    shared: bool = Field(default=True, description="everyone may apply it (supervisors "
                                                   "only); false keeps it yours")


class MacroPatchIn(StrictIn):
    name: str | None = Field(default=None, max_length=150)
    description: str | None = None
    actions: list[dict[str, Any]] | None = Field(default=None, description=ACTIONS_HELP)
    active: bool | None = None


class MacroOut(Schema):
    id: int
    name: str
    description: str
    actions: list[dict[str, Any]]
    shared: bool
    owner: int | None = Field(description="the user id of a personal macro's owner")
    active: bool
    position: int
    used_count: int
    editable: bool = Field(description="the token's user may change and delete it")
    created_at: dt.datetime
    updated_at: dt.datetime


class MacroPage(Schema):
    items: list[MacroOut]
    next_cursor: str | None


class MacroAppliedOut(Schema):
    done: list[str] = Field(description="the action types that ran")
    skipped: list[str] = Field(description="actions that could not run, with the reason, e.g. "
                                           "\"assign: no active agent 12\"")
    reply_id: int | None = Field(description="the reply the macro sent, if any")
    conversation: ConversationOut


# --- the rule language ----------------------------------------------------------------------


class FieldOut(Schema):
    name: str
    kind: str = Field(description="choice, id, number, text, list, bool, or any (custom "
                                  "attributes and fields)")
    operators: list[str]


class DynamicFieldOut(Schema):
    prefix: str = Field(description="followed by the attribute's or custom field's name, e.g. "
                                    "customer.attributes.plan")
    kind: str
    operators: list[str]


class ActionTypeOut(Schema):
    type: str
    description: str = Field(description="what the value is")
    in_macros: bool = Field(description="macros may use it (they may not notify)")


class ChoiceOut(Schema):
    value: str
    label: str


class AutomationSchemaOut(Schema):
    fields: list[FieldOut]
    dynamic_fields: list[DynamicFieldOut]
    no_value_operators: list[str] = Field(description="operators that take no value")
    actions: list[ActionTypeOut]
    trigger_events: list[ChoiceOut]
    time_rule_statuses: list[ChoiceOut]

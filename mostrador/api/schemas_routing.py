"""What the routing endpoints read and write: assignment rules, the queue, agents' routing
profiles, the escalation ladder, and a conversation's routing. Bodies forbid unknown fields, as
in :mod:`mostrador.api.schemas`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import Field, field_validator

from mostrador.api.schemas import Ref, StrictIn

STRATEGY_HELP = ("manual (nobody is assigned automatically), round_robin (the longest idle "
                 "agent), least_loaded (the fewest open conversations on the channel) or skills "
                 "(the customer's language first, then product and channel skills)")
SKILL_KINDS = ("language", "product", "channel")
SKILLS_HELP = ("tagged strings: language:<code>, product:<request type>, channel:<kind>, "
               "e.g. [\"language:es\", \"product:billing\"]")
CAPACITY_HELP = ("concurrent conversations per channel kind, \"*\" for the others, e.g. "
                 "{\"email\": 20, \"webchat\": 3}; a channel left out (and no \"*\") has no "
                 "limit")
_CHANNEL_KEY_RE = re.compile(r"^(\*|[a-z][a-z0-9_]{0,29})$")
MAX_CAPACITY = 10_000

# --- assignment rules -----------------------------------------------------------------------


class AssignmentRuleIn(StrictIn):
    """The whole rule: what is left out takes its default."""

    strategy: str = Field(description=STRATEGY_HELP)
    premium_segments: list[str] = Field(default=[], description="customers in any of these "
                                                                "segments go first in the queue")
    include_away: bool = Field(default=False, description="give work to agents who are away "
                                                          "as well as to those online")


class AssignmentRuleOut(Schema):
    id: int
    team: Ref | None = Field(description="the team it serves; null for an inbox's rule")
    inbox: Ref | None = Field(description="the inbox it serves (conversations whose team has "
                                          "no rule); null for a team's rule")
    strategy: str = Field(description=STRATEGY_HELP)
    premium_segments: list[str]
    include_away: bool
    updated_at: dt.datetime


class AssignmentRulePage(Schema):
    items: list[AssignmentRuleOut]
    next_cursor: str | None


# --- the queue ------------------------------------------------------------------------------


class QueueItemOut(Schema):
    id: int
    number: int
    subject: str
    priority: int
    waiting_since: dt.datetime | None
    premium: bool = Field(description="the customer is in one of the rule's premium segments")


class QueueOut(Schema):
    team: Ref | None
    inbox: Ref | None
    strategy: str = Field(description="the queue's assignment strategy; manual without a rule")
    items: list[QueueItemOut] = Field(description="unassigned conversations in the order they "
                                                  "get agents: premium first, then higher "
                                                  "priority, then the longest waiting")


# --- agents ---------------------------------------------------------------------------------


class AgentOut(Schema):
    id: int = Field(description="the agent's user id")
    name: str
    email: str
    role: str
    status: str = Field(description="online, away or offline")
    tier: int
    capacity: dict[str, int | None] = Field(description=CAPACITY_HELP)
    skills: list[str] = Field(description=SKILLS_HELP)
    teams: list[Ref]
    load: dict[str, int] = Field(description="conversations assigned and not yet solved (new, "
                                             "open, on hold), per channel kind")
    load_total: int
    last_assigned_at: dt.datetime | None = Field(description="when routing last gave them a "
                                                             "conversation")


class AgentPage(Schema):
    items: list[AgentOut]
    next_cursor: str | None


class AgentRoutingPatchIn(StrictIn):
    status: str | None = Field(default=None, description="online, away or offline; agents may "
                                                         "change their own")
    tier: int | None = Field(default=None, description="1, 2 or 3 (supervisors)")
    skills: list[str] | None = Field(default=None, description=SKILLS_HELP + " (supervisors)")
    capacity: dict[str, Annotated[int, Field(ge=0, le=MAX_CAPACITY)] | None] | None = Field(
        default=None, description=CAPACITY_HELP + "; null for a channel removes its limit "
                                                  "(supervisors)")

    @field_validator("skills")
    @classmethod
    def _check_skills(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        skills: list[str] = []
        for raw in value:
            skill = raw.strip()
            kind, _sep, name = skill.partition(":")
            if kind not in SKILL_KINDS or not name.strip():
                raise ValueError(_("%(skill)s is not a skill; write it as language:es, "
                                   "product:billing or channel:email.") % {"skill": repr(raw)})
            skill = f"{kind}:{name.strip()}"
            if skill not in skills:
                skills.append(skill)
        return sorted(skills)

    @field_validator("capacity")
    @classmethod
    def _check_capacity(cls, value: dict[str, int | None] | None
                        ) -> dict[str, int | None] | None:
        if value is None:
            return None
        for key in value:
            if not _CHANNEL_KEY_RE.match(key):
                raise ValueError(_("%(key)s is not a channel kind (such as email) nor \"*\".")
                                 % {"key": repr(key)})
        # A null limit is the same as no entry: keep the stored profile small.
        return {key: limit for key, limit in sorted(value.items()) if limit is not None}


# --- teams ----------------------------------------------------------------------------------


class LadderIn(StrictIn):
    escalates_to: int | None = Field(description="the team escalations from this one go to; "
                                                 "null: the desk's first team of the next tier")


class LadderOut(Schema):
    id: int
    name: str
    tier: int
    escalates_to: Ref | None
    escalated_from: list[Ref] = Field(description="the teams whose escalations come here")


# --- a conversation's routing ---------------------------------------------------------------


class NoteIn(StrictIn):
    note: str = Field(default="", max_length=10_000, description="an internal note added to "
                                                                 "the conversation")


class TransferIn(StrictIn):
    team: int | None = Field(default=None, description="the team to hand it to; the "
                                                       "conversation takes the team's tier")
    agent: int | None = Field(default=None, description="the agent (user id) to hand it to")
    note: str = Field(default="", max_length=10_000)


class RoutingOut(Schema):
    conversation: int
    tier: int
    team: Ref | None
    assignee: Ref | None
    waiting_since: dt.datetime | None = Field(description="since when the customer waits; "
                                                          "escalations and transfers keep it")
    seconds_in_tier: dict[int, int] = Field(description="seconds spent at each tier, until now "
                                                        "or until solved")
    transfers: int = Field(description="moves to another team and hand-overs between agents")
    escalations: int


class DecisionOut(Schema):
    conversation: int
    assignee: Ref | None = Field(description="the agent it was just given to, or null")
    reason: str = Field(description="assigned_now; or why not: assigned (it already has an "
                                    "agent), manual (no automatic rule), no_agent_available "
                                    "(it waits in the queue), not_routable (solved, closed or "
                                    "merged)")
    strategy: str
    load: int | None = Field(description="the agent's conversations on the channel, this one "
                                          "included")
    capacity: int | None

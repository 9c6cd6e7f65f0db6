"""The language of triggers, time rules and macros: conditions over a conversation's facts and
the actions to run. Stored as JSON; parsed here (pydantic) into typed rules that refuse what
they do not understand, and compiled into plain predicates so that a hundred triggers cost
microseconds per message.

Conditions::

    {"all": [{"field": "channel", "op": "is", "value": "email"}, …],
     "any": [{"field": "text", "op": "contains", "value": ["refund", "reembolso"]}, …]}

Every ``all`` condition must hold and, when ``any`` is not empty, at least one of ``any``.
Fields are listed in :data:`FIELDS`; ``customer.attributes.<name>`` and ``fields.<name>`` reach
the customer's custom attributes and the conversation's custom fields.

Actions: ``[{"type": "set_priority", "value": 3}, {"type": "add_tags", "value": ["vip"]}, …]``,
types in :data:`ACTION_TYPES`.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mostrador.core.errors import ValidationFailed

# Field → kind. The kind decides the operators it takes.
FIELDS: dict[str, str] = {
    "status": "choice",
    "priority": "number",
    "channel": "choice",
    "inbox": "id",
    "team": "id",
    "tier": "number",
    "assignee": "id",
    "request_type": "choice",
    "language": "choice",
    "subject": "text",
    # The customer's latest message (what they wrote this time, quotes folded away).
    "text": "text",
    "tags": "list",
    "customer.segments": "list",
    "customer.language": "choice",
    "customer.email": "text",
    "customer.organisation": "id",
    # Whether the conversation's channel (or team) is open at this moment.
    "business_hours": "bool",
    "message_count": "number",
}
DYNAMIC_PREFIXES = ("customer.attributes.", "fields.")
OPERATORS: dict[str, tuple[str, ...]] = {
    "choice": ("is", "is_not", "in", "not_in", "present", "absent", "changed", "changed_to",
               "changed_from"),
    "id": ("is", "is_not", "in", "not_in", "present", "absent", "changed", "changed_to",
           "changed_from"),
    "number": ("is", "is_not", "gt", "gte", "lt", "lte", "changed", "changed_to",
               "changed_from"),
    "text": ("contains", "not_contains", "is", "is_not", "present", "absent"),
    "list": ("includes", "excludes", "present", "absent"),
    "bool": ("is",),
    "any": ("is", "is_not", "in", "not_in", "contains", "not_contains", "gt", "gte", "lt",
            "lte", "present", "absent"),
}
NO_VALUE = ("present", "absent", "changed")

ACTION_TYPES: dict[str, str] = {
    "assign": "An agent's user id, \"auto\" (routing decides) or null (unassign)",
    "set_team": "A team id or null",
    "set_tier": "1, 2 or 3",
    "escalate": "Up one tier along the team's ladder (no value)",
    "set_priority": "1 (low) to 4 (urgent)",
    "set_status": "new, open, pending, on_hold, solved or closed",
    "add_tags": "A list of tag names",
    "remove_tags": "A list of tag names",
    "set_field": "{\"name\": …, \"value\": …}: a custom field",
    "reply": "{\"es\": …, \"en\": …}: an answer in the customer's language, with placeholders",
    "add_note": "{\"es\": …, \"en\": …} or a text: an internal note, placeholders allowed",
    "notify": "{\"to\": \"assignee\" | \"team\" | \"supervisors\" | [ids], \"text\": …}: e-mail",
    "webhook": "A webhook subscription id: POST the conversation to it",
}


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    op: str
    value: Any = None


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    all: list[Condition] = Field(default_factory=list)
    any: list[Condition] = Field(default_factory=list)


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    value: Any = None


def field_kind(field: str) -> str | None:
    if field in FIELDS:
        return FIELDS[field]
    if field.startswith(DYNAMIC_PREFIXES) and field.split(".")[-1]:
        return "any"
    return None


def parse_conditions(data: Any) -> Conditions:
    """Validate stored or submitted conditions; ValidationFailed names the first problem."""
    try:
        conditions = Conditions.model_validate(data or {})
    except ValidationError as exc:
        raise ValidationFailed(_("The conditions are not in the expected shape: %(error)s")
                               % {"error": _first_error(exc)}, field="conditions") from None
    for condition in [*conditions.all, *conditions.any]:
        _check_condition(condition)
    return conditions


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def _check_condition(condition: Condition) -> None:
    kind = field_kind(condition.field)
    if kind is None:
        raise ValidationFailed(_("Unknown condition field %(field)s.")
                               % {"field": condition.field}, field="conditions")
    if condition.op not in OPERATORS[kind]:
        raise ValidationFailed(
            _("The field %(field)s does not take the operator %(op)s; use one of %(ops)s.")
            % {"field": condition.field, "op": condition.op,
               "ops": ", ".join(OPERATORS[kind])}, field="conditions")
    value = condition.value
    if condition.op in NO_VALUE:
        return
    if condition.op in ("in", "not_in") and not isinstance(value, list):
        raise ValidationFailed(_("The operator %(op)s needs a list of values.")
                               % {"op": condition.op}, field="conditions")
    if condition.op in ("gt", "gte", "lt", "lte") and not isinstance(value, int | float):
        raise ValidationFailed(_("The operator %(op)s needs a number.") % {"op": condition.op},
                               field="conditions")
    if kind == "bool" and not isinstance(value, bool):
        raise ValidationFailed(_("The field %(field)s is true or false.")
                               % {"field": condition.field}, field="conditions")
    if kind == "text" and condition.op in ("contains", "not_contains"):
        words = value if isinstance(value, list) else [value]
        if not words or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValidationFailed(_("Say which words to look for."), field="conditions")


def parse_actions(data: Any, *, allowed: tuple[str, ...] | None = None) -> list[Action]:
    if not isinstance(data, list) or not data:
        raise ValidationFailed(_("Add at least one action."), field="actions")
    try:
        actions = [Action.model_validate(item) for item in data]
    except ValidationError as exc:
        raise ValidationFailed(_("The actions are not in the expected shape: %(error)s")
                               % {"error": _first_error(exc)}, field="actions") from None
    for action in actions:
        if action.type not in ACTION_TYPES or (allowed is not None and action.type not in allowed):
            kinds = ", ".join(allowed or ACTION_TYPES)
            raise ValidationFailed(_("Unknown action %(type)s; use one of %(types)s.")
                                   % {"type": action.type, "types": kinds}, field="actions")
        _check_action_value(action)
    return actions


def _check_action_value(action: Action) -> None:
    value, kind = action.value, action.type

    def refuse(message: str) -> None:
        raise ValidationFailed(message, field="actions")

    if kind in ("set_tier",) and value not in (1, 2, 3):
        refuse(_("The tier must be 1, 2 or 3."))
    if kind == "set_priority" and value not in (1, 2, 3, 4):
        refuse(_("Priority must be 1 (low) to 4 (urgent)."))
    if kind == "set_status" and value not in ("new", "open", "pending", "on_hold", "solved",
                                              "closed"):
        refuse(_("Unknown status %(status)s.") % {"status": value})
    if kind in ("add_tags", "remove_tags") and (
            not isinstance(value, list) or not value
            or not all(isinstance(t, str) and t.strip() for t in value)):
        refuse(_("Name the tags as a list of words."))
    if kind == "assign" and not (value is None or value == "auto" or isinstance(value, int)):
        refuse(_("Assign to an agent's id, \"auto\" or nobody (null)."))
    if kind in ("set_team", "webhook") and not (value is None or isinstance(value, int)):
        refuse(_("Give the id of the team or webhook."))
    if kind == "webhook" and value is None:
        refuse(_("Give the id of the webhook."))
    if kind == "set_field" and (not isinstance(value, dict) or not value.get("name")):
        refuse(_("A custom field action needs its name and value."))
    if kind in ("reply", "add_note"):
        if isinstance(value, str):
            value = {"": value}
        if not isinstance(value, dict) or not any(
                isinstance(v, str) and v.strip() for v in value.values()):
            refuse(_("Write the text of the message."))
        _check_texts(value.values())
    if kind == "notify":
        if not isinstance(value, dict) or not value.get("to"):
            refuse(_("Say whom to notify: assignee, team, supervisors or a list of user ids."))
        _check_texts([value.get("text") or ""])


def _check_texts(texts) -> None:
    """Placeholders in a reply, note or notice are the canned replies' ones (sandboxed)."""
    from mostrador.automation.templating import check_template

    for text in texts:
        if isinstance(text, str):
            try:
                check_template(text)
            except ValidationFailed as error:
                raise ValidationFailed(error.message, field="actions") from None


# --- evaluation ----------------------------------------------------------------------------

Facts = dict[str, Any]
Predicate = Callable[[Facts], bool]


def fold(text: str) -> str:
    """Case- and accent-insensitive form used by text conditions (short values remembered:
    the same statuses, tags and words come back on every message)."""
    return _fold_short(text) if len(text) <= 200 else _fold(text)


@functools.lru_cache(maxsize=65536)
def _fold_short(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compile_conditions(conditions: Conditions) -> Predicate:
    every = [_compile(c) for c in conditions.all]
    some = [_compile(c) for c in conditions.any]

    def predicate(facts: Facts) -> bool:
        if not all(test(facts) for test in every):
            return False
        return not some or any(test(facts) for test in some)

    return predicate


def _lookup(field: str) -> Callable[[Facts], Any]:
    if field.startswith("customer.attributes."):
        name = field.removeprefix("customer.attributes.")
        return lambda facts: (facts.get("customer.attributes") or {}).get(name)
    if field.startswith("fields."):
        name = field.removeprefix("fields.")
        return lambda facts: (facts.get("fields") or {}).get(name)
    return lambda facts: facts.get(field)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return fold(a) == fold(b)
    return a == b


def _compile(condition: Condition) -> Predicate:
    field, op, value = condition.field, condition.op, condition.value
    get = _lookup(field)
    if op == "present":
        return lambda f: get(f) not in (None, "", [], {})
    if op == "absent":
        return lambda f: get(f) in (None, "", [], {})
    if op in ("changed", "changed_to", "changed_from"):
        def changed(f: Facts) -> bool:
            change = (f.get("_changes") or {}).get(field)
            if change is None:
                return False
            before, after = change
            if op == "changed_to":
                return _same(after, value)
            if op == "changed_from":
                return _same(before, value)
            return True
        return changed
    if op == "is":
        return lambda f: _same(get(f), value)
    if op == "is_not":
        return lambda f: not _same(get(f), value)
    if op in ("in", "not_in"):
        folded = {fold(v) if isinstance(v, str) else v for v in value}

        def member(f: Facts) -> bool:
            current = get(f)
            return (fold(current) if isinstance(current, str) else current) in folded
        return member if op == "in" else (lambda f: not member(f))
    if op in ("gt", "gte", "lt", "lte"):
        import operator

        compare = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
                   "lte": operator.le}[op]

        def numeric(f: Facts) -> bool:
            current = get(f)
            return isinstance(current, int | float) and compare(current, value)
        return numeric
    if op in ("contains", "not_contains"):
        words = [fold(w) for w in (value if isinstance(value, list) else [value])]

        def contains(f: Facts) -> bool:
            current = get(f)
            if current is None:
                return False
            haystack = f.get(f"_folded.{field}") if field in ("text", "subject") else None
            if haystack is None:
                haystack = fold(str(current))
            return any(w in haystack for w in words)
        return contains if op == "contains" else (lambda f: not contains(f))
    if op in ("includes", "excludes"):
        wanted = {fold(v) for v in (value if isinstance(value, list) else [value])}

        def includes(f: Facts) -> bool:
            return bool(wanted & {fold(str(v)) for v in (get(f) or ())})
        return includes if op == "includes" else (lambda f: not includes(f))
    raise ValueError(op)

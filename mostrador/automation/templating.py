"""Placeholders in canned replies, automatic replies and notes: ``{{ customer.first_name }}``
and ``{{ customer.first_name | default: "there" }}``.

The sandbox is the data, not the syntax: a path is looked up key by key in a plain nested dict
of strings that :func:`placeholder_context` builds from a whitelist, never by attribute access
on a model, so ``{{ customer.__class__ }}`` or ``{{ conversation.customer.user.password }}``
have nothing to reach and render as nothing. :func:`check_template` refuses them (and anything
outside the known roots) before a text is saved. Rendering is one pass: a value that itself
contains ``{{`` is inserted as it is, never rendered again.

Paths::

    customer.name / first_name / last_name / email / phone / language / organisation
    customer.<attribute>             a custom attribute (a fixed name above wins)
    customer.attributes.<attribute>  the same, unambiguous
    conversation.id / number / subject / status / priority / channel / team / created_at
    conversation.fields.<field>      a custom field of the conversation
    agent.name / first_name / email
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterator
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mostrador.conversations.models import Conversation
from mostrador.core.errors import ValidationFailed
from mostrador.customers.models import Identity

OPEN, CLOSE = "{{", "}}"
CUSTOMER_KEYS = ("name", "first_name", "last_name", "email", "phone", "language",
                 "organisation")
CONVERSATION_KEYS = ("id", "number", "subject", "status", "priority", "channel", "team",
                     "created_at")
AGENT_KEYS = ("name", "first_name", "email")
# One segment of a path: letters, digits, "_" and "-", not starting with "_" (so no dunder
# name is ever a valid placeholder, whatever the context holds).
_SEGMENT = r"[^\W_][\w-]*"
_KNOWN_SHAPE_RE = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
# What the parser takes as a path; anything odd in it (``__class__``) is refused by
# check_template and finds nothing when rendered.
_PATH_RE = re.compile(r"[^\s|{}\"']+")
_SPACE_RE = re.compile(r"\s*")
_DEFAULT_RE = re.compile(r"\|\s*default\s*:\s*")
_QUOTED_RE = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'", re.S)
_ESCAPE_RE = re.compile(r"\\(.)", re.S)


class Placeholder(NamedTuple):
    path: str
    description: Promise

    @property
    def tag(self) -> str:
        """How it is written in a text: ``{{ customer.first_name }}``."""
        return f"{OPEN} {self.path} {CLOSE}"


KNOWN_PLACEHOLDERS: list[Placeholder] = [
    Placeholder("customer.name", gettext_lazy("The customer's full name")),
    Placeholder("customer.first_name", gettext_lazy("The customer's first name")),
    Placeholder("customer.last_name", gettext_lazy("The customer's surnames")),
    Placeholder("customer.email", gettext_lazy("The customer's e-mail address")),
    Placeholder("customer.phone", gettext_lazy("The customer's phone number")),
    Placeholder("customer.language", gettext_lazy("The customer's language (es, en)")),
    Placeholder("customer.organisation", gettext_lazy("The customer's organisation")),
    Placeholder("conversation.id", gettext_lazy("The conversation's number")),
    Placeholder("conversation.number", gettext_lazy("The conversation's number (same as id)")),
    Placeholder("conversation.subject", gettext_lazy("The conversation's subject")),
    Placeholder("conversation.status", gettext_lazy("The conversation's status")),
    Placeholder("conversation.priority", gettext_lazy("The conversation's priority")),
    Placeholder("conversation.channel", gettext_lazy("The channel (e-mail, chat…)")),
    Placeholder("conversation.team", gettext_lazy("The team working on it")),
    Placeholder("conversation.created_at", gettext_lazy("The day the conversation began")),
    Placeholder("agent.name", gettext_lazy("Your name (the assignee's in automatic replies)")),
    Placeholder("agent.first_name", gettext_lazy("Your first name")),
    Placeholder("agent.email", gettext_lazy("Your e-mail address")),
]
# Free-form names after a prefix, for the help next to KNOWN_PLACEHOLDERS.
DYNAMIC_PLACEHOLDERS: list[Placeholder] = [
    Placeholder("customer.attributes.<name>",
                gettext_lazy("A custom attribute of the customer (plan, city…)")),
    Placeholder("conversation.fields.<name>",
                gettext_lazy("A custom field of the conversation (order number…)")),
]


# --- reading a text -------------------------------------------------------------------------


class _Text(NamedTuple):
    start: int
    end: int


class _Tag(NamedTuple):
    start: int
    end: int
    path: str
    default: str | None


class _Malformed(NamedTuple):
    start: int
    end: int  # where scanning resumes
    problem: str  # "unclosed" or "syntax"


def _parse_tag(text: str, start: int) -> _Tag | _Malformed:
    """The tag whose ``{{`` is at ``start``."""
    if text.find(CLOSE, start + len(OPEN)) < 0:
        return _Malformed(start, len(text), "unclosed")
    position = _SPACE_RE.match(text, start + len(OPEN)).end()
    path = _PATH_RE.match(text, position)
    if path is None:
        return _Malformed(start, start + len(OPEN), "syntax")
    position = _SPACE_RE.match(text, path.end()).end()
    default = None
    if (pipe := _DEFAULT_RE.match(text, position)) is not None:
        quoted = _QUOTED_RE.match(text, pipe.end())
        if quoted is None:
            return _Malformed(start, start + len(OPEN), "syntax")
        raw = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        default = _ESCAPE_RE.sub(r"\1", raw)
        position = _SPACE_RE.match(text, quoted.end()).end()
    if not text.startswith(CLOSE, position):
        return _Malformed(start, start + len(OPEN), "syntax")
    return _Tag(start, position + len(CLOSE), path.group(0), default)


def _scan(text: str) -> Iterator[_Text | _Tag | _Malformed]:
    """The text cut into plain runs, tags and malformed openings, in order."""
    position = 0
    while (start := text.find(OPEN, position)) >= 0:
        if start > position:
            yield _Text(position, start)
        part = _parse_tag(text, start)
        yield part
        position = part.end
    if position < len(text):
        yield _Text(position, len(text))


def placeholders_in(template: str) -> list[str]:
    """The paths the text uses, each once, in the order they first appear."""
    seen: dict[str, None] = {}
    for part in _scan(template or ""):
        if isinstance(part, _Tag):
            seen.setdefault(part.path, None)
    return list(seen)


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def is_known_path(path: str) -> bool:
    """Whether ``path`` names something :func:`placeholder_context` may hold."""
    if not _KNOWN_SHAPE_RE.fullmatch(path):
        return False
    root, *rest = path.split(".")
    if root == "customer":
        if len(rest) == 2:
            return rest[0] == "attributes"
        return len(rest) == 1 and rest[0] != "attributes"
    if root == "conversation":
        if len(rest) == 2:
            return rest[0] == "fields"
        return len(rest) == 1 and rest[0] in CONVERSATION_KEYS
    if root == "agent":
        return len(rest) == 1 and rest[0] in AGENT_KEYS
    return False


def check_template(template: str) -> None:
    """Refuse (ValidationFailed, field ``body``) a text with an unclosed ``{{``, a stray
    ``}}``, a tag that is not ``{{ path }}`` or ``{{ path | default: "text" }}``, or a path
    outside ``customer.``, ``conversation.`` and ``agent.`` (see :data:`KNOWN_PLACEHOLDERS`)."""
    text = template or ""
    for part in _scan(text):
        if isinstance(part, _Text):
            where = text.find(CLOSE, part.start, part.end)
            if where >= 0:
                raise ValidationFailed(
                    _("Line %(line)s has a }} that closes nothing; remove it or open the "
                      "placeholder with {{.") % {"line": _line_of(text, where)}, field="body")
        elif isinstance(part, _Malformed):
            line = _line_of(text, part.start)
            if part.problem == "unclosed":
                raise ValidationFailed(
                    _("The placeholder opened with {{ on line %(line)s is not closed; end it "
                      "with }}.") % {"line": line}, field="body")
            snippet = text[part.start:text.find(CLOSE, part.start) + len(CLOSE)]
            raise ValidationFailed(
                _("%(tag)s on line %(line)s is not a placeholder; write it like "
                  "{{ customer.first_name }} or {{ customer.first_name | default: \"there\" }}.")
                % {"tag": snippet[:80], "line": line}, field="body")
        elif not is_known_path(part.path):
            raise ValidationFailed(
                _("Unknown placeholder %(path)s; use one from the list, "
                  "customer.attributes.<name> or conversation.fields.<name>.")
                % {"path": part.path}, field="body")


# --- rendering ------------------------------------------------------------------------------


def _lookup(context: dict[str, Any], path: str) -> str:
    value: Any = context
    for key in path.split("."):
        # Dicts only, and only their keys: nothing else is ever looked into.
        if type(value) is not dict or key not in value:
            return ""
        value = value[key]
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def render(template: str, context: dict[str, Any]) -> str:
    """The text with each placeholder replaced by its value in ``context`` (a nested dict of
    strings, see :func:`placeholder_context`). An unknown path or an empty value gives the
    ``default`` text, or nothing; a malformed tag is left as written. One pass: values are not
    rendered again."""
    out: list[str] = []
    text = template or ""
    for part in _scan(text):
        if isinstance(part, _Text | _Malformed):
            out.append(text[part.start:part.end])
        else:
            value = _lookup(context, part.path)
            out.append(value if value or part.default is None else part.default)
    return "".join(out)


# --- what a text may reach ------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A custom value as text, or None when it has no sensible one (a nested object)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        # Django's own catalogues translate this string (the yesno filter's).
        yes, no = [*_("yes,no,maybe").split(","), "yes", "no"][:2]
        return yes if value else no
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) and
                                       not isinstance(v, bool) for v in value):
        return ", ".join(str(v) for v in value)
    return None


def _texts(values: Any) -> dict[str, str]:
    if not isinstance(values, dict):
        return {}
    return {str(key): text for key, value in values.items()
            if (text := _text(value)) is not None}


def _zone(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if name else zoneinfo.ZoneInfo(settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def context_language(conversation) -> str:
    """The language a conversation's texts are written in: the conversation's, else the
    customer's, else the desk's; always one of ``settings.LANGUAGES``."""
    known = {code for code, _name in settings.LANGUAGES}
    for candidate in (conversation.language, conversation.customer.language):
        code = (candidate or "").split("-")[0].lower()
        if code in known:
            return code
    return settings.LANGUAGE_CODE


def _first_identity(identities: list, kinds: tuple[str, ...]) -> str:
    """The external id of the first identity of ``kinds`` (in that order), verified first."""
    found = [i for i in identities if i.kind in kinds]
    found.sort(key=lambda i: (kinds.index(i.kind), not i.verified, i.pk))
    return found[0].external_id if found else ""


def placeholder_context(conversation, *, agent_user=None, language: str | None = None) -> dict:
    """Every value a placeholder may show for ``conversation``, as a plain nested dict of
    strings (see the module's docstring). Labels and the date are in ``language`` (by default
    the conversation's, else the customer's) and the customer's time zone when known.

    ``agent`` is ``agent_user``, or the conversation's assignee when none is given (automatic
    replies), or empty. A few queries: identities, and the organisation, team and agent when
    not already loaded."""
    language = language or context_language(conversation)
    customer = conversation.customer
    identities = list(customer.identities.all())
    name = " ".join((customer.name or "").split())
    first, _space, last = name.partition(" ")
    user = agent_user if agent_user is not None else conversation.assignee
    agent = getattr(user, "agent", None) if user is not None else None
    agent_name = (agent.display_name if agent is not None else "") or (
        user.get_full_name() if user is not None else "")
    with translation.override(language):
        attributes = _texts(customer.attributes)
        channel = conversation.channel_kind or conversation.inbox.channel_kind
        created = conversation.created_at.astimezone(_zone(customer.time_zone))
        customer_values: dict[str, Any] = {
            **{k: v for k, v in attributes.items() if k not in CUSTOMER_KEYS},
            "name": name, "first_name": first, "last_name": last,
            "email": _first_identity(identities, (Identity.Kind.EMAIL,)),
            "phone": _first_identity(identities, (Identity.Kind.PHONE, Identity.Kind.WHATSAPP)),
            "language": customer.language or "",
            "organisation": customer.organisation.name if customer.organisation_id else "",
            "attributes": attributes,
        }
        conversation_values = {
            "id": str(conversation.pk), "number": str(conversation.number),
            "subject": conversation.subject or "",
            "status": str(Conversation.Status(conversation.status).label)
            if conversation.status in Conversation.Status.values else conversation.status,
            "priority": str(Conversation.Priority(conversation.priority).label)
            if conversation.priority in Conversation.Priority.values
            else str(conversation.priority),
            "channel": str(Identity.Kind(channel).label) if channel in Identity.Kind.values
            else channel,
            "team": conversation.team.name if conversation.team_id else "",
            "created_at": formats.date_format(created.date(), "DATE_FORMAT"),
            "fields": _texts(conversation.custom_fields),
        }
    return {
        "customer": customer_values,
        "conversation": conversation_values,
        "agent": {"name": agent_name, "first_name": agent_name.split(" ")[0],
                  "email": user.email if user is not None else ""},
    }

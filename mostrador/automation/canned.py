"""Canned replies: texts with placeholders, one body per language, that an agent inserts into
the reply box and personalises before sending.

A reply is *shared* (``owner`` null: everyone sees it; supervisors and administrators change
it) or *personal* (only its owner sees and changes it). An agent sees the shared ones and their
own; a shortcut is unique within that view, so typing ``/refund`` finds one reply.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from mostrador.automation.models import CannedReply
from mostrador.automation.templating import check_template, placeholder_context, render
from mostrador.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

LANGUAGES = ("es", "en")
TITLE_MAX = 150
SHORTCUT_MAX = 40
BODY_MAX = 10_000
_SHORTCUT_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")


# --- who may do what ------------------------------------------------------------------------


def may_manage_shared(user) -> bool:
    """Supervisors and administrators create, change and delete shared replies."""
    if user is None or not user.is_active:
        return False
    agent = getattr(user, "agent", None)
    return bool(user.is_superuser or (agent is not None and agent.is_supervisor))


def may_change_canned_reply(user, reply: CannedReply) -> bool:
    if reply.owner_id is None:
        return may_manage_shared(user)
    return user is not None and user.is_active and reply.owner_id == user.pk


def check_may_change_canned_reply(user, reply: CannedReply) -> None:
    if not may_change_canned_reply(user, reply):
        if reply.owner_id is None:
            raise PermissionDenied(_("Only supervisors and administrators may change shared "
                                     "canned replies; keep a personal one instead."))
        raise PermissionDenied(_("Only its owner may change a personal canned reply."))


def _check_may_own(acting_user, owner) -> None:
    if owner is None:
        if not may_manage_shared(acting_user):
            raise PermissionDenied(_("Only supervisors and administrators may share canned "
                                     "replies with everyone; keep it personal instead."),
                                   field="shared")
    elif acting_user is None or not acting_user.is_active or owner.pk != acting_user.pk:
        raise PermissionDenied(_("A personal canned reply belongs to whoever writes it."),
                               field="owner")


# --- checking what was typed ----------------------------------------------------------------


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title:
        raise ValidationFailed(_("Give the canned reply a title."), field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(_("The title may have at most %(count)s characters.")
                               % {"count": TITLE_MAX}, field="title")
    return title


def clean_shortcut(shortcut: str) -> str:
    """``"/Refund"`` → ``"refund"``; empty stays empty (no shortcut)."""
    shortcut = (shortcut or "").strip().lstrip("/").lower()
    if not shortcut:
        return ""
    if len(shortcut) > SHORTCUT_MAX or not _SHORTCUT_RE.fullmatch(shortcut):
        raise ValidationFailed(
            _("A shortcut is one word of at most %(count)s letters, digits, \"-\" and \"_\", "
              "e.g. refund-sent.") % {"count": SHORTCUT_MAX}, field="shortcut")
    return shortcut


def clean_bodies(bodies: Any) -> dict[str, str]:
    """The bodies to store: "es" and/or "en", each a valid template; empty ones left out."""
    if not isinstance(bodies, dict):
        raise ValidationFailed(_("Give the bodies as {\"es\": …, \"en\": …}."), field="bodies")
    unknown = sorted(set(bodies) - set(LANGUAGES))
    if unknown:
        raise ValidationFailed(_("Canned replies are written in Spanish (es) and English (en); "
                                 "%(language)s is not one of them.") % {"language": unknown[0]},
                               field="bodies")
    cleaned: dict[str, str] = {}
    for language in LANGUAGES:
        body = bodies.get(language)
        if body is None:
            continue
        if not isinstance(body, str):
            raise ValidationFailed(_("The body must be text."), field=f"bodies.{language}")
        body = body.strip()
        if not body:
            continue
        if len(body) > BODY_MAX:
            raise ValidationFailed(_("A body may have at most %(count)s characters.")
                                   % {"count": BODY_MAX}, field=f"bodies.{language}")
        try:
            check_template(body)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.message, field=f"bodies.{language}") from None
        cleaned[language] = body
    if not cleaned:
        raise ValidationFailed(_("Write the reply in Spanish, in English or in both."),
                               field="bodies")
    return cleaned


def _check_shortcut_free(shortcut: str, owner, *, exclude: int | None = None) -> None:
    """A shortcut is unique among what one user sees: a shared reply's must not be used by any
    reply; a personal reply's not by a shared one nor another of the owner's.

    Two people saving the same shortcut at the same instant can both succeed (there is no
    database constraint spanning "shared or mine"); the picker then lists both."""
    if not shortcut:
        return
    clashes = CannedReply.objects.filter(shortcut=shortcut)
    if owner is not None:
        clashes = clashes.filter(Q(owner__isnull=True) | Q(owner=owner))
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude)
    if clashes.exists():
        raise Conflict(_("The shortcut /%(shortcut)s is already taken; choose another one.")
                       % {"shortcut": shortcut}, field="shortcut")


# --- writing --------------------------------------------------------------------------------


@transaction.atomic
def do_create_canned_reply(*, title: str, bodies: dict[str, str], shortcut: str = "",
                           owner=None, acting_user) -> CannedReply:
    """A shared reply (``owner`` None; supervisors and administrators) or a personal one of
    ``owner``, who must be the acting user."""
    _check_may_own(acting_user, owner)
    title = clean_title(title)
    shortcut = clean_shortcut(shortcut)
    bodies = clean_bodies(bodies)
    _check_shortcut_free(shortcut, owner)
    return CannedReply.objects.create(title=title, shortcut=shortcut, bodies=bodies,
                                      owner=owner)


@transaction.atomic
def do_update_canned_reply(reply: CannedReply, *, acting_user, title: str | None = None,
                           bodies: dict[str, str] | None = None, shortcut: str | None = None,
                           shared: bool | None = None) -> CannedReply:
    """Change what is given (``bodies`` replaces both languages). ``shared=True`` shares a
    personal reply with everyone, ``shared=False`` makes a shared one the acting user's own;
    both take a supervisor or an administrator. The row is locked (``select_for_update``) so
    that two saves do not interleave."""
    reply = CannedReply.objects.select_for_update().get(pk=reply.pk)
    check_may_change_canned_reply(acting_user, reply)
    changed: list[str] = []
    if shared is not None and shared != (reply.owner_id is None):
        owner = None if shared else acting_user
        _check_may_own(acting_user, owner)
        reply.owner = owner
        changed.append("owner")
    if title is not None:
        reply.title = clean_title(title)
        changed.append("title")
    if shortcut is not None:
        reply.shortcut = clean_shortcut(shortcut)
        changed.append("shortcut")
    if bodies is not None:
        reply.bodies = clean_bodies(bodies)
        changed.append("bodies")
    if "shortcut" in changed or "owner" in changed:
        _check_shortcut_free(reply.shortcut, reply.owner, exclude=reply.pk)
    if changed:
        reply.save(update_fields=[*changed, "updated_at"])
    return reply


@transaction.atomic
def do_delete_canned_reply(reply: CannedReply, *, acting_user) -> None:
    check_may_change_canned_reply(acting_user, reply)
    CannedReply.objects.filter(pk=reply.pk).delete()


# --- reading --------------------------------------------------------------------------------


def visible_canned_replies(user) -> QuerySet[CannedReply]:
    """The shared replies and ``user``'s own."""
    if user is None or not user.is_active:
        return CannedReply.objects.none()
    return CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def _language(language: str | None, *, field: str = "language") -> str:
    language = (language or "").strip().lower()
    if language and language not in LANGUAGES:
        raise ValidationFailed(_("language is es or en."), field=field)
    return language


def access_canned_replies(user, *, q: str = "", language: str = "") -> list[CannedReply]:
    """The replies ``user`` sees, by title. ``q`` looks in the title, the shortcut and the
    bodies (only ``language``'s when given); ``q="/ref"`` looks for shortcuts starting with
    "ref"."""
    language = _language(language)
    replies = visible_canned_replies(user)
    q = (q or "").strip()
    if q.startswith("/"):
        replies = replies.filter(shortcut__startswith=q[1:].lower())
    elif q:
        found = Q(title__icontains=q) | Q(shortcut__icontains=q)
        for code in [language] if language else LANGUAGES:
            found |= Q(**{f"bodies__{code}__icontains": q})
        replies = replies.filter(found)
    return list(replies.order_by("title", "id"))


def access_canned_reply(user, pk: int, *, field: str = "id") -> CannedReply:
    """The reply, or NotFound whether it is missing or someone else's (same answer)."""
    reply = visible_canned_replies(user).filter(pk=pk).first()
    if reply is None:
        raise NotFound(_("Canned reply %(id)s not found.") % {"id": pk}, field=field)
    return reply


# --- using one ------------------------------------------------------------------------------


def reply_language(reply: CannedReply, conversation, *, acting_user,
                   language: str | None = None) -> str:
    """Which body to use: ``language`` when given, else the conversation's language, the
    customer's, the agent's, the desk's; the other body when that one is missing."""
    wanted = _language(language)
    if not wanted:
        agent = getattr(acting_user, "agent", None)
        candidates = (conversation.language, conversation.customer.language,
                      agent.language if agent is not None else "", settings.LANGUAGE_CODE)
        wanted = next((code for c in candidates
                       if (code := (c or "").split("-")[0].lower()) in LANGUAGES), LANGUAGES[0])
    bodies = reply.bodies or {}
    if bodies.get(wanted):
        return wanted
    return next((code for code in LANGUAGES if bodies.get(code)), wanted)


def render_canned_reply(reply: CannedReply, conversation, *, acting_user,
                        language: str | None = None) -> tuple[str, str]:
    """(text, language used): the reply's body for ``conversation`` with its placeholders
    filled in for ``acting_user``. Counts the use (``used_count``, one UPDATE with F())."""
    used = reply_language(reply, conversation, acting_user=acting_user, language=language)
    context = placeholder_context(conversation, agent_user=acting_user, language=used)
    text = render((reply.bodies or {}).get(used, ""), context)
    CannedReply.objects.filter(pk=reply.pk).update(used_count=F("used_count") + 1)
    return text, used

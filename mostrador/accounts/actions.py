"""Writers for staff users, agents, teams and API tokens."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from mostrador.accounts.models import Agent, ApiToken, Team
from mostrador.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from mostrador.core.publish import publish_on_commit

TOKEN_PREFIX = "mst_"


@transaction.atomic
def do_create_staff_user(*, email: str, password: str, display_name: str = "",
                         role: str = Agent.Role.AGENT, language: str = "",
                         check_password: bool = True, update_existing: bool = False):
    """Create (or with ``update_existing``, update) a staff user with an agent profile.

    The user name is the e-mail address, lower-cased.
    """
    User = get_user_model()
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"{email!r} is not an e-mail address", field="email") from None
    if role not in Agent.Role.values:
        raise ValidationFailed(f"unknown role {role!r}", field="role")
    user = User.objects.filter(username=email).first()
    if user is not None and not update_existing:
        raise Conflict(f"a user {email} already exists", field="email")
    if user is None:
        user = User(username=email, email=email)
    if check_password:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.is_active = True
    user.is_staff = role == Agent.Role.ADMIN or user.is_staff
    user.is_superuser = role == Agent.Role.ADMIN or user.is_superuser
    user.save()
    Agent.objects.update_or_create(user=user, defaults={
        "display_name": display_name or email.split("@")[0].replace(".", " ").title(),
        "role": role, "language": language,
    })
    return user


AGENT_FIELDS = ("display_name", "role", "language", "time_zone", "status", "tier", "capacity",
                "skills")


@transaction.atomic
def do_update_agent(agent: Agent, **changes) -> Agent:
    """Change an agent's profile (tier, role, language, capacity…); unknown fields are refused."""
    unknown = set(changes) - set(AGENT_FIELDS)
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationFailed(f"unknown agent field {field!r}", field=field)
    if "role" in changes and changes["role"] not in Agent.Role.values:
        raise ValidationFailed(f"unknown role {changes['role']!r}", field="role")
    if "tier" in changes and changes["tier"] not in (1, 2, 3):
        raise ValidationFailed("tier must be 1, 2 or 3", field="tier")
    if "status" in changes and changes["status"] not in Agent.Status.values:
        raise ValidationFailed(_("Unknown status %(status)s.") % {"status": changes["status"]},
                               field="status")
    before_status = agent.status
    for field, value in changes.items():
        setattr(agent, field, value)
    if changes:
        agent.save(update_fields=list(changes))
    if "status" in changes and changes["status"] != before_status:
        # Routing gives queued work to an agent who comes online.
        publish_on_commit("agent.status_changed", {"user_id": agent.user_id,
                                                   "before": before_status,
                                                   "status": agent.status})
    if "capacity" in changes or "skills" in changes or "tier" in changes:
        publish_on_commit("agent.routing_changed", {"user_id": agent.user_id})
    return agent


def staff_user_by_email(email: str):
    user = get_user_model().objects.filter(username=(email or "").strip().lower()).first()
    if user is None:
        raise NotFound(f"no user {email}", field="user")
    return user


def do_create_api_token(user, *, name: str = "") -> tuple[ApiToken, str]:
    """A new bearer token for ``user``; the token text is returned once and never stored."""
    if not user.is_active:
        raise ValidationFailed("inactive users cannot have API tokens", field="user")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken.objects.create(user=user, name=name[:100], prefix=token[:12],
                                     digest=ApiToken.digest_of(token))
    return record, token


def do_revoke_api_token(record: ApiToken) -> None:
    ApiToken.objects.filter(pk=record.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


def user_for_token(token: str):
    """The active user behind a bearer token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    record = (ApiToken.objects.select_related("user", "user__agent")
              .filter(digest=ApiToken.digest_of(token), revoked_at__isnull=True).first())
    if record is None or not record.user.is_active:
        return None
    now = timezone.now()
    # Written at most once a minute per token: the write would otherwise double every request.
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.user


@transaction.atomic
def do_create_team(name: str, *, members=(), tier: int = 1) -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a team needs a name", field="name")
    if Team.objects.filter(name=name).exists():
        raise Conflict(f"a team {name} already exists", field="name")
    team = Team.objects.create(name=name, tier=tier)
    team.members.set(members)
    return team


def generate_password() -> str:
    return secrets.token_urlsafe(12)


# --- managing staff and teams (the settings screens) ----------------------------------------

_UNSET = object()
TIERS = (1, 2, 3)


def _is_admin(user) -> bool:
    agent = getattr(user, "agent", None)
    return bool(user.is_superuser or (agent is not None and agent.role == Agent.Role.ADMIN))


def _may_manage_staff(user) -> bool:
    agent = getattr(user, "agent", None)
    return bool(user is not None and user.is_active
                and (user.is_superuser or (agent is not None and agent.is_supervisor)))


def check_may_manage_staff(acting_user, *, target=None, role: str | None = None) -> None:
    """Supervisors and administrators manage staff; only an administrator may make someone
    an administrator or change one (a supervisor must not be able to raise their own rights).
    """
    if not _may_manage_staff(acting_user):
        raise PermissionDenied(_("Only supervisors and administrators may manage staff."))
    if _is_admin(acting_user):
        return
    if role == Agent.Role.ADMIN or (target is not None and _is_admin(target)):
        raise PermissionDenied(_("Only an administrator may make or change an administrator."),
                               field="role")


def _lock_active_admins() -> list[int]:
    """Ids of the active administrators, their rows locked (``select_for_update``) so that two
    administrators demoting each other at once cannot leave the desk without one."""
    User = get_user_model()
    return list(User.objects.select_for_update(of=("self",))
                .filter(Q(is_superuser=True) | Q(agent__role=Agent.Role.ADMIN), is_active=True)
                .values_list("pk", flat=True))


def _check_not_last_admin(user, message: str) -> None:
    admins = _lock_active_admins()
    if user.pk in admins and len(admins) <= 1:
        raise Conflict(message, field="role")


def _valid_time_zone(value: str) -> bool:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


@transaction.atomic
def do_update_staff_user(user, *, acting_user, display_name: str | None = None,
                         role: str | None = None, tier: int | None = None,
                         language: str | None = None, time_zone: str | None = None):
    """Change a colleague's name, role, tier, language or time zone (None leaves a field as it
    is). An administrator's role changes the user's admin flags with it; the last active
    administrator cannot be demoted."""
    check_may_manage_staff(acting_user, target=user, role=role)
    agent = Agent.objects.select_for_update().get(user=user)
    changes: dict = {}
    if display_name is not None:
        display_name = display_name.strip()
        if not display_name:
            raise ValidationFailed(_("A name is needed."), field="display_name")
        changes["display_name"] = display_name[:150]
    if role is not None and role != agent.role:
        if role not in Agent.Role.values:
            raise ValidationFailed(_("Unknown role %(role)s.") % {"role": role}, field="role")
        if agent.role == Agent.Role.ADMIN or user.is_superuser:
            _check_not_last_admin(user, _("This is the last active administrator; make "
                                          "someone else an administrator first."))
        changes["role"] = role
    if tier is not None and tier != agent.tier:
        if tier not in TIERS:
            raise ValidationFailed(_("The tier must be 1, 2 or 3."), field="tier")
        changes["tier"] = tier
    if language is not None and language != agent.language:
        if language and language not in dict(settings.LANGUAGES):
            raise ValidationFailed(_("Unknown language %(language)s.") % {"language": language},
                                   field="language")
        changes["language"] = language
    if time_zone is not None and time_zone != agent.time_zone:
        if time_zone and not _valid_time_zone(time_zone):
            raise ValidationFailed(_("Unknown time zone %(zone)s.") % {"zone": time_zone},
                                   field="time_zone")
        changes["time_zone"] = time_zone
    if "role" in changes:
        admin = changes["role"] == Agent.Role.ADMIN
        user.is_staff = user.is_superuser = admin
        user.save(update_fields=["is_staff", "is_superuser"])
    if changes:
        before = {field: getattr(agent, field) for field in changes}
        do_update_agent(agent, **changes)
        publish_on_commit("agent.updated", {"user_id": user.pk, "before": before,
                                            "after": changes,
                                            "acting_user_id": acting_user.pk})
    user.agent = agent
    return user


@transaction.atomic
def do_deactivate_user(user, *, acting_user):
    """Sign a colleague out for good: they can no longer log in nor use their API tokens, and
    stop being offered work. Their conversations and history stay. Nobody deactivates
    themselves, and the last active administrator stays."""
    check_may_manage_staff(acting_user, target=user)
    if user.pk == acting_user.pk:
        raise ValidationFailed(_("You cannot deactivate yourself; ask another administrator."),
                               field="user")
    if not user.is_active:
        return user
    if _is_admin(user):
        _check_not_last_admin(user, _("This is the last active administrator; make someone "
                                      "else an administrator first."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    Agent.objects.filter(user=user).update(status=Agent.Status.OFFLINE)
    publish_on_commit("agent.deactivated", {"user_id": user.pk,
                                            "acting_user_id": acting_user.pk})
    return user


@transaction.atomic
def do_reactivate_user(user, *, acting_user):
    """Let a deactivated colleague sign in again."""
    check_may_manage_staff(acting_user, target=user)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    publish_on_commit("agent.reactivated", {"user_id": user.pk,
                                            "acting_user_id": acting_user.pk})
    return user


def _check_team_members(users) -> list:
    members = list(users)
    for member in members:
        if not member.is_active or not Agent.objects.filter(user=member).exists():
            raise ValidationFailed(_("%(user)s is not an active agent.") % {"user": member},
                                   field="members")
    return members


@transaction.atomic
def do_update_team(team: Team, *, acting_user, name: str | None = None,
                   tier: int | None = None, lead=_UNSET, escalates_to=_UNSET) -> Team:
    """Rename a team, set its tier, its lead (None: no lead) or the team its escalations go to
    (``escalates_to``; None: the desk's team of the next tier). A lead who is not a member
    joins the team. The ladder may not lead back to the team itself.

    A ladder change locks every team row (``select_for_update``, in id order, before anything
    else) so that two changes made at once cannot close a loop between them."""
    check_may_manage_staff(acting_user)
    ladder: dict[int, int | None] = {}
    if escalates_to is not _UNSET:
        ladder = dict(Team.objects.select_for_update().order_by("pk")
                      .values_list("pk", "escalates_to_id"))
    team = Team.objects.select_for_update().get(pk=team.pk)
    fields: list[str] = []
    before: dict = {}
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed(_("A team needs a name."), field="name")
        if name != team.name:
            if Team.objects.filter(name=name).exclude(pk=team.pk).exists():
                raise Conflict(_("There is already a team called %(name)s.") % {"name": name},
                               field="name")
            before["name"], team.name = team.name, name[:100]
            fields.append("name")
    if tier is not None and tier != team.tier:
        if tier not in TIERS:
            raise ValidationFailed(_("The tier must be 1, 2 or 3."), field="tier")
        before["tier"], team.tier = team.tier, tier
        fields.append("tier")
    if lead is not _UNSET and (lead.pk if lead else None) != team.lead_id:
        if lead is not None:
            _check_team_members([lead])
            team.members.add(lead)
        before["lead"], team.lead = team.lead_id, lead
        fields.append("lead")
    if escalates_to is not _UNSET and (escalates_to.pk if escalates_to else None) \
            != team.escalates_to_id:
        if escalates_to is not None:
            _check_ladder(team, escalates_to, ladder)
        before["escalates_to"], team.escalates_to = team.escalates_to_id, escalates_to
        fields.append("escalates_to")
    if fields:
        team.save(update_fields=fields)
        publish_on_commit("team.updated", {"team_id": team.pk, "before": before,
                                           "acting_user_id": acting_user.pk})
    return team


def _check_ladder(team: Team, escalates_to: Team, ladder: dict[int, int | None]) -> None:
    """Refuse a rung that is the team itself or whose own ladder climbs back to it."""
    if escalates_to.pk == team.pk:
        raise ValidationFailed(_("A team cannot escalate to itself."), field="escalates_to")
    seen: set[int] = set()
    rung: int | None = escalates_to.pk
    while rung is not None and rung not in seen:
        if rung == team.pk:
            raise ValidationFailed(
                _("%(target)s already escalates (through its ladder) to %(team)s; that would "
                  "make a loop.") % {"target": escalates_to.name, "team": team.name},
                field="escalates_to")
        seen.add(rung)
        rung = ladder.get(rung)


@transaction.atomic
def do_set_team_members(team: Team, members, *, acting_user) -> Team:
    """Make ``members`` (active agents) the team's members; a lead who leaves stops leading."""
    check_may_manage_staff(acting_user)
    team = Team.objects.select_for_update().get(pk=team.pk)
    members = _check_team_members(members)
    before = sorted(team.members.values_list("pk", flat=True))
    team.members.set(members)
    after = sorted(m.pk for m in members)
    if team.lead_id and team.lead_id not in after:
        team.lead = None
        team.save(update_fields=["lead"])
    if before != after:
        publish_on_commit("team.members_changed", {"team_id": team.pk, "before": before,
                                                   "after": after,
                                                   "acting_user_id": acting_user.pk})
    return team

"""Writers for staff users, agents, teams and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from mostrador.accounts.models import Agent, ApiToken, Team
from mostrador.core.errors import Conflict, NotFound, ValidationFailed

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
    for field, value in changes.items():
        setattr(agent, field, value)
    if changes:
        agent.save(update_fields=list(changes))
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

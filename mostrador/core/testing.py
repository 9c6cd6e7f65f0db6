"""Test helpers shared by every app's tests: the personas and a desk to work in.

Agents: ana (L1), beto (L2), carla (supervisor), diego (admin). Customers: elena writes in
Spanish, frank in English.
"""

from __future__ import annotations

import dataclasses
import email.utils
from email.message import EmailMessage

from mostrador.accounts.actions import (
    do_create_api_token,
    do_create_staff_user,
    do_create_team,
    do_update_agent,
)
from mostrador.accounts.models import Agent
from mostrador.conversations.models import Inbox
from mostrador.customers.actions import resolve_identity

SUPPORT_ADDRESS = "soporte@desk.example.com"


@dataclasses.dataclass
class Desk:
    inbox: Inbox
    ana: object
    beto: object
    carla: object
    diego: object
    team_l1: object
    team_l2: object
    elena: object
    frank: object


def make_email_inbox(address: str = SUPPORT_ADDRESS, *, name: str = "Soporte",
                     catch_all: bool = True, **config) -> Inbox:
    return Inbox.objects.create(
        name=name, channel_kind="email",
        config={"address": address, "from_name": name, "catch_all": catch_all, **config},
    )


def make_desk() -> Desk:
    password = "test-password-123"
    ana = do_create_staff_user(email="ana@desk.example.com", password=password,
                               display_name="Ana García", check_password=False)
    beto = do_create_staff_user(email="beto@desk.example.com", password=password,
                                display_name="Beto Ruiz", check_password=False)
    carla = do_create_staff_user(email="carla@desk.example.com", password=password,
                                 display_name="Carla Méndez", role=Agent.Role.SUPERVISOR,
                                 check_password=False)
    diego = do_create_staff_user(email="diego@desk.example.com", password=password,
                                 display_name="Diego Torres", role=Agent.Role.ADMIN,
                                 check_password=False)
    do_update_agent(beto.agent, tier=2)
    team_l1 = do_create_team("Soporte L1", members=[ana], tier=1)
    team_l2 = do_create_team("Soporte L2", members=[beto], tier=2)
    inbox = make_email_inbox()
    elena, _ = resolve_identity("email", "elena.martin@correo.es", name="Elena Martín")
    frank, _ = resolve_identity("email", "frank.miller@example.org", name="Frank Miller")
    return Desk(inbox, ana, beto, carla, diego, team_l1, team_l2, elena, frank)


def api_token_for(user) -> str:
    return do_create_api_token(user, name="tests")[1]


def build_mail(*, sender: str = "Elena Martín <elena.martin@correo.es>",
               to: str = SUPPORT_ADDRESS, subject: str = "No me ha llegado el pedido",
               body: str = "Hola, hice un pedido hace una semana y no ha llegado.",
               message_id: str | None = None, in_reply_to: str | None = None,
               references: str | None = None, headers: dict[str, str] | None = None) -> bytes:
    """A plain, well-formed customer e-mail for tests that are not about parsing."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=False)
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="correo.es")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references or in_reply_to:
        message["References"] = references or in_reply_to
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    return message.as_bytes()

"""The settings screens: inboxes (with the connection test against real local servers), staff
accounts and teams, for supervisors and administrators only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from mostrador.accounts.models import Agent, Team
from mostrador.channels.email.tests import conftest as mail_servers
from mostrador.conversations.models import Inbox
from mostrador.core.testing import make_email_inbox

pytestmark = pytest.mark.django_db

# The e-mail channel's real local servers (an SMTP sink, pymap), as fixtures here too.
smtp_sink = mail_servers.smtp_sink
imap_server = mail_servers.imap_server
imap_client = mail_servers.imap_client
imap_folder = mail_servers.imap_folder

HX = {"HX-Request": "true"}
PASSWORD = "test-password-123"


@pytest.fixture
def carla(client, desk):
    """Carla, the supervisor, signed in."""
    client.force_login(desk.carla)
    return client


@pytest.fixture
def diego(client, desk):
    """Diego, the administrator, signed in."""
    client.force_login(desk.diego)
    return client


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def field_errors(response, name: str) -> str:
    """The error list Django renders for field ``name`` (empty when none)."""
    found = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>',
                      response.content.decode(), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


# --- who may come in ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["settings", "settings_users", "settings_teams",
                                  "settings_inbox_new", "settings_user_new",
                                  "settings_team_new"])
def test_agents_get_the_403_page_and_strangers_the_sign_in(client, desk, name):
    assert client.get(reverse(name if ":" in name else f"web:{name}"))["Location"].startswith(
        reverse("web:login"))
    client.force_login(desk.ana)
    response = client.get(reverse(f"web:{name}"))
    assert response.status_code == 403
    assert "Only supervisors and administrators" in page_text(response)


def test_an_agent_cannot_post_either(client, desk):
    client.force_login(desk.ana)
    response = client.post(reverse("web:settings_user_deactivate", args=[desk.beto.pk]))
    assert response.status_code == 403
    assert get_user_model().objects.get(pk=desk.beto.pk).is_active


# --- inboxes --------------------------------------------------------------------------------


def test_the_inbox_list_shows_the_receiver_address(carla, desk, settings):
    settings.MOSTRADOR = {**settings.MOSTRADOR, "SMTPD_HOST": "mail.desk.example.com",
                          "SMTPD_PORT": 2525}
    make_email_inbox("ventas@desk.example.com", name="Ventas", catch_all=False,
                     aliases=["pedidos@desk.example.com"],
                     imap={"host": "imap.desk.example.com", "port": 993, "username": "v",
                           "password": "secreto-imap"})
    text = page_text(carla.get(reverse("web:settings")))
    assert "mail.desk.example.com:2525" in text
    assert "soporte@desk.example.com" in text and "catch-all" in text
    assert "pedidos@desk.example.com" in text
    assert "fetched from imap.desk.example.com:993" in text
    assert "secreto-imap" not in text


def test_the_inbox_list_costs_the_same_queries_for_few_or_many(carla, desk,
                                                               django_assert_num_queries):
    carla.get(reverse("web:settings"))
    with django_assert_num_queries(4) as few:
        carla.get(reverse("web:settings"))
    for n in range(10):
        Inbox.objects.create(name=f"Buzón {n}", channel_kind="email",
                             config={"address": f"b{n}@desk.example.com"},
                             default_team=desk.team_l1)
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(reverse("web:settings"))


INBOX_FORM = {
    "name": "Ventas", "address": "Ventas@Tienda.example", "aliases": "pedidos@tienda.example\n",
    "from_name": "Ventas Tienda", "smtp_url": "smtp://ventas@smtp.tienda.example:587?starttls=1",
    "smtp_password": "clave-smtp", "imap_host": "imap.tienda.example", "imap_security": "ssl",
    "imap_port": "", "imap_username": "ventas@tienda.example", "imap_password": "clave-imap",
    "imap_folder": "", "default_team": "", "active": "on",
}


def test_create_an_email_inbox(carla, desk):
    response = carla.post(reverse("web:settings_inbox_new"),
                          {**INBOX_FORM, "default_team": desk.team_l2.pk})
    assert response.status_code == 302, field_errors(response, "address")
    inbox = Inbox.objects.get(name="Ventas")
    assert inbox.channel_kind == "email" and inbox.default_team == desk.team_l2 and inbox.active
    assert inbox.config["address"] == "ventas@tienda.example"
    assert inbox.config["aliases"] == ["pedidos@tienda.example"]
    assert inbox.config["smtp_url"] == \
        "smtp://ventas:clave-smtp@smtp.tienda.example:587?starttls=1"
    assert inbox.config["imap"] == {"host": "imap.tienda.example", "port": 993,
                                    "security": "ssl", "username": "ventas@tienda.example",
                                    "password": "clave-imap", "folder": "INBOX"}
    assert "The inbox Ventas was created." in page_text(carla.get(response["Location"]))


def test_inbox_mistakes_are_shown_next_to_their_fields(carla, desk):
    url = reverse("web:settings_inbox_new")
    response = carla.post(url, {**INBOX_FORM, "address": "no-es-correo",
                                "aliases": "bien@tienda.example\nmal@", "smtp_url": "http://x",
                                "imap_username": "", "imap_password": ""})
    assert response.status_code == 200
    assert "valid email" in field_errors(response, "address")
    assert "mal@ is not an e-mail address" in field_errors(response, "aliases")
    assert "smtp://user@host" in field_errors(response, "smtp_url")
    assert "needs a user name" in field_errors(response, "imap_username")
    assert "needs a password" in field_errors(response, "imap_password")
    # The adapter's own validation (a domain without a dot passes Django's check).
    response = carla.post(url, {**INBOX_FORM, "address": "soporte@localhost"})
    assert "is not an e-mail address" in field_errors(response, "address")
    assert not Inbox.objects.filter(name="Ventas").exists()
    # Typed passwords are not echoed back either.
    assert "clave-smtp" not in page_text(response) and "clave-imap" not in page_text(response)


def test_editing_never_shows_passwords_and_empty_keeps_them(carla, desk):
    carla.post(reverse("web:settings_inbox_new"), INBOX_FORM)
    inbox = Inbox.objects.get(name="Ventas")
    url = reverse("web:settings_inbox", args=[inbox.pk])
    text = page_text(carla.get(url))
    assert "clave-smtp" not in text and "clave-imap" not in text
    assert 'value="smtp://ventas@smtp.tienda.example:587?starttls=1"' in text
    assert "Leave empty to keep the saved password." in text

    edit = {**INBOX_FORM, "name": "Ventas y pedidos", "smtp_url":
            "smtp://ventas@smtp.tienda.example:587?starttls=1", "smtp_password": "",
            "imap_password": "", "imap_port": "993", "default_team": desk.team_l1.pk,
            "active": ""}
    assert carla.post(url, edit).status_code == 302
    inbox.refresh_from_db()
    assert inbox.name == "Ventas y pedidos" and not inbox.active
    assert inbox.default_team == desk.team_l1
    assert inbox.config["smtp_url"] == \
        "smtp://ventas:clave-smtp@smtp.tienda.example:587?starttls=1"
    assert inbox.config["imap"]["password"] == "clave-imap"

    # Another server never receives the saved password: it must be typed again.
    moved = {**edit, "imap_host": "imap.otro.example"}
    assert "needs a password" in field_errors(carla.post(url, moved), "imap_password")
    moved["smtp_url"] = "smtp://ventas@smtp.otro.example:587"
    moved["imap_password"] = "nueva"
    assert carla.post(url, moved).status_code == 302
    inbox.refresh_from_db()
    assert inbox.config["smtp_url"] == "smtp://ventas@smtp.otro.example:587"
    assert inbox.config["imap"]["password"] == "nueva"


def test_test_connection_tries_the_entered_servers(carla, desk, smtp_sink, imap_server,
                                                   imap_folder):
    sink = smtp_sink()
    form = {**INBOX_FORM, "smtp_url": sink.url, "smtp_password": "",
            "imap_host": imap_server.host, "imap_port": imap_server.port,
            "imap_security": "plain", "imap_username": imap_server.username,
            "imap_password": imap_server.password, "imap_folder": imap_folder}
    response = carla.post(reverse("web:settings_inbox_test"), form, headers=HX)
    text = page_text(response)
    assert "<html" not in text
    assert text.count('class="ok"') == 2, text
    assert f"Connected to 127.0.0.1:{sink.port}" in text and "sink.example.net" in text
    assert f"the folder {imap_folder} holds 0 messages" in text
    assert imap_server.password not in text
    assert not Inbox.objects.filter(name="Ventas").exists()

    wrong = {**form, "imap_password": "otra", "smtp_url": "smtp://127.0.0.1:1?timeout=2"}
    text = page_text(carla.post(reverse("web:settings_inbox_test"), wrong, headers=HX))
    assert text.count('class="failed"') == 2, text
    assert "Could not reach 127.0.0.1:1" in text
    assert f"refused the login as {imap_server.username}" in text


def test_test_connection_of_a_saved_inbox_uses_the_saved_password(carla, desk, imap_server,
                                                                  imap_folder):
    inbox = make_email_inbox("ventas@tienda.example", name="Ventas", catch_all=False,
                             imap=imap_server.settings(imap_folder))
    form = {**INBOX_FORM, "smtp_url": "", "smtp_password": "", "imap_host": imap_server.host,
            "imap_port": imap_server.port, "imap_security": "plain",
            "imap_username": imap_server.username, "imap_password": "",
            "imap_folder": imap_folder}
    url = reverse("web:settings_inbox_test_saved", args=[inbox.pk])
    text = page_text(carla.post(url, form, headers=HX))
    assert 'class="ok"' in text and "holds 0 messages" in text
    assert "replies are written to the outbox folder" in text
    # Without JavaScript: the form again, with the results.
    plain = page_text(carla.post(url, form))
    assert "<html" in plain and "holds 0 messages" in plain and 'name="imap_host"' in plain


# --- users ----------------------------------------------------------------------------------


def test_the_user_list_shows_role_tier_teams_and_state(carla, desk,
                                                       django_assert_num_queries):
    get_user_model().objects.filter(pk=desk.beto.pk).update(is_active=False)
    text = page_text(carla.get(reverse("web:settings_users")))
    ana_row = re.search(r"<tr>.*?Ana García.*?</tr>", text).group(0)
    assert "ana@desk.example.com" in ana_row and "Agent" in ana_row
    assert "Soporte L1" in ana_row and "active" in ana_row
    beto_row = re.search(r'<tr class="inactive">.*?Beto Ruiz.*?</tr>', text).group(0)
    assert "deactivated" in beto_row and "<td>2</td>" in beto_row
    with django_assert_num_queries(5) as few:
        carla.get(reverse("web:settings_users"))
    from mostrador.accounts.actions import do_create_staff_user

    for n in range(10):
        user = do_create_staff_user(email=f"agente{n}@desk.example.com", password=PASSWORD,
                                    check_password=False)
        desk.team_l1.members.add(user)
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(reverse("web:settings_users"))


NEW_USER = {"email": "Lucia@Desk.example.com", "display_name": "Lucía Gómez", "role": "agent",
            "tier": "2", "language": "es", "time_zone": "Atlantic/Canary",
            "password_delivery": "show"}


def test_add_a_user_with_a_password_shown_once(carla, client, desk):
    response = carla.post(reverse("web:settings_user_new"), NEW_USER)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="lucia@desk.example.com")
    assert (user.agent.display_name, user.agent.role, user.agent.tier) == ("Lucía Gómez",
                                                                          "agent", 2)
    assert (user.agent.language, user.agent.time_zone) == ("es", "Atlantic/Canary")
    text = page_text(carla.get(response["Location"]))
    password = re.search(r'<code class="password" id="new-password">([^<]+)</code>',
                         text).group(1)
    assert user.check_password(password)
    assert "new-password" not in page_text(carla.get(response["Location"]))
    assert "already a user" in field_errors(
        carla.post(reverse("web:settings_user_new"), NEW_USER), "email")


def test_add_a_user_invited_by_mail_in_their_language(carla, desk):
    response = carla.post(reverse("web:settings_user_new"),
                          {**NEW_USER, "password_delivery": "email"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lucia@desk.example.com"]
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", message.body).group(1)
    assert "Carla Méndez" in message.body and "Lucía Gómez" in message.body
    # Written in Lucía's language (Spanish), whatever the inviting supervisor reads.
    with translation.override("es"):
        assert message.subject == gettext("Your Mostrador account")
    text = page_text(carla.get(response["Location"]))
    assert "an e-mail with a link to choose a password" in text
    assert "new-password" not in text
    # The link lets her choose a password.
    carla.logout()
    assert carla.get(link).status_code in (200, 302)


def test_a_supervisor_cannot_make_or_change_an_administrator(carla, desk):
    assert "admin" not in re.findall(r'<option value="(\w+)"',
                                     page_text(carla.get(reverse("web:settings_user_new"))))
    response = carla.post(reverse("web:settings_user_new"), {**NEW_USER, "role": "admin"})
    assert "Select a valid choice" in field_errors(response, "role")
    response = carla.post(reverse("web:settings_user", args=[desk.diego.pk]),
                          {"display_name": "Diego T.", "role": "admin", "tier": "1"})
    assert Agent.objects.get(user=desk.diego).display_name == "Diego Torres"
    response = carla.post(reverse("web:settings_user_deactivate", args=[desk.diego.pk]))
    assert get_user_model().objects.get(pk=desk.diego.pk).is_active
    assert "Only an administrator" in page_text(carla.get(response["Location"]))


def test_edit_role_tier_language_and_time_zone(diego, desk):
    url = reverse("web:settings_user", args=[desk.ana.pk])
    assert "Ana García" in page_text(diego.get(url))
    response = diego.post(url, {"display_name": "Ana García", "role": "supervisor",
                                "tier": "2", "language": "en", "time_zone": "Europe/London"})
    assert response.status_code == 302
    agent = Agent.objects.get(user=desk.ana)
    assert (agent.role, agent.tier, agent.language, agent.time_zone) == (
        "supervisor", 2, "en", "Europe/London")
    diego.post(url, {"display_name": "Ana García", "role": "admin", "tier": "2"})
    ana = get_user_model().objects.get(pk=desk.ana.pk)
    assert ana.agent.role == "admin" and ana.is_superuser and ana.is_staff
    diego.post(url, {"display_name": "Ana García", "role": "agent", "tier": "1"})
    ana.refresh_from_db()
    assert not ana.is_superuser and not ana.is_staff


def test_nobody_deactivates_themselves_and_the_last_admin_stays(diego, desk):
    own = reverse("web:settings_user", args=[desk.diego.pk])
    assert "You cannot deactivate your own account." in page_text(diego.get(own))
    response = diego.post(reverse("web:settings_user_deactivate", args=[desk.diego.pk]))
    assert "You cannot deactivate yourself" in page_text(diego.get(response["Location"]))
    response = diego.post(own, {"display_name": "Diego Torres", "role": "supervisor",
                                "tier": "1"})
    assert "last active administrator" in page_text(response)
    assert Agent.objects.get(user=desk.diego).role == "admin"


def test_deactivate_and_reactivate_a_user(diego, client, desk):
    url = reverse("web:settings_user_deactivate", args=[desk.ana.pk])
    response = diego.post(url)
    assert "can no longer sign in" in page_text(diego.get(response["Location"]))
    assert not get_user_model().objects.get(pk=desk.ana.pk).is_active
    diego.logout()
    assert not client.login(username="ana@desk.example.com", password=PASSWORD)
    client.force_login(desk.diego)
    client.post(reverse("web:settings_user_reactivate", args=[desk.ana.pk]))
    assert get_user_model().objects.get(pk=desk.ana.pk).is_active


# --- teams ----------------------------------------------------------------------------------


def test_create_a_team_then_set_members_lead_and_tier(carla, desk):
    response = carla.post(reverse("web:settings_team_new"), {"name": "Facturación",
                                                             "tier": "2"})
    team = Team.objects.get(name="Facturación")
    assert response["Location"] == reverse("web:settings_team", args=[team.pk])
    assert "already a team" in field_errors(
        carla.post(reverse("web:settings_team_new"), {"name": "Facturación", "tier": "1"}),
        "name")
    url = reverse("web:settings_team", args=[team.pk])
    assert "Ana García" in page_text(carla.get(url))
    response = carla.post(url, {"name": "Facturación y cobros", "tier": "3",
                                "members": [desk.ana.pk], "lead": desk.beto.pk})
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.tier, team.lead) == ("Facturación y cobros", 3, desk.beto)
    assert set(team.members.all()) == {desk.ana, desk.beto}
    # Leaving the team ends the lead.
    carla.post(url, {"name": "Facturación y cobros", "tier": "3", "members": [desk.ana.pk],
                     "lead": ""})
    team.refresh_from_db()
    assert team.lead is None and list(team.members.all()) == [desk.ana]
    taken = carla.post(url, {"name": "Soporte L1", "tier": "1"})
    assert "already a team called Soporte L1" in field_errors(taken, "name")


def test_the_team_list_costs_the_same_queries_for_few_or_many(carla, desk,
                                                              django_assert_num_queries):
    text = page_text(carla.get(reverse("web:settings_teams")))
    assert "Soporte L1" in text and "Ana García" in text
    with django_assert_num_queries(5) as few:
        carla.get(reverse("web:settings_teams"))
    for n in range(8):
        team = Team.objects.create(name=f"Equipo {n}", lead=desk.beto)
        team.members.add(desk.ana, desk.beto)
    with django_assert_num_queries(len(few.captured_queries)):
        carla.get(reverse("web:settings_teams"))

"""Signing in, the language and time zone each agent keeps, and password reset by e-mail."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from mostrador.accounts.models import Agent

pytestmark = pytest.mark.django_db
PASSWORD = "test-password-123"


def test_the_workspace_asks_for_a_sign_in(client, desk):
    response = client.get(reverse("web:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_sign_in_and_out(client, desk):
    response = client.post(reverse("web:login"), {"username": "ana@desk.example.com",
                                                   "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("web:profile")).status_code == 200
    client.post(reverse("web:logout"))
    assert client.get(reverse("web:profile")).status_code == 302


def test_a_wrong_password_says_so(client, desk):
    response = client.post(reverse("web:login"), {"username": "ana@desk.example.com",
                                                   "password": "nope"})
    assert response.status_code == 200
    assert b"flash-error" in response.content


def test_language_defaults_from_the_browser_and_is_remembered_per_user(client, desk):
    page = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert 'lang="es"' in page.content.decode()
    page = client.get(reverse("web:login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert 'lang="en"' in page.content.decode()

    client.force_login(desk.ana)
    client.post(reverse("web:language"), {"language": "es", "next": reverse("web:profile")})
    assert Agent.objects.get(user=desk.ana).language == "es"
    client.cookies.clear()
    client.force_login(desk.ana)
    page = client.get(reverse("web:profile"), HTTP_ACCEPT_LANGUAGE="en")
    assert 'lang="es"' in page.content.decode()
    assert "Mis preferencias" in page.content.decode()


def test_language_switch_refuses_foreign_redirects(client, desk):
    client.force_login(desk.ana)
    response = client.post(reverse("web:language"),
                           {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == reverse("web:inbox")


def test_profile_sets_time_zone_and_name(client, desk):
    client.force_login(desk.beto)
    response = client.post(reverse("web:profile"), {
        "display_name": "Beto R.", "language": "en", "time_zone": "America/Mexico_City"})
    assert response.status_code == 302
    agent = Agent.objects.get(user=desk.beto)
    assert (agent.display_name, agent.language, agent.time_zone) == (
        "Beto R.", "en", "America/Mexico_City")
    bad = client.post(reverse("web:profile"), {"display_name": "B", "time_zone": "Mars/Base"})
    assert bad.status_code == 200
    assert Agent.objects.get(user=desk.beto).time_zone == "America/Mexico_City"


def test_password_reset_mail_leads_to_a_new_password(client, desk, mailoutbox):
    client.post(reverse("web:password_reset"), {"email": "ana@desk.example.com"})
    (mail,) = mailoutbox
    assert mail.to == ["ana@desk.example.com"]
    link = re.search(r"http://testserver(/account/password/reset/\S+/)", mail.body)
    assert link, mail.body

    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-Much-better-pass-42",
                                                    "new_password2": "a-Much-better-pass-42"})
    assert done.status_code == 302
    assert client.login(username="ana@desk.example.com", password="a-Much-better-pass-42")


def test_the_desks_own_mail_goes_through_the_mail_seam(settings, tmp_path):
    from django.core.mail import EmailMessage

    from mostrador.core.mail import EmailBackend

    settings.MOSTRADOR = {**settings.MOSTRADOR, "OUTBOX_DIR": str(tmp_path), "SMTP_URL": ""}
    message = EmailMessage("Hola", "Cuerpo", "desk@desk.example.com", ["ana@desk.example.com"])
    assert EmailBackend().send_messages([message]) == 1
    (written,) = tmp_path.glob("*.eml")
    assert b"Subject: Hola" in written.read_bytes()

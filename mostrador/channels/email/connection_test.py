"""Trying a mailbox's servers before its settings are saved: can we reach the outbound SMTP
relay (and log in), and the IMAP server (log in and open the folder)?

Each check answers ``(ok, message)``: on success the message quotes what the server said, on
failure it says what went wrong and what to check. Timeouts are short: an administrator is
waiting for the answer. Passwords never appear in a message. Nothing is sent or changed: the
SMTP check ends with NOOP, the IMAP check opens the folder read-only.
"""

from __future__ import annotations

import contextlib
import imaplib
import smtplib
import ssl
from typing import Any

import pydantic
from django.utils.translation import gettext as _

from mostrador.channels.email.adapter import ImapSettings
from mostrador.channels.email.imap import encode_mailbox_name
from mostrador.core.mail import SmtpRelay

# Module and functions are named after what they do ("test the connection"); they are not
# tests, and pytest must not collect them.
__test__ = False

TIMEOUT_SECONDS = 8.0


def _text(value: Any) -> str:
    if isinstance(value, Exception) and value.args:
        value = value.args[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())


def _first_line(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    lines = reply.strip().splitlines()
    return _text(lines[0]) if lines else ""


def test_smtp(url: str, *, timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Connect to the relay in ``url`` (``smtp://user:password@host:587?starttls=1``,
    ``smtps://…:465``), say EHLO, STARTTLS and log in when the URL asks for it, then NOOP."""
    url = (url or "").strip()
    if not url:
        return False, _("No SMTP server to try: enter the relay's URL, e.g. "
                        "smtp://user:password@smtp.example.com:587?starttls=1.")
    try:
        relay = SmtpRelay.from_url(url)
    except ValueError:
        return False, _("This is not an SMTP URL; write it as "
                        "smtp://user:password@host:587?starttls=1 or smtps://user:password@host:465.")
    where = f"{relay.host}:{relay.port}"
    timeout = min(timeout, relay.timeout)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        client = (smtplib.SMTP_SSL(timeout=timeout, context=context) if relay.implicit_tls
                  else smtplib.SMTP(timeout=timeout))
        _code, greeting = client.connect(relay.host, relay.port)
    except ssl.SSLError as exc:
        return False, _("TLS with %(where)s failed: %(error)s. Check the port: implicit TLS "
                        "(smtps://) is usually 465, STARTTLS 587.") % {"where": where,
                                                                       "error": _text(exc)}
    except (OSError, smtplib.SMTPException) as exc:
        return False, _("Could not reach %(where)s: %(error)s. Check the host name and port, "
                        "and that this server may connect to it.") % {"where": where,
                                                                      "error": _text(exc)}
    try:
        client.ehlo()
        if relay.starttls:
            client.starttls(context=context)
            client.ehlo()
        if relay.username:
            client.login(relay.username, relay.password)
        client.noop()
    except smtplib.SMTPNotSupportedError as exc:
        return False, _("%(where)s does not offer this: %(error)s. Check whether the server "
                        "wants STARTTLS (?starttls=1) or implicit TLS (smtps://).") % {
            "where": where, "error": _text(exc)}
    except smtplib.SMTPAuthenticationError as exc:
        return False, _("%(where)s refused the login as %(user)s: %(code)s %(error)s. Check the "
                        "user name and password (some providers need an app password).") % {
            "where": where, "user": relay.username, "code": exc.smtp_code,
            "error": _text(exc.smtp_error)}
    except smtplib.SMTPResponseException as exc:
        return False, _("%(where)s answered %(code)s %(error)s.") % {
            "where": where, "code": exc.smtp_code, "error": _text(exc.smtp_error)}
    except ssl.SSLError as exc:
        return False, _("TLS with %(where)s failed: %(error)s. Check the port: implicit TLS "
                        "(smtps://) is usually 465, STARTTLS 587.") % {"where": where,
                                                                       "error": _text(exc)}
    except (OSError, smtplib.SMTPException) as exc:
        return False, _("The connection to %(where)s broke off: %(error)s.") % {
            "where": where, "error": _text(exc)}
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()
    if relay.username:
        return True, _("Connected to %(where)s and logged in as %(user)s. The server said: "
                       "%(greeting)s") % {"where": where, "user": relay.username,
                                          "greeting": _first_line(greeting)}
    return True, _("Connected to %(where)s. The server said: %(greeting)s") % {
        "where": where, "greeting": _first_line(greeting)}


def test_imap(settings: ImapSettings | dict[str, Any], *,
              timeout: float = TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Connect to the IMAP server (``ssl``, ``starttls`` or ``plain``), log in, and open the
    folder read-only."""
    try:
        config = (settings if isinstance(settings, ImapSettings)
                  else ImapSettings.model_validate(settings))
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        return False, _("The IMAP settings are incomplete: %(field)s: %(error)s.") % {
            "field": field, "error": first.get("msg", "")}
    where = f"{config.host}:{config.port}"
    try:
        if config.security == "ssl":
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                config.host, config.port, ssl_context=ssl.create_default_context(),
                timeout=timeout)
        else:
            client = imaplib.IMAP4(config.host, config.port, timeout=timeout)
    except ssl.SSLError as exc:
        return False, _("TLS with %(where)s failed: %(error)s. Check the port and security: "
                        "SSL is usually port 993, STARTTLS 143.") % {"where": where,
                                                                     "error": _text(exc)}
    except (OSError, imaplib.IMAP4.error) as exc:
        return False, _("Could not reach %(where)s: %(error)s. Check the host name, port and "
                        "security, and that this server may connect to it.") % {
            "where": where, "error": _text(exc)}
    greeting = _first_line(client.welcome)
    try:
        if config.security == "starttls":
            client.starttls(ssl_context=ssl.create_default_context())
        try:
            client.login(config.username, config.password)
        except imaplib.IMAP4.error as exc:
            return False, _("%(where)s refused the login as %(user)s: %(error)s. Check the user "
                            "name and password (some providers need an app password).") % {
                "where": where, "user": config.username, "error": _text(exc)}
        status, data = client.select(encode_mailbox_name(config.folder), readonly=True)
        if status != "OK":
            return False, _("Logged in, but the folder %(folder)s could not be opened: "
                            "%(error)s. Check the folder's name.") % {
                "folder": config.folder, "error": _text(data[0] if data else status)}
        count = _text(data[0]) if data and data[0] else "0"
    except imaplib.IMAP4.error as exc:
        return False, _("%(where)s answered: %(error)s.") % {"where": where,
                                                            "error": _text(exc)}
    except ssl.SSLError as exc:
        return False, _("TLS with %(where)s failed: %(error)s. Check the port and security: "
                        "SSL is usually port 993, STARTTLS 143.") % {"where": where,
                                                                     "error": _text(exc)}
    except OSError as exc:
        return False, _("The connection to %(where)s broke off: %(error)s.") % {
            "where": where, "error": _text(exc)}
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error, EOFError):
            client.logout()
    return True, _("Logged in to %(where)s as %(user)s; the folder %(folder)s holds %(count)s "
                   "messages. The server said: %(greeting)s") % {
        "where": where, "user": config.username, "folder": config.folder, "count": count,
        "greeting": greeting}

"""The one seam for outbound mail transport.

``send_mail_bytes`` delivers a finished RFC 5322 message either to an SMTP relay given as a URL
(``smtp://user:password@host:587?starttls=1``, ``smtps://…:465``) or, when no relay is set, to
an outbox folder as ``.eml`` files (the embedded default: nothing leaves the machine until an
administrator connects a relay). Transport errors become :class:`MailTransportError` whose
``permanent`` flag follows SMTP: 5xx replies are permanent, 4xx replies and network trouble are
temporary.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.mail.backends.base import BaseEmailBackend


class MailTransportError(Exception):
    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    host: str
    port: int
    username: str = ""
    password: str = ""
    implicit_tls: bool = False
    starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(f"not an SMTP URL: {url!r} (expected smtp://host:port or smtps://…)")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            implicit_tls=implicit,
            starttls=query.get("starttls", "0").lower() in {"1", "true", "yes"},
            timeout=float(query.get("timeout", 30)),
        )


def send_mail_bytes(
    raw: bytes, *, envelope_from: str, recipients: list[str], relay_url: str, outbox_dir: str
) -> str:
    """Deliver ``raw``; return a short description of where it went."""
    if not recipients:
        raise MailTransportError("the message has no recipient address", permanent=True)
    if not relay_url:
        return _write_outbox(raw, outbox_dir)
    try:
        relay = SmtpRelay.from_url(relay_url)
    except ValueError as exc:
        raise MailTransportError(str(exc), permanent=True) from exc
    return _send_smtp(raw, relay, envelope_from, recipients)


def _write_outbox(raw: bytes, outbox_dir: str) -> str:
    folder = Path(outbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.eml"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(raw)
    os.replace(tmp, folder / name)
    return f"outbox:{folder / name}"


def _send_smtp(raw: bytes, relay: SmtpRelay, envelope_from: str, recipients: list[str]) -> str:
    context = ssl.create_default_context()
    try:
        if relay.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                relay.host, relay.port, timeout=relay.timeout, context=context
            )
        else:
            client = smtplib.SMTP(relay.host, relay.port, timeout=relay.timeout)
        with client:
            client.ehlo_or_helo_if_needed()
            if relay.starttls:
                client.starttls(context=context)
                client.ehlo()
            if relay.username:
                client.login(relay.username, relay.password)
            refused = client.sendmail(envelope_from, recipients, raw)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in
                           exc.recipients.items())
        raise MailTransportError(f"recipient refused: {detail}",
                                 permanent=all(c >= 500 for c in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailTransportError(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}",
                                 permanent=exc.smtp_code >= 500) from exc
    except smtplib.SMTPAuthenticationError as exc:  # pragma: no cover - subclass of the above
        raise MailTransportError(f"SMTP login failed: {exc}", permanent=True) from exc
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        raise MailTransportError(
            f"could not reach {relay.host}:{relay.port}: {exc}", permanent=False
        ) from exc
    if refused:
        detail = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in
                           refused.items())
        raise MailTransportError(f"some recipients refused: {detail}", permanent=True)
    return f"smtp:{relay.host}:{relay.port}"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class EmailBackend(BaseEmailBackend):
    """Django's e-mail backend over this seam: mail the desk sends to its own staff (password
    resets) goes the same way as replies: the relay, or the outbox folder."""

    def send_messages(self, email_messages) -> int:
        from django.conf import settings

        sent = 0
        for message in email_messages:
            try:
                send_mail_bytes(message.message().as_bytes(), envelope_from=message.from_email,
                                recipients=message.recipients(),
                                relay_url=settings.MOSTRADOR["SMTP_URL"],
                                outbox_dir=settings.MOSTRADOR["OUTBOX_DIR"])
            except MailTransportError:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent

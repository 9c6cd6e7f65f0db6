"""Read one raw RFC 5322 message into an :class:`InboundMessage`.

:func:`parse_email` is pure: bytes in, an ``InboundMessage`` out, or :class:`ParseError` when the
payload is not an e-mail at all (empty, no headers, no sender address). Whatever a real mail
client produces parses, however broken its MIME or charsets; anything unexpected is reported as
``ParseError``, never as another exception type, so that the payload stays quarantined with a
readable error.

The work is split by concern: :mod:`.mime` reads the structure (a byte-level reader, for speed;
its docstring says why), :mod:`.charsets` turns bytes into text, :mod:`.headers` reads
addresses, dates and references, :mod:`.html` sanitises HTML and turns it into text,
:mod:`.attachments` names and types attachments, :mod:`.noise` recognises machine mail. This
module walks the parts and assembles the result.

Besides the fields of ``InboundMessage``, ``extra`` may hold:

* ``reply_to``: the Reply-To addresses when they differ from the sender (web forms send from a
  no-reply address on behalf of the customer);
* ``suppress_autoreply``: True when ``X-Auto-Response-Suppress`` asks us not to auto-reply;
* ``synthetic_message_id``: True when the message had no Message-ID and ``provider_id`` was
  derived from the raw bytes;
* ``defects``: what the reader had to work around (``missing closing boundary``, …).
"""

from __future__ import annotations

import hashlib
from typing import Any

from mostrador.channels.base import (
    InboundAttachment,
    InboundMessage,
    ParseError,
    SkippedAttachment,
)
from mostrador.channels.email.ids import (
    conversation_number_from_message_id,
    conversation_number_from_subject,
    normalize_message_id,
)
from mostrador.channels.email.parser.attachments import (
    fallback_filename,
    safe_filename,
    sniff,
    too_large_reason,
)
from mostrador.channels.email.parser.charsets import decode_words
from mostrador.channels.email.parser.headers import (
    Headers,
    addresses,
    clean_text,
    header,
    parse_date,
    references,
    sender,
)
from mostrador.channels.email.parser.html import (
    HTML_QUOTE_MARKER_RE,
    MAX_HTML_DEPTH,
    HtmlText,
    html_depth,
    html_to_text,
    sanitize_html,
)
from mostrador.channels.email.parser.mime import (
    MESSAGE_TYPES,
    REPORT_PARTS,
    TEXT_TYPES,
    Part,
    content_id,
    decode_param_value,
    decode_part_text,
    disposition,
    read_headers,
    read_structure,
    transfer_decode,
)
from mostrador.channels.email.parser.noise import detect_noise
from mostrador.channels.email.quotes import fold_quotes

__all__ = [
    "DEFAULT_MAX_ATTACHMENT_BYTES",
    "SYNTHETIC_ID_DOMAIN",
    "html_to_text",
    "parse_email",
    "sanitize_html",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
SYNTHETIC_ID_DOMAIN = "mostrador.invalid"


def parse_email(
    raw: bytes,
    *,
    own_addresses: frozenset[str] = frozenset(),
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> InboundMessage:
    """Parse the raw bytes of one e-mail.

    ``own_addresses`` are the desk's own addresses (any case): mail from them is marked as
    noise. Parts larger than ``max_attachment_bytes`` once decoded are listed in
    ``skipped_attachments`` instead of ``attachments``.

    Raises :class:`ParseError` when ``raw`` is empty, has no headers or no sender address, and
    for any unexpected failure, with a message saying what was wrong.
    """
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ParseError(f"an e-mail must be given as bytes, not {type(raw).__name__}")
    data = bytes(raw)
    if not data.strip():
        raise ParseError("the payload is empty: there is no e-mail to read")
    try:
        return _Reader(data, own_addresses, max_attachment_bytes).read()
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(
            f"the e-mail could not be read ({type(exc).__name__}: {exc}); "
            "it is kept as received and can be parsed again after a fix"
        ) from exc


class _Reader:
    """The state of reading one message; :meth:`read` is called once."""

    def __init__(self, raw: bytes, own_addresses: frozenset[str], max_bytes: int) -> None:
        self.raw = raw
        self.own_addresses = own_addresses
        self.max_bytes = max_bytes
        self.attachments: list[InboundAttachment] = []
        self.skipped: list[SkippedAttachment] = []
        self.report_parts: list[Part] = []
        self.returned_headers: list[Headers] = []
        self.defects: set[str] = set()

    def read(self) -> InboundMessage:
        data = self.raw
        if b"\n" not in data and b"\r" in data:
            data = data.replace(b"\r", b"\n")  # classic Mac line ends
        # A few stores and export tools leave blank lines before the headers.
        top = read_structure(data.lstrip(b"\r\n"), self.defects)
        headers = top.headers
        if not headers:
            raise ParseError("the payload has no e-mail headers: it does not look like an e-mail")
        sender_name, sender_id = sender(headers)
        subject = clean_text(decode_words(header(headers, "subject"))).strip()
        message_id = normalize_message_id(header(headers, "message-id"))
        provider_id = message_id or _synthetic_id(self.raw)

        texts, htmls = self._walk(top)
        plain = clean_text("\n".join(texts)).strip("\n")
        raw_html = clean_text("\n".join(htmls))
        text = reply_source = plain
        if raw_html.strip() and (not plain.strip() or HTML_QUOTE_MARKER_RE.search(raw_html)):
            full, unquoted = HtmlText.convert(raw_html)
            if not plain.strip():
                text = reply_source = full
            if unquoted.strip():
                reply_source = unquoted
        for attachment in self.attachments:
            # Inline means shown inside the HTML body. The disposition alone does not tell:
            # Outlook gives every attachment a Content-ID and Apple Mail marks PDFs inline.
            cid = attachment.content_id
            attachment.inline = bool(cid) and f"cid:{cid}" in raw_html

        inbound = InboundMessage(
            sender_kind="email",
            sender_id=sender_id,
            sender_name=sender_name,
            provider_id=provider_id,
            subject=subject,
            text=text,
            html=self._sanitize(raw_html),
            reply_text=fold_quotes(reply_source),
            references=references(headers, provider_id),
            sent_at=parse_date(header(headers, "date")),
            attachments=self.attachments,
            skipped_attachments=self.skipped,
            recipients=addresses(headers.get("to", ())),
            cc=addresses(headers.get("cc", ())),
        )
        inbound.noise, inbound.bounce_of, inbound.bounce_reason = detect_noise(
            inbound, top, self.report_parts, self.returned_headers, self.own_addresses
        )
        inbound.conversation_number = _conversation_number(inbound)
        inbound.extra = self._extra(inbound, headers, synthetic=not message_id)
        return inbound

    def _sanitize(self, raw_html: str) -> str:
        if raw_html.count("<") > MAX_HTML_DEPTH and html_depth(raw_html) > MAX_HTML_DEPTH:
            self.defects.add("HTML nested too deeply; only its text is kept")
            return ""
        return sanitize_html(raw_html)

    def _walk(self, part: Part) -> tuple[list[str], list[str]]:
        """Collect the body texts and HTML of ``part``; attachments are recorded on the way."""
        content_type = part.content_type
        if part.multipart:
            if content_type == "multipart/alternative":
                # Later alternatives are the richer ones; keep the last plain and the last HTML.
                best_texts: list[str] = []
                best_htmls: list[str] = []
                for child in part.children:
                    texts, htmls = self._walk(child)
                    best_texts = texts or best_texts
                    best_htmls = htmls or best_htmls
                return best_texts, best_htmls
            all_texts: list[str] = []
            all_htmls: list[str] = []
            for child in part.children:
                texts, htmls = self._walk(child)
                all_texts += texts
                all_htmls += htmls
            return all_texts, all_htmls
        if content_type in REPORT_PARTS:
            self.report_parts.append(part)
            return [], []
        kind, filename = disposition(part.headers)
        filename = filename or decode_param_value(part.params.get("name", ""))
        if content_type in MESSAGE_TYPES:
            self._add_message(part, filename)
        elif content_type in TEXT_TYPES and kind != "attachment" and not filename:
            body = decode_part_text(part)
            return ([body], []) if content_type == "text/plain" else ([], [body])
        else:
            data = transfer_decode(part)
            name = safe_filename(filename) or fallback_filename(content_type)
            self._keep(name, sniff(data, content_type, name), data, content_id(part))
        return [], []

    def _add_message(self, part: Part, filename: str) -> None:
        """Keep an attached message as an ``.eml`` file, exactly as it was attached."""
        data = transfer_decode(part)
        inner_headers = read_headers(data)[0]
        self.returned_headers.append(inner_headers)
        subject = clean_text(decode_words(header(inner_headers, "subject")))
        title = subject[:80].replace("/", "-").replace("\\", "-")
        name = safe_filename(filename) or safe_filename(title) or "forwarded-message"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self._keep(name, "message/rfc822", data, content_id(part))

    def _keep(self, name: str, content_type: str, data: bytes, cid: str) -> None:
        if len(data) > self.max_bytes:
            reason = too_large_reason(name, len(data), self.max_bytes)
            self.skipped.append(SkippedAttachment(name, content_type, len(data), reason))
            return
        self.attachments.append(InboundAttachment(name, content_type, data, cid))

    def _extra(
        self, inbound: InboundMessage, headers: Headers, *, synthetic: bool
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        reply_to = [
            address
            for address in addresses(headers.get("reply-to", ()))
            if address != inbound.sender_id
        ]
        if reply_to:
            extra["reply_to"] = reply_to
        suppress = header(headers, "x-auto-response-suppress").lower()
        if any(word in suppress for word in ("all", "oof", "autoreply")):
            extra["suppress_autoreply"] = True
        if synthetic:
            extra["synthetic_message_id"] = True
        if self.defects:
            extra["defects"] = sorted(self.defects)
        return extra


def _conversation_number(inbound: InboundMessage) -> int | None:
    """Our Message-IDs in the references first (the most recent wins), then the subject
    token, then the id of the message a bounce reports on."""
    for msgid in reversed(inbound.references):
        number = conversation_number_from_message_id(msgid)
        if number is not None:
            return number
    number = conversation_number_from_subject(inbound.subject)
    if number is None and inbound.bounce_of:
        number = conversation_number_from_message_id(inbound.bounce_of)
    return number


def _synthetic_id(raw: bytes) -> str:
    return f"<sha256-{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_ID_DOMAIN}>"

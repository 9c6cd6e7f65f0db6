"""Reading the values of header fields: mailboxes, address lists, dates and references.

Header values arrive unfolded, with raw 8-bit bytes already decoded and RFC 2047 words still
encoded (addresses must be split before their display names are decoded).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from email.utils import getaddresses, parseaddr, parsedate_tz

from mostrador.channels.base import ParseError
from mostrador.channels.email.ids import parse_references
from mostrador.channels.email.parser.charsets import decode_words

Headers = dict[str, list[str]]

_MAX_MAILBOX = 998
_ADDRESS_RE = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
_SIMPLE_MAILBOX_RE = re.compile(r'\s*(?:"([^"\\]*)"|([^"<>(),;:@\\]*?))\s*<\s*([^<>\s]+)\s*>\s*')
_MAILTO_RE = re.compile(r"<\s*mailto:([^<>?\s]+)", re.I)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WHITESPACE_RE = re.compile(r"\s+")


def header(headers: Headers, name: str) -> str:
    """The first value of the (lower-case) header ``name``, or ""."""
    values = headers.get(name)
    return values[0] if values else ""


def token(value: str) -> str:
    """The first word of a header value, lower-cased: ``Auto-Replied; x=y`` → ``auto-replied``."""
    return value.split(";", 1)[0].strip().lower()


def clean_text(text: str) -> str:
    """Normalise line ends and drop NUL and other control characters databases refuse."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_RE.sub("", text)


def strip_controls(text: str) -> str:
    return _CONTROL_RE.sub("", text)


def sender(headers: Headers) -> tuple[str, str]:
    """(display name, lower-cased address) from From, else Reply-To, Sender, Return-Path.

    When a mailing list rewrote From to its own address (Google Groups and Mailman do so for
    senders whose domain publishes a strict DMARC policy), the author the list names in
    X-Original-From, Reply-To or X-Original-Sender is the sender.
    """
    for name in ("from", "reply-to", "sender", "return-path"):
        for value in headers.get(name, ()):
            display, address = parse_mailbox(value)
            if address:
                if name == "from" and address in _list_addresses(headers):
                    return _list_author(headers, address) or (display, address)
                return display, address
    raise ParseError(
        "the e-mail has no usable sender address (From, Reply-To, Sender and Return-Path are "
        "missing or unreadable), so it cannot be attributed to a customer"
    )


def _list_addresses(headers: Headers) -> set[str]:
    """The posting addresses of the list that relayed the message (List-Post, Mailing-list)."""
    if "list-post" not in headers and "mailing-list" not in headers:
        return set()
    found: set[str] = set()
    for value in headers.get("list-post", ()):
        found.update(address.lower() for address in _MAILTO_RE.findall(value))
    for value in headers.get("mailing-list", ()):
        # Google Groups: "list soporte@acme.example; contact soporte+owners@acme.example"
        words = value.split(";", 1)[0].split()
        if len(words) == 2 and words[0].lower() == "list":
            found.add(words[1].strip("<>").lower())
    return found


def _list_author(headers: Headers, list_address: str) -> tuple[str, str] | None:
    for name in ("x-original-from", "reply-to", "x-original-sender"):
        for value in headers.get(name, ()):
            display, address = parse_mailbox(value)
            if address and address != list_address:
                return display, address
    return None


def parse_mailbox(value: str) -> tuple[str, str]:
    """(decoded display name, lower-cased address) of the first mailbox in ``value``."""
    # RFC 5322 lines stop at 998 characters; longer values are garbage and would make the
    # fallback search below slow.
    value = value[:_MAX_MAILBOX]
    simple = _SIMPLE_MAILBOX_RE.fullmatch(value)
    if simple:
        display, address = simple.group(1) or simple.group(2) or "", simple.group(3)
    elif "<" not in value and "(" not in value and '"' not in value and "," not in value:
        display, address = "", value
    else:
        display, address = parseaddr(value)
    address = address.strip().lower()
    if not _ADDRESS_RE.fullmatch(address):
        match = _ADDRESS_RE.search(value)
        if not match:
            return "", ""
        address, display = match.group(0).lower(), ""
    display = clean_text(decode_words(display)).strip().strip("\"'").strip()
    return ("" if display.lower() == address else display), address


def addresses(values: Iterable[str]) -> list[str]:
    """Lower-cased addresses of address-list headers, in order, without duplicates."""
    found: list[str] = []
    for value in values:
        if '"' in value or "(" in value:
            pairs = getaddresses([value])
        else:
            pairs = [parse_mailbox(item) for item in value.split(",") if item.strip()]
        for _, address in pairs:
            address = address.strip().lower()
            if address not in found and _ADDRESS_RE.fullmatch(address):
                found.append(address)
    return found


def references(headers: Headers, own_id: str) -> list[str]:
    """References oldest first, then In-Reply-To last; no duplicates, not the message itself."""
    in_reply_to: list[str] = []
    for value in headers.get("in-reply-to", ()):
        in_reply_to += parse_references(value)
    referenced: list[str] = []
    for value in headers.get("references", ()):
        referenced += parse_references(value)
    ordered: list[str] = []
    for msgid in [ref for ref in referenced if ref not in in_reply_to] + in_reply_to:
        if msgid != own_id and msgid not in ordered:
            ordered.append(msgid)
    return ordered


def parse_date(value: str) -> dt.datetime | None:
    """The Date header as an aware UTC datetime, or None when it is missing or unreadable."""
    if not value:
        return None
    try:
        parts = parsedate_tz(value)
        if parts is None:
            return None
        year, month, day, hour, minute, second = parts[:6]
        local = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=dt.UTC)
        return local - dt.timedelta(seconds=parts[9] or 0)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None

"""Message-IDs we send under, and the reference tokens that lead a reply back to its conversation.

Every outbound message goes out as ``<mostrador.<conversation>.<message>.<random>@<domain>>``.
Mail clients copy that id into ``In-Reply-To``/``References`` of the customer's reply, so the
conversation number can be read back without a database lookup; the random part makes the id
impossible to guess from the two numbers. The subject carries ``[#1234]`` as a second, visible
hint that survives clients which drop the references (some web forms, forwarding services).

Canonical Message-ID form, used for ``provider_id`` and ``references`` everywhere in Mostrador:
angle brackets around the id, no whitespace, case kept exactly as received.
"""

from __future__ import annotations

import re
import secrets

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_SUFFIX_LENGTH = 8

_OWN_ID_RE = re.compile(r"<mostrador\.(\d{1,18})\.(\d{1,18})\.([a-z0-9]{1,64})@[^<>@\s]+>", re.I)
_SUBJECT_TOKEN_RE = re.compile(r"\[#\s*(\d{1,18})\s*\]")
_BRACKETED_RE = re.compile(r"<([^<>]*)>")
_BARE_SPLIT_RE = re.compile(r"[\s,;]+")


def make_message_id(conversation_number: int, message_pk: int, domain: str) -> str:
    """Return a fresh Message-ID for an outbound message of ``conversation_number``.

    The id is in canonical form (with angle brackets). ``domain`` is the host part, normally the
    inbox address's domain; it must not be empty. Raises ``ValueError`` on negative numbers or a
    domain that cannot appear in a Message-ID.
    """
    if isinstance(conversation_number, bool) or conversation_number < 0:
        raise ValueError(f"conversation number must be a non-negative int: {conversation_number!r}")
    if isinstance(message_pk, bool) or message_pk < 0:
        raise ValueError(f"message pk must be a non-negative int: {message_pk!r}")
    host = domain.strip().strip("<>").strip()
    if not host or any(char in host for char in "<>@ \t\r\n"):
        raise ValueError(f"not a usable Message-ID domain: {domain!r}")
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(_SUFFIX_LENGTH))
    return f"<mostrador.{int(conversation_number)}.{int(message_pk)}.{suffix}@{host}>"


def conversation_number_from_message_id(msgid: str) -> int | None:
    """Return the conversation number carried by one of our own Message-IDs, else None.

    Only ids made by :func:`make_message_id` are recognised (with or without angle brackets);
    any other id, however similar, gives None.
    """
    if not msgid:
        return None
    match = _OWN_ID_RE.fullmatch(normalize_message_id(msgid))
    return int(match.group(1)) if match else None


def subject_token(number: int) -> str:
    """Return the token we put in outbound subjects, e.g. ``[#1234]``."""
    return f"[#{int(number)}]"


def conversation_number_from_subject(subject: str) -> int | None:
    """Return the number of the first ``[#1234]`` token in ``subject``, else None.

    A space after ``#`` is tolerated (``[# 1234]``, as some clients re-space subjects); other
    bracketed tags such as ``[EXT]`` or ``[SPAM]`` are ignored. The first token wins because
    reply prefixes accumulate on the left, so it is the most recently added one.
    """
    if not subject:
        return None
    match = _SUBJECT_TOKEN_RE.search(subject)
    return int(match.group(1)) if match else None


def normalize_message_id(value: str) -> str:
    """Return ``value`` as a canonical Message-ID (``<id>``), or ``""`` when there is none.

    The first bracketed id wins when the header holds more (trailing comments, several ids);
    whitespace inside the id is removed because folding sometimes splits long ids.
    """
    if not value:
        return ""
    match = _BRACKETED_RE.search(value)
    inner = match.group(1) if match else value
    inner = "".join(inner.split()).strip("<>")
    return f"<{inner}>" if inner else ""


def parse_references(header_value: str) -> list[str]:
    """Return the canonical ids of a ``References`` or ``In-Reply-To`` value, in header order.

    Duplicates are dropped (the first occurrence is kept). Clients that forget the angle
    brackets are tolerated: bare tokens containing ``@`` are read as ids, other words (the
    comments old clients put in ``In-Reply-To``) are ignored.
    """
    if not header_value:
        return []
    tokens = _BRACKETED_RE.findall(header_value)
    if not tokens:
        tokens = [token for token in _BARE_SPLIT_RE.split(header_value) if "@" in token]
    seen: set[str] = set()
    ids: list[str] = []
    for token in tokens:
        msgid = normalize_message_id(f"<{token}>") if token.strip() else ""
        if msgid and msgid not in seen:
            seen.add(msgid)
            ids.append(msgid)
    return ids

"""``parse_email`` read side by side with the standard library's reading of the same bytes.

The reference is ``email.message_from_bytes(raw, policy=email.policy.default)``. Both must agree
on the subject, the sender's address and name, the Message-ID, the text/plain body (whitespace
and ``>`` quote markers normalised, so that unflowing ``format=flowed`` does not count) and the
attachments' names and decoded bytes. A field is compared only where the standard library reads
it cleanly: no replacement characters or undecodable bytes, a charset it knows. Where the parser
deliberately differs, the reference follows the parser's documented rule:

* ISO-8859-1 bodies are read as windows-1252, as mail clients and the WHATWG encoding standard
  do (the standard library gives C1 control characters for ``€`` and ``…``);
* a sender written ``address (Name)`` is named by its comment, as mail clients show it;
* report parts (delivery status, returned headers) are not attachments;
* attachment names keep only their last path component, without leading dots;
* attached messages are compared by name and type only: the standard library re-serialises
  them, the parser keeps their bytes.

Besides the fixtures, a corpus of generated customer mail is compared; it comes from the peer
benchmark's generator, and that test is skipped where the generator is not present.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import email.utils
import importlib.util
import pathlib
import re
import sys
from collections.abc import Iterator

import pytest

from mostrador.channels.base import InboundMessage, ParseError
from mostrador.channels.email.parser import parse_email

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "mail"
CORPUS_GENERATOR = pathlib.Path("/work/shared/peer-bench/corpus.py")
CORPUS_SIZE = 300
CORPUS_SEED = 11

Message = email.message.EmailMessage

_LATIN1_LABELS = frozenset({"iso-8859-1", "iso8859-1", "iso_8859-1", "latin-1", "latin1", "l1"})
_REPORT_PARTS = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "message/disposition-notification",
        "message/feedback-report",
        "text/rfc822-headers",
        "message/global-headers",
    }
)
_WHITESPACE_RE = re.compile(r"\s+")
_QUOTE_MARKERS_RE = re.compile(r"^[>\s]+", re.M)
_UNREADABLE_RE = re.compile("[\ufffd\udc80-\udcff]")


class Unreadable(Exception):
    """The standard library does not read this field cleanly, so it is not compared."""


def read(raw: bytes) -> Message:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, Message)
    return message


def squeeze(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip()


def readable(text: str) -> str:
    if _UNREADABLE_RE.search(text):
        raise Unreadable(repr(text))
    return text


# --- the reference ---------------------------------------------------------------------------


def reference_sender(message: Message) -> tuple[str, str | None]:
    """(address, display name, or None when the name is not readable) of the first From."""
    try:
        mailboxes = message["from"].addresses
    except Exception as exc:  # the header registry raises on some broken values
        raise Unreadable(str(exc)) from exc
    if not mailboxes or "@" not in mailboxes[0].addr_spec:
        raise Unreadable("no sender address")
    address = readable(mailboxes[0].addr_spec).lower()
    raw_from = next(value for name, value in message.raw_items() if name.lower() == "from")
    name = mailboxes[0].display_name or email.utils.parseaddr(raw_from)[0]
    name = squeeze(name).strip("\"'").strip()
    if _UNREADABLE_RE.search(name):
        return address, None
    return address, "" if name.lower() == address else name


def reference_subject(message: Message) -> str:
    return squeeze(readable(str(message.get("subject", ""))))


def reference_message_id(message: Message) -> str:
    value = message.get("message-id")
    if value is None:
        raise Unreadable("no Message-ID")
    return "".join(readable(str(value)).split())


def leaves(part: Message) -> Iterator[Message]:
    """The leaf parts in document order; attached messages are leaves, not walked into."""
    if part.get_content_maintype() == "multipart":
        for child in part.iter_parts():
            yield from leaves(child)  # type: ignore[arg-type]
    else:
        yield part


def is_body_text(part: Message) -> bool:
    return (
        part.get_content_type() in ("text/plain", "text/html")
        and part.get_content_disposition() != "attachment"
        and part.get_filename() is None
    )


def body_text(part: Message) -> str:
    charset = (part.get_content_charset() or "us-ascii").lower()
    if charset in _LATIN1_LABELS:
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        return readable(payload.decode("cp1252", "replace"))
    if part.get_param("delsp", "").lower() == "yes":
        raise Unreadable("format=flowed with delsp=yes")
    try:
        return readable(part.get_content())
    except (LookupError, UnicodeError) as exc:
        raise Unreadable(str(exc)) from exc


def normalise_body(text: str) -> str:
    return squeeze(_QUOTE_MARKERS_RE.sub(" ", text.replace("\r", "")))


def safe_name(name: str) -> str:
    return squeeze(name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".").strip()


# --- the comparison --------------------------------------------------------------------------


def disagreements(raw: bytes) -> list[str]:
    """The fields on which ``parse_email`` and the standard library disagree."""
    message = read(raw)
    inbound = parse_email(raw)
    found: list[str] = []

    def check(field: str, expected: object, actual: object) -> None:
        if expected != actual:
            found.append(f"{field}: standard library {expected!r}, parser {actual!r}")

    with contextlib.suppress(Unreadable):
        check("subject", reference_subject(message), squeeze(inbound.subject))
    with contextlib.suppress(Unreadable):
        check("Message-ID", reference_message_id(message), inbound.provider_id)
    try:
        address, name = reference_sender(message)
    except Unreadable:
        pass
    else:
        check("sender address", address, inbound.sender_id)
        if name is not None:
            check("sender name", name, inbound.sender_name)
    _check_parts(message, inbound, check)
    return found


def _check_parts(message: Message, inbound: InboundMessage, check) -> None:
    parts = list(leaves(message))
    plain = [part for part in parts if is_body_text(part) and part.get_content_subtype() == "plain"]
    if len(plain) == 1:
        try:
            expected = normalise_body(body_text(plain[0]))
        except Unreadable:
            expected = ""
        if expected:
            check("text/plain body", expected, normalise_body(inbound.text))

    attached = [
        part
        for part in parts
        if not is_body_text(part) and part.get_content_type() not in _REPORT_PARTS
    ]
    check("number of attachments", len(attached), len(inbound.attachments))
    for part, attachment in zip(attached, inbound.attachments, strict=False):
        filename = part.get_filename()
        if filename is not None and not _UNREADABLE_RE.search(filename):
            check("attachment name", safe_name(filename), attachment.filename)
        if part.get_content_maintype() == "message":
            check("attached message type", "message/rfc822", attachment.content_type)
            continue
        data = part.get_payload(decode=True)
        if data != attachment.data:
            check(f"bytes of {attachment.filename}", data, attachment.data)


# --- tests -----------------------------------------------------------------------------------


def has_sender(path: pathlib.Path) -> bool:
    try:
        reference_sender(read(path.read_bytes()))
    except Unreadable:
        return False
    return True


FIXTURE_PATHS = sorted(FIXTURES.glob("*.eml"))
READABLE = [path for path in FIXTURE_PATHS if has_sender(path)]


@pytest.mark.parametrize("path", READABLE, ids=lambda path: path.name)
def test_fixture_agrees_with_the_standard_library(path):
    assert disagreements(path.read_bytes()) == []


def test_what_the_standard_library_finds_no_sender_in_is_refused():
    unreadable = [path for path in FIXTURE_PATHS if path not in READABLE]
    assert [path.name for path in unreadable] == ["malformed_garbage.eml"]

    for path in unreadable:
        with pytest.raises(ParseError):
            parse_email(path.read_bytes())


def test_generated_corpus_agrees_with_the_standard_library(tmp_path):
    if not CORPUS_GENERATOR.is_file():
        pytest.skip(f"the corpus generator {CORPUS_GENERATOR} is not on this machine")
    spec = importlib.util.spec_from_file_location("peer_bench_corpus", CORPUS_GENERATOR)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # dataclasses and pickling look modules up by name
    spec.loader.exec_module(generator)
    generator.generate(CORPUS_SIZE, CORPUS_SEED, tmp_path)
    paths = sorted(tmp_path.glob("*.eml"))
    assert len(paths) == CORPUS_SIZE

    found = {path.name: disagreements(path.read_bytes()) for path in paths}

    assert {name: problems for name, problems in found.items() if problems} == {}

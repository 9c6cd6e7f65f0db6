import re

import pytest

from mostrador.channels.email.ids import (
    conversation_number_from_message_id,
    conversation_number_from_subject,
    make_message_id,
    normalize_message_id,
    parse_references,
    subject_token,
)


def test_make_message_id_carries_the_conversation_and_a_random_suffix():
    msgid = make_message_id(1234, 5678, "desk.example.com")

    assert re.fullmatch(r"<mostrador\.1234\.5678\.[a-z0-9]{8}@desk\.example\.com>", msgid)
    assert make_message_id(1234, 5678, "desk.example.com") != msgid
    assert conversation_number_from_message_id(msgid) == 1234


def test_make_message_id_strips_the_domain_but_keeps_its_case():
    assert make_message_id(1, 2, "  Desk.Example.com ").endswith("@Desk.Example.com>")


@pytest.mark.parametrize("domain", ["", "  ", "desk example.com", "a@desk.example.com", "<>"])
def test_make_message_id_refuses_unusable_domains(domain):
    with pytest.raises(ValueError, match="domain"):
        make_message_id(1, 2, domain)


@pytest.mark.parametrize(("number", "pk"), [(-1, 2), (1, -2)])
def test_make_message_id_refuses_negative_numbers(number, pk):
    with pytest.raises(ValueError, match="non-negative"):
        make_message_id(number, pk, "desk.example.com")


@pytest.mark.parametrize(
    ("msgid", "number"),
    [
        ("<mostrador.41.977.abc123@desk.example.com>", 41),
        ("mostrador.41.977.abc123@desk.example.com", 41),
        ("  <mostrador.7.1.k3j2h1g0@mail.acme.example>\r\n", 7),
        ("<MOSTRADOR.8.9.K3J2H1G0@desk.example.com>", 8),
    ],
)
def test_conversation_number_from_our_message_ids(msgid, number):
    assert conversation_number_from_message_id(msgid) == number


@pytest.mark.parametrize(
    "msgid",
    [
        "",
        "<CAJx8Qm1vG5b2nXk0Lw7p9hR3tYc4dE6fA@mail.gmail.com>",
        "<mostrador.41@desk.example.com>",
        "<mostrador.41.977@desk.example.com>",
        "<mostrador.x.977.abc@desk.example.com>",
        "<notmostrador.41.977.abc@desk.example.com>",
        "<mostrador.41.977.abc@>",
        "<mostrador.41.977.abc-def@desk.example.com>",
    ],
)
def test_foreign_message_ids_carry_no_conversation(msgid):
    assert conversation_number_from_message_id(msgid) is None


def test_subject_token():
    assert subject_token(1234) == "[#1234]"


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [#1234] Factura duplicada", 1234),
        ("[#1234]", 1234),
        ("RE: Pedido retrasado [# 1234]", 1234),
        ("[EXT] [SPAM] Re: [#88] Where is my order?", 88),
        ("Fwd: [#34] Re: [#12] older thread", 34),
        ("Re:[#5]x", 5),
    ],
)
def test_conversation_number_from_subject(subject, number):
    assert conversation_number_from_subject(subject) == number


@pytest.mark.parametrize(
    "subject", ["", "Order #1234 missing", "[1234] no hash", "[#] empty", "[#abc]", "[EXT] hi"]
)
def test_subjects_without_a_token(subject):
    assert conversation_number_from_subject(subject) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.com>", "<abc@example.com>"),
        ("  <abc@example.com>\r\n", "<abc@example.com>"),
        ("abc@example.com", "<abc@example.com>"),
        ("<abc@example.com> (sent by a broken client)", "<abc@example.com>"),
        ("<abc@exam\r\n ple.com>", "<abc@example.com>"),
        ("<CaseKept@Example.COM>", "<CaseKept@Example.COM>"),
        ("", ""),
        ("   ", ""),
        ("<>", ""),
    ],
)
def test_normalize_message_id(value, expected):
    assert normalize_message_id(value) == expected


def test_parse_references_keeps_order_and_drops_duplicates():
    value = "<a@x.example> <b@x.example>\r\n <a@x.example>\t<c@x.example>"

    assert parse_references(value) == ["<a@x.example>", "<b@x.example>", "<c@x.example>"]


def test_parse_references_tolerates_missing_brackets_and_comments():
    assert parse_references("a@x.example, b@x.example") == ["<a@x.example>", "<b@x.example>"]
    assert parse_references("Elena's message of Thu <a@x.example>") == ["<a@x.example>"]
    assert parse_references("Elena's message of Thursday") == []
    assert parse_references("") == []

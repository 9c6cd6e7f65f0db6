"""Every user-facing string has its Spanish translation, compiled and in use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation

import mostrador
from mostrador.conversations import actions
from mostrador.core.errors import ValidationFailed

CATALOGUE = Path(mostrador.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.po"
# Words that are the same in both languages.
SAME_IN_SPANISH = {"Supervisor", "Normal", "Bot", "error", "Telegram", "WhatsApp", "Mostrador",
                   "Chat", "IMAP", "<1 min", "%(count)d min", "%(count)d h", "%(count)d d", "SLA",
                   "%(days)d d %(hours)d h", "%(hours)d h %(minutes)d min", "Manual", "no",
                   "Error", "Macro", "Macros", "Macro %(name)s", "Webhook", "Webhooks",
                   "Webhook %(name)s", "← Webhook %(name)s", "← Webhooks", "%(ms)s ms",
                   "%(team)s, %(agent)s", "[#%(number)s] %(rule)s: %(subject)s", "No",
                   "Error:"}


def entries():
    text = CATALOGUE.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:
        msgid = "".join(re.findall(r'"(.*)"', block.split("msgid ", 1)[1].split("\nmsg", 1)[0]))
        context = re.search(r'^msgctxt "(.*)"$', block, re.MULTILINE)
        fuzzy = "#, fuzzy" in block
        plural = "msgid_plural" in block
        msgstrs = re.findall(r'msgstr(?:\[\d\])? ((?:".*"\n?)+)', block)
        yield (msgid, fuzzy, plural, ["".join(re.findall(r'"(.*)"', s)) for s in msgstrs],
               context.group(1) if context else None)


def test_the_spanish_catalogue_is_complete():
    missing = [msgid for msgid, fuzzy, _plural, msgstrs, _context in entries()
               if fuzzy or not msgstrs or not all(msgstrs)]
    assert missing == []


def test_the_compiled_catalogue_matches_the_source():
    untranslated = []
    with translation.override("es"):
        for msgid, _fuzzy, plural, _msgstrs, context in entries():
            if plural or msgid in SAME_IN_SPANISH:
                continue
            text = msgid.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
            translated = (translation.pgettext(context, text) if context
                          else translation.gettext(text))
            if translated == text:
                untranslated.append(msgid)
    assert untranslated == []


@pytest.mark.django_db
def test_errors_speak_the_users_language(desk):
    conversation = actions.do_create_conversation(
        inbox=desk.inbox, customer=desk.elena, subject="Pedido", text="Hola")
    with translation.override("es"), pytest.raises(ValidationFailed) as error:
        actions.do_add_note(conversation, "  ", acting_user=desk.ana)
    assert error.value.message == "La nota no puede estar vacía."

"""Fold the quoted history and the signature out of a plain-text e-mail body.

Customers reply on top of, below or between the lines of our previous message, in English and
Spanish. :func:`split_quotes` keeps what they wrote this time and folds away:

* attribution lines (``On … wrote:``, ``El … escribió:``, also wrapped over two or three lines as
  Gmail does for long names) together with the ``>`` quoted lines they introduce;
* everything from a forwarded or quoted message header on: ``-----Original Message-----``,
  ``-----Mensaje original-----``, forward banners, and the Outlook ``From:/Sent:/Subject:`` (or
  ``De:/Enviado:/Asunto:``) block with its ``_____`` separator;
* signatures: the ``-- `` delimiter and the lines mobile clients add (``Sent from my iPhone``,
  ``Enviado desde mi teléfono``, ``Get Outlook for Android``, ``Obtener Outlook para iOS``, …).

Quoted lines between the customer's own lines (an inline reply) are kept, since the answers make
no sense without the questions. The functions never return an empty new part for a message with
text: when everything looks quoted, the whole text is the new part.

The rules are written here instead of using ``email_reply_parser``: it knows only English, takes
a paragraph starting with ``-`` and a letter (a list item such as ``-Refund``) for a signature,
and drops the questions of an inline reply.
"""

from __future__ import annotations

import re

_NEW, _QUOTE, _BLANK = 0, 1, 2

# Verbs that end an attribution line, as clients write them in English, Spanish, Portuguese and
# French ("escribio" without the accent comes from clients that strip diacritics).
_WROTE = r"(?:wrote|escribi[óo]|escreveu|a\s+écrit)\s*:"
_ATTRIBUTION_RE = re.compile(rf"(?:On|El|Em|Le)\s.*\d.*\s{_WROTE}", re.I)
_ATTRIBUTION_START_RE = re.compile(r"(?:On|El|Em|Le)\s", re.I)
_WROTE_SEARCH_RE = re.compile(_WROTE, re.I)
_ENDS_WITH_WROTE_RE = re.compile(rf".*\S\s+{_WROTE}", re.I)
_BANNER_RE = re.compile(
    r"-{2,}\s*(?:Original\s+Message|Mensaje\s+original|Forwarded\s+message|"
    r"Mensaje\s+reenviado|Mensagem\s+original)\s*-{2,}"
    r"|(?:Begin\s+forwarded\s+message|Inicio\s+del\s+mensaje\s+reenviado)\s*:",
    re.I,
)
_HEADER_FROM_RE = re.compile(r"\*?(?:From|De)\s*:\*?\s*\S", re.I)
_HEADER_SENT_RE = re.compile(r"\*?(?:Sent|Date|Enviado(?:\s+el)?|Fecha)\s*:", re.I)
_HEADER_SUBJECT_RE = re.compile(r"\*?(?:Subject|Asunto|To|Para)\s*:", re.I)
_SEPARATOR_RE = re.compile(r"(?:_{8,}|-{8,})")
# What mobile and webmail apps append; "my"/"mi" or an app name is required so that a sentence
# such as "Sent from the warehouse on Monday." is not taken for a signature.
_APPS = r"(?:Outlook|Mail|Correo|Yahoo|Gmail|AOL|Samsung|Huawei|Xiaomi|BlackBerry|iPhone|iPad)"
_MOBILE_SIGNATURE_RE = re.compile(
    rf"(?:Sent\s+(?:from|with|using)\s+(?:my\s+\S|{_APPS}\b)"
    rf"|Enviado\s+(?:desde|con)\s+(?:mi\s+\S|{_APPS}\b)"
    r"|(?:Get|Obtener|Descargar|Descarga)\s+Outlook\s+(?:for|para)\s+\S)"
    r"[^.!?<]{0,40}[.!]?(?:\s*<\S+>)?",  # Outlook mobile appends its link in brackets
    re.I,
)
_BLANK_RUN_RE = re.compile(r"\n{3,}")
_HEADER_BLOCK_LINES = 8
_ATTRIBUTION_MAX_LINES = 3
_ATTRIBUTION_MAX_CHARS = 400


def fold_quotes(text: str) -> str:
    """Return only what the sender wrote this time (see the module docstring for the rules).

    Trailing whitespace is removed from every line and around the result. The result is empty
    only when ``text`` is blank.
    """
    return split_quotes(text)[0]


def split_quotes(text: str) -> tuple[str, str]:
    """Split a plain-text body into (what was written this time, what was folded away).

    The folded part keeps the original order of its lines (a leading quote of a bottom-posted
    reply, then the trailing quotes and signature) so that a "show original" view can display
    it. When nothing in ``text`` looks new, the whole stripped text is returned as the new part
    and the folded part is empty.
    """
    if not text or text.isspace():
        return "", ""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kinds, cut = _classify(lines, has_attribution=bool(_WROTE_SEARCH_RE.search(text)))
    new_indexes = [index for index in range(cut) if kinds[index] == _NEW]
    if not new_indexes:
        return text.strip(), ""
    first, last = new_indexes[0], new_indexes[-1]
    if _QUOTE in kinds[first:last]:
        # An inline reply: the quoted questions belong with the answers, from the top.
        first = next((index for index in range(first) if kinds[index] != _BLANK), first)
    new = "\n".join(lines[first : last + 1]).strip()
    folded = _BLANK_RUN_RE.sub("\n\n", "\n".join(lines[:first] + lines[last + 1 :])).strip()
    return new, folded


def _classify(lines: list[str], *, has_attribution: bool) -> tuple[list[int], int]:
    """Label each line new, quoted or blank; return the labels and the index where the new
    part ends at the latest (a quoted message header or a signature)."""
    kinds = [_BLANK] * len(lines)
    index = 0
    count = len(lines)
    while index < count:
        stripped = lines[index].strip()
        if not stripped:
            index += 1
            continue
        if stripped[0] == ">":
            kinds[index] = _QUOTE
            index += 1
            continue
        attribution = _attribution_length(lines, index) if has_attribution else 0
        if attribution:
            if _next_text_is_quoted(lines, index + attribution):
                for offset in range(attribution):
                    kinds[index + offset] = _QUOTE
                index += attribution
                continue
            # An attribution followed by unquoted text: the client did not prefix the history
            # (Outlook mobile, text made from HTML), so everything below it is history.
            return kinds, index
        if _BANNER_RE.match(stripped):
            return kinds, index
        if _is_header_block(lines, index):
            return kinds, _separator_before(lines, index)
        if stripped == "--":
            return kinds, index
        if len(stripped) <= 70 and _MOBILE_SIGNATURE_RE.fullmatch(stripped):
            return kinds, index
        kinds[index] = _NEW
        index += 1
    return kinds, count


def _attribution_length(lines: list[str], index: int) -> int:
    """Return how many lines the attribution starting at ``index`` spans (0 when none)."""
    stripped = lines[index].strip()
    window = " ".join(lines[index : index + _ATTRIBUTION_MAX_LINES])
    if not _WROTE_SEARCH_RE.search(window):
        return 0
    if _ATTRIBUTION_START_RE.match(stripped):
        joined = stripped
        for extra in range(_ATTRIBUTION_MAX_LINES):
            if extra:
                if index + extra >= len(lines) or not lines[index + extra].strip():
                    break
                joined = f"{joined} {lines[index + extra].strip()}"
            if len(joined) > _ATTRIBUTION_MAX_CHARS:
                break
            if _ATTRIBUTION_RE.fullmatch(joined):
                return extra + 1
    # "Name <address> wrote:" without a date counts only when quoted lines follow it.
    if _ENDS_WITH_WROTE_RE.fullmatch(stripped) and _next_text_is_quoted(lines, index + 1):
        return 1
    return 0


def _next_text_is_quoted(lines: list[str], start: int) -> bool:
    for line in lines[start:]:
        stripped = line.strip()
        if stripped:
            return stripped[0] == ">"
    return False


def _is_header_block(lines: list[str], index: int) -> bool:
    """True when a From/De line starts an Outlook-style header block of a quoted message."""
    if not _HEADER_FROM_RE.match(lines[index].lstrip()):
        return False
    has_sent = has_subject = False
    for line in lines[index + 1 : index + 1 + _HEADER_BLOCK_LINES]:
        stripped = line.lstrip()
        has_sent = has_sent or bool(_HEADER_SENT_RE.match(stripped))
        has_subject = has_subject or bool(_HEADER_SUBJECT_RE.match(stripped))
        if has_sent and has_subject:
            return True
    return False


def _separator_before(lines: list[str], index: int) -> int:
    """Move a cut up to the ``____`` or ``----`` rule Outlook draws above the header block."""
    previous = index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    if previous >= 0 and _SEPARATOR_RE.fullmatch(lines[previous].strip()):
        return previous
    return index

"""Turning bytes of unknown or lying charsets into text, and RFC 2047 encoded words.

Mail declares charsets that Python does not know, labels windows-1252 as ISO-8859-1 or UTF-8,
and mixes charsets inside one body. Every function here returns text and never raises.
"""

from __future__ import annotations

import binascii
import codecs
import functools
import re

import charset_normalizer

# Names mail clients put in charset parameters that Python's codecs do not know, or know under
# a narrower charset than the one actually used (Outlook's Korean and Chinese labels).
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
    "x-user-defined": "",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
}
# Single-byte charsets that agree with windows-1252 on Spanish and English text.
_WESTERN_CODECS = frozenset({"cp1252", "latin_1", "iso8859_15", "iso8859-1", "iso8859-15"})
_CHARSET_NAME_RE = re.compile(r"[\w.:+-]{1,40}", re.ASCII)
_UTF8_SEQUENCE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_CP1252_FALLBACK = "mostrador.cp1252"


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes a UTF-8 decoder rejects as windows-1252 (mixed-charset bodies)."""
    if isinstance(error, UnicodeDecodeError):
        chunk = error.object[error.start : error.end]
        return bytes(chunk).decode("cp1252", "replace"), error.end
    raise error


codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


@functools.lru_cache(maxsize=128)
def codec(charset: str) -> str:
    """The Python codec for a declared charset, or "" when unknown or not a text codec."""
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not _CHARSET_NAME_RE.fullmatch(name):
        return ""
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return ""
    return info.name if getattr(info, "_is_text_encoding", True) else ""


def decode_bytes(data: bytes, charset: str, *, detect: bool = True) -> str:
    """Decode text whatever its declared charset says; never raises.

    Declared ISO-8859-1 is read as windows-1252 (its superset, which mailers really use). When
    the declared charset is unknown or lies, the bytes are read as UTF-8 if valid, as UTF-8
    with stray windows-1252 bytes if mixed, else detected with charset-normalizer (``detect``),
    else as windows-1252 with replacement characters.
    """
    name = codec(charset) if charset else ""
    if data.isascii() and not name.startswith(("utf-16", "utf-32")):
        return data.decode("ascii")
    if name in ("iso8859-1", "cp1252"):
        return data.decode("cp1252", "replace")
    if name and name not in ("utf-8", "ascii"):
        try:
            return data.decode(name)
        except (UnicodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE_RE.search(data):
        return data.decode("utf-8", _CP1252_FALLBACK)
    return _detect(data) if detect else data.decode("cp1252", "replace")


def _detect(data: bytes) -> str:
    try:
        results = charset_normalizer.from_bytes(data)
        best = results.best()
    except Exception:  # a detector bug must not quarantine a readable message
        best = None
    if best is None or best.encoding in _WESTERN_CODECS:
        return data.decode("cp1252", "replace")
    # Short Western texts score the same under several single-byte charsets; the detector
    # then picks one at random (cp1250, cp037…). Prefer windows-1252 on a tie.
    if any(match.encoding in _WESTERN_CODECS and match.chaos <= best.chaos for match in results):
        return data.decode("cp1252", "replace")
    return str(best)


def decode_header_bytes(raw: bytes) -> str:
    """Raw 8-bit header bytes carry no charset: UTF-8 when valid, else windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets, bad padding and words split
    in the middle of a multi-byte character (adjacent words of one charset are joined first)."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset = ""
    position = 0
    after_word = False
    for match in _ENCODED_WORD_RE.finditer(value):
        between = value[position : match.start()]
        position = match.end()
        word = _decode_word(match.group(2), match.group(3))
        charset = match.group(1).split("*", 1)[0].lower()
        if after_word and not between.strip():
            between = ""  # whitespace between two encoded words is dropped (RFC 2047 §6.2)
        if pending_charset and (between or word is None or charset != pending_charset):
            out.append(decode_bytes(bytes(pending), pending_charset, detect=False))
            pending, pending_charset = bytearray(), ""
        out.append(between)
        if word is None:
            out.append(match.group(0))
        else:
            pending += word
            pending_charset = charset
        after_word = word is not None
    if pending_charset:
        out.append(decode_bytes(bytes(pending), pending_charset, detect=False))
    out.append(value[position:])
    return "".join(out)


def _decode_word(encoding: str, text: str) -> bytes | None:
    data = text.encode("ascii", "replace")
    try:
        if encoding in "qQ":
            return binascii.a2b_qp(data, header=True)
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None

"""Naming and typing attachments: safe file names, content sniffing, size wording."""

from __future__ import annotations

import mimetypes

from mostrador.channels.email.parser.headers import WHITESPACE_RE, strip_controls

_MAX_FILENAME = 180
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
)
# Declared types the sniffer can confirm; a part declaring one without its signature is not
# what it claims, so it is not offered for inline display.
_SNIFFABLE = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
_ZIP_BASED_PREFIXES = ("application/vnd.", "application/java-archive")
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "application/x-download"})
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
}


def safe_filename(name: str) -> str:
    """Keep the last path component, without control characters or leading dots."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = WHITESPACE_RE.sub(" ", strip_controls(name)).strip().lstrip(".").strip()
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: _MAX_FILENAME - len(extension) - 1]}.{extension}"
        else:
            name = name[:_MAX_FILENAME]
    return name


def fallback_filename(content_type: str) -> str:
    """A name for a part that has none: ``image.png``, ``attachment.pdf``…"""
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".bin"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return stem + extension


def sniff(data: bytes, declared: str, filename: str) -> str:
    """The content type from the first bytes; the declared (or guessed) type when they tell
    nothing, and never a type the sniffer can check but the bytes do not match."""
    head = data[:16]
    sniffed = next((kind for magic, kind in _MAGIC if head.startswith(magic)), "")
    if not sniffed and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        sniffed = "image/webp"
    guessed = (mimetypes.guess_type(filename, strict=False)[0] or "") if filename else ""
    if sniffed == "application/zip":
        # Office documents, EPUBs and JARs are zip files with a more useful type.
        for candidate in (declared, guessed):
            if candidate.startswith(_ZIP_BASED_PREFIXES) or candidate.endswith("+zip"):
                return candidate
        return sniffed
    if sniffed:
        return sniffed
    if declared in _SNIFFABLE:
        return "application/octet-stream"
    if declared not in _GENERIC_TYPES:
        return declared
    if guessed and guessed not in _SNIFFABLE:
        return guessed
    if data and b"\x00" not in data[:1024]:
        try:
            data[:1024].decode("utf-8")
        except UnicodeDecodeError:
            return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def too_large_reason(name: str, size: int, limit: int) -> str:
    """Why an attachment of ``size`` bytes was kept out under a ``limit`` of bytes."""
    shown_size, shown_limit = _format_size(size), _format_size(limit)
    if shown_size == shown_limit:  # just over the limit: rounding would hide the difference
        shown_size, shown_limit = f"{size:,} bytes", f"{limit:,} bytes"
    return (
        f"Attachment “{name}” ({shown_size}) is larger than the {shown_limit} limit; "
        "it is kept only in the raw message."
    )


def _format_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{size / factor:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"

"""Bulk import of mail from files, folders, mbox files and Maildirs.

Each message is stored raw, then parsed and received exactly as mail from the SMTP receiver
is; a message that does not parse is quarantined, never skipped. Work is committed in batches
(one transaction per batch, a savepoint per message) because a commit per message would spend
most of the time in the database's journal.
"""

from __future__ import annotations

import dataclasses
import mailbox
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from mostrador.conversations.actions import process_raw
from mostrador.conversations.models import Inbox, RawInbound

BATCH = 250


@dataclasses.dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0  # new conversations
    threaded: int = 0  # joined an existing conversation (or recorded a bounce on one)
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0  # machine noise recorded without a conversation
    seconds: float = 0.0
    unreadable: list[str] = dataclasses.field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"read": self.read, "imported": self.imported, "threaded": self.threaded,
                "duplicates": self.duplicates, "quarantined": self.quarantined,
                "seconds": round(self.seconds, 3), "ignored": self.ignored,
                "unreadable": self.unreadable}


def iter_messages(paths: Iterable[str | os.PathLike[str]],
                  unreadable: list[str]) -> Iterator[tuple[str, bytes]]:
    """(source label, raw bytes) for every message under ``paths``: .eml files, folders of them
    (recursively, in name order), mbox files and Maildirs. Paths that cannot be read are
    reported in ``unreadable``."""
    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir():
            if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
                yield from _maildir(path)
            else:
                for child in sorted(p for p in path.rglob("*") if p.is_file()):
                    if child.name.startswith("."):
                        continue
                    yield from _file(child, unreadable)
        elif path.is_file():
            yield from _file(path, unreadable)
        else:
            unreadable.append(f"{path}: no such file or folder")


def _file(path: Path, unreadable: list[str]) -> Iterator[tuple[str, bytes]]:
    try:
        with path.open("rb") as handle:
            head = handle.read(5)
            if head == b"From ":
                handle.close()
                yield from _mbox(path)
                return
            data = head + handle.read()
    except OSError as exc:
        unreadable.append(f"{path}: {exc.strerror or exc}")
        return
    yield f"import:{path}", data


def _mbox(path: Path) -> Iterator[tuple[str, bytes]]:
    box = mailbox.mbox(str(path), create=False)
    try:
        for key in box.iterkeys():
            yield f"import:{path}#{key}", box.get_bytes(key)
    finally:
        box.close()


def _maildir(path: Path) -> Iterator[tuple[str, bytes]]:
    box = mailbox.Maildir(str(path), factory=None, create=False)
    for key in sorted(box.iterkeys()):
        yield f"import:{path}/{key}", box.get_bytes(key)


def import_mail(paths: Iterable[str | os.PathLike[str]], *, inbox: Inbox | None = None,
                progress: Callable[[ImportSummary], None] | None = None,
                batch_size: int = BATCH) -> ImportSummary:
    summary = ImportSummary()
    started = time.perf_counter()
    batch: list[tuple[str, bytes]] = []
    for item in iter_messages(paths, summary.unreadable):
        batch.append(item)
        if len(batch) >= batch_size:
            _import_batch(batch, inbox, summary)
            batch = []
            if progress:
                progress(summary)
    if batch:
        _import_batch(batch, inbox, summary)
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(summary)
    return summary


def _import_batch(batch: list[tuple[str, bytes]], inbox: Inbox | None,
                  summary: ImportSummary) -> None:
    now = timezone.now()
    with transaction.atomic():
        raws = RawInbound.objects.bulk_create([
            RawInbound(inbox=inbox, channel_kind="email", source=source[:500], payload=data,
                       size=len(data), received_at=now)
            for source, data in batch
        ])
        for raw in raws:
            if inbox is not None:
                raw.inbox = inbox  # the cached object, not a fetch per message
            result = process_raw(raw)
            summary.read += 1
            if result.outcome == "created":
                summary.imported += 1
            elif result.outcome in {"threaded", "bounced"}:
                summary.threaded += 1
            elif result.outcome == "duplicate":
                summary.duplicates += 1
            elif result.outcome == "quarantined":
                summary.quarantined += 1
            else:
                summary.ignored += 1

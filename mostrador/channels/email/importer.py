"""Bulk import of mail from files, folders, mbox files and Maildirs.

Each message is stored raw, then parsed and received exactly as mail from the SMTP receiver
is; a message that does not parse is quarantined, never skipped. Work is committed in batches
(one transaction per batch, a savepoint per message) because a commit per message would spend
most of the time in the database's journal.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import mailbox
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mostrador.channels.base import InboundMessage, ParseError
from mostrador.channels.email.adapter import desk_addresses
from mostrador.channels.email.parser import parse_email
from mostrador.conversations.inbound import process_raw_many
from mostrador.conversations.models import Inbox, RawInbound

BATCH = 250
# In a folder, these are mail (``1234.`` and bare names are MH and Maildir styles); anything
# else, such as a manifest beside the messages, is reported and left alone.
MAIL_SUFFIXES = frozenset({".eml", ".msg", ".mbox", ""})


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
                    if child.suffix.lower() not in MAIL_SUFFIXES:
                        unreadable.append(f"{child}: skipped (not an .eml file)")
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
                batch_size: int = BATCH, parse_workers: int | None = None) -> ImportSummary:
    """Import every message under ``paths``. Parsing (pure, CPU-bound) runs in a helper
    process while this one writes the previous batch, when the machine has a core to spare."""
    summary = ImportSummary()
    started = time.perf_counter()
    if parse_workers is None:
        parse_workers = 1 if (os.cpu_count() or 1) > 1 else 0
    own = desk_addresses()
    limit = settings.MOSTRADOR["MAX_ATTACHMENT_BYTES"]
    with _parser_pool(parse_workers) as pool:
        in_flight: collections.deque[tuple[list[tuple[str, bytes]], Future | None]] = (
            collections.deque())

        def write_oldest() -> None:
            batch, future = in_flight.popleft()
            parsed = future.result() if future is not None else None
            _import_batch(batch, parsed, inbox, summary)
            if progress:
                progress(summary)

        for batch in _batches(iter_messages(paths, summary.unreadable), batch_size):
            future = (pool.submit(parse_batch, [data for _, data in batch], own, limit)
                      if pool is not None else None)
            in_flight.append((batch, future))
            if len(in_flight) > 1:
                write_oldest()
        while in_flight:
            write_oldest()
    summary.seconds = time.perf_counter() - started
    if progress:
        progress(summary)
    return summary


def _batches(items: Iterator[tuple[str, bytes]], size: int) -> Iterator[list[tuple[str, bytes]]]:
    batch: list[tuple[str, bytes]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def _parser_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    if workers <= 0:
        yield None
        return
    # fork: the child needs nothing but the parser, and starts in milliseconds.
    context = multiprocessing.get_context("fork" if "fork" in
                                         multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield pool


def parse_batch(payloads: list[bytes], own: frozenset[str],
                limit: int) -> list[InboundMessage | ParseError]:
    """Parse payloads (in the helper process); a payload that does not parse yields its error.
    Anything unexpected is wrapped too, so one bad message never sinks its batch."""
    out: list[InboundMessage | ParseError] = []
    for payload in payloads:
        try:
            out.append(parse_email(payload, own_addresses=own, max_attachment_bytes=limit))
        except ParseError as exc:
            out.append(exc)
        except Exception as exc:
            out.append(ParseError(f"unexpected {type(exc).__name__} while parsing: {exc}"))
    return out


def _import_batch(batch: list[tuple[str, bytes]],
                  parsed: list[InboundMessage | ParseError] | None, inbox: Inbox | None,
                  summary: ImportSummary) -> None:
    now = timezone.now()
    with transaction.atomic():
        raws = RawInbound.objects.bulk_create([
            RawInbound(inbox=inbox, channel_kind="email", source=source[:500], payload=data,
                       size=len(data), received_at=now)
            for source, data in batch
        ])
        if inbox is not None:
            for raw in raws:
                raw.inbox = inbox  # the cached object, not a fetch per message
        for result in process_raw_many(raws, parsed_already=parsed):
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

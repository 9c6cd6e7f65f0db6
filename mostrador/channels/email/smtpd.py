"""The embedded SMTP receiver: accept mail for the desk's addresses and keep it safe.

The receiver is a final destination, never a relay: it accepts every recipient, stores the
message bytes exactly as received (``RawInbound``) and only then answers ``250``, so once the
sending server has its ``250`` the mail is in the database. Understanding the mail (parsing,
threading, quarantine) happens afterwards in the task ``process_raw_inbound``. When the raw row
cannot be written (the database is unreachable) the answer is ``451``: the sending server keeps
the message and tries again later, so nothing is lost either way.

aiosmtpd runs an asyncio loop in its own thread; the ORM is synchronous, so database work runs
in a small thread pool owned by the receiver, with Django's connection housekeeping around
each unit of work.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from mostrador.channels.email.adapter import inbox_for_addresses
from mostrador.channels.email.tasks import process_raw_inbound
from mostrador.conversations.actions import store_raw
from mostrador.core.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

T = TypeVar("T")
TEMPORARY_FAILURE = "451 4.3.0 Temporary failure, please retry"
# Database work of concurrent SMTP sessions; more would only queue on the database anyway.
DB_THREADS = 4


class InboundHandler:
    """aiosmtpd handler: every recipient is accepted, every message is stored first."""

    def __init__(self, database: DatabaseThreads) -> None:
        self.database = database

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # Routing is by address once the message is stored; an address no inbox claims is
        # still accepted (catch-all inbox, else quarantine), so no mail bounces off the desk.
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # As the final delivery agent we record the envelope sender in Return-Path (RFC 5321
        # §4.4): it is how a bounce (MAIL FROM:<>) or mail without a From header is recognised
        # later. The bytes after it are kept exactly as received.
        data = return_path_line(envelope.mail_from) + (envelope.original_content or b"")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        try:
            raw_id = await self.database.run(
                store_message, data, list(envelope.rcpt_tos), envelope.mail_from or "", peer
            )
        except Exception:
            logger.exception(
                "storing mail from %s for %s failed; answered 451", peer, envelope.rcpt_tos
            )
            return TEMPORARY_FAILURE
        # The raw row is committed: from here on the message is ours, whatever happens next.
        try:
            await self.database.run(hand_over, raw_id)
        except Exception:
            logger.exception("could not queue received mail %s; the sweep will process it", raw_id)
        return f"250 2.0.0 OK: received as {raw_id}"


def return_path_line(mail_from: str | None) -> bytes:
    address = (mail_from or "").strip().strip("<>")
    if any(ch in address for ch in "\r\n<>"):
        address = ""
    return f"Return-Path: <{address}>\r\n".encode("utf-8", "replace")


class DatabaseThreads:
    """A small thread pool for the receiver's ORM work.

    Connections follow Django's request rules (``close_old_connections`` before and after each
    unit of work, so CONN_MAX_AGE and broken connections are honoured); the connections the
    threads opened are closed when the receiver stops, so none outlives it.
    """

    def __init__(self, size: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="smtpd-db")
        self._connections: set[BaseDatabaseWrapper] = set()
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        close_old_connections()
        try:
            return fn(*args)
        finally:
            close_old_connections()
            with self._lock:
                self._connections.update(connections.all(initialized_only=True))

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)
        with self._lock:
            opened, self._connections = self._connections, set()
        for wrapper in opened:
            # Their threads have ended; closing from here is the sharing Django allows.
            wrapper.inc_thread_sharing()
            try:
                wrapper.close()
            except DatabaseError:
                pass
            finally:
                wrapper.dec_thread_sharing()


def store_message(data: bytes, recipients: list[str], mail_from: str, peer: str) -> int:
    """Write the raw row (committed on return) and give its id."""
    inbox = inbox_for_addresses(recipients)
    source = f"smtp:{peer} rcpt={','.join(recipients)} from={mail_from or '<>'}"
    return store_raw("email", data, inbox=inbox, source=source).pk


def hand_over(raw_id: int) -> None:
    """Queue the stored message for processing (in immediate mode: process it now). A failure
    here loses nothing: the row stays pending and the periodic sweep of stuck work processes
    it."""
    enqueue_on_commit(process_raw_inbound, raw_id)


def start_receiver(host: str | None = None, port: int | None = None) -> Callable[[], None]:
    """Start the receiver in its own thread on ``host:port`` (default: the SMTPD_HOST and
    SMTPD_PORT settings) and return the function that stops it. Raises ``OSError`` when the
    address cannot be bound."""
    host = host or settings.MOSTRADOR["SMTPD_HOST"]
    port = port if port is not None else settings.MOSTRADOR["SMTPD_PORT"]
    database = DatabaseThreads(DB_THREADS)
    controller = Controller(
        InboundHandler(database),
        hostname=host,
        port=port,
        # The banner name; socket.getfqdn(), aiosmtpd's default, may wait on DNS.
        server_hostname=settings.MOSTRADOR["MAIL_DOMAIN"],
        data_size_limit=settings.MOSTRADOR["MAX_MESSAGE_BYTES"],
        enable_SMTPUTF8=True,
        decode_data=False,
    )
    try:
        controller.start()
    except BaseException:
        database.shutdown()
        raise
    logger.info("SMTP receiver listening on %s:%s", host, port)
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        controller.stop()
        database.shutdown()
        logger.info("SMTP receiver on %s:%s stopped", host, port)

    return stop


def serve_forever(host: str | None = None, port: int | None = None) -> None:
    """Run the receiver in the foreground until SIGINT or SIGTERM (``mostrador mail smtpd``)."""
    stop = start_receiver(host, port)
    done = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not done.wait(1.0):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop()

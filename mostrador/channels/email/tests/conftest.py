"""Real mail servers for the e-mail channel's tests, all on free ports of 127.0.0.1.

* ``smtp_receiver``: starts our own SMTP receiver (``smtpd.start_receiver``) and sends to it.
* ``smtp_sink``: a local SMTP server that records what our delivery sends, or refuses it.
* ``imap_server``: a pymap IMAP server (in-memory ``dict`` backend) in a subprocess.
"""

from __future__ import annotations

import contextlib
import dataclasses
import imaplib
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def crlf(data: bytes) -> bytes:
    """Mail as it travels over SMTP: every line ends in CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _retry_on_busy_port(start: Callable[[int], object]) -> tuple[object, int]:
    # The free port is released before the server binds it; another suite running on this
    # machine may take it in between, so try a few.
    for attempt in range(5):
        port = free_port()
        try:
            return start(port), port
        except OSError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


# --- our SMTP receiver -----------------------------------------------------------------------


@dataclasses.dataclass
class Receiver:
    host: str
    port: int

    def send(
        self, data: bytes, *, to: list[str] | None = None, mail_from: str = "elena.martin@correo.es"
    ) -> dict:
        """Send ``data`` as a mail server would; raises smtplib errors on refusal."""
        with smtplib.SMTP(self.host, self.port, timeout=10) as client:
            return client.sendmail(mail_from, to or ["soporte@desk.example.com"], crlf(data))


@pytest.fixture
def smtp_receiver() -> Iterator[Callable[[], Receiver]]:
    """Start the real receiver (with the settings in force when called) on a free port."""
    from mostrador.channels.email.smtpd import start_receiver

    stops: list[Callable[[], None]] = []

    def start() -> Receiver:
        stop, port = _retry_on_busy_port(lambda port: start_receiver(HOST, port))
        stops.append(stop)
        return Receiver(HOST, port)

    yield start
    for stop in stops:
        stop()


# --- an SMTP sink for outbound delivery ------------------------------------------------------


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class SinkHandler:
    def __init__(self, rcpt_reply: str | None, data_reply: str | None) -> None:
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.received: list[Received] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply:
            return self.data_reply
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"


@dataclasses.dataclass
class Sink:
    port: int
    handler: SinkHandler

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}?timeout=10"

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_sink() -> Iterator[Callable[..., Sink]]:
    """``smtp_sink()`` accepts and records; ``smtp_sink(data_reply="451 …")`` or
    ``smtp_sink(rcpt_reply="550 …")`` refuses at that step."""
    controllers: list[Controller] = []

    def start(*, rcpt_reply: str | None = None, data_reply: str | None = None) -> Sink:
        handler = SinkHandler(rcpt_reply, data_reply)

        def run(port: int) -> Controller:
            controller = Controller(
                handler, hostname=HOST, port=port, server_hostname="sink.example.net"
            )
            controller.start()
            return controller

        controller, port = _retry_on_busy_port(run)
        controllers.append(controller)
        return Sink(port, handler)

    yield start
    for controller in controllers:
        controller.stop()


# --- a pymap IMAP server ---------------------------------------------------------------------

IMAP_USER = "demouser"
IMAP_PASSWORD = "clave-de-prueba"

_PYMAP = "import sys; from pymap.main import main; sys.exit(main())"


@dataclasses.dataclass
class ImapServer:
    host: str
    port: int
    username: str = IMAP_USER
    password: str = IMAP_PASSWORD

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.username, self.password)
        return client

    def settings(self, folder: str, **changes: object) -> dict:
        """The inbox's ``imap`` block for ``folder`` on this server."""
        return {
            "host": self.host,
            "port": self.port,
            "security": "plain",
            "username": self.username,
            "password": self.password,
            "folder": folder,
            **changes,
        }


def _start_pymap(port: int) -> subprocess.Popen:
    command = [
        sys.executable,
        "-c",
        _PYMAP,
        # Only the IMAP service: the others would bind fixed ports when installed.
        "--no-service",
        "admin",
        "--no-service",
        "managesieve",
        "--no-service",
        "swim",
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-tls",
        "dict",
        "--demo-user",
        IMAP_USER,
        "--demo-password",
        IMAP_PASSWORD,
    ]
    # A file, not a pipe: nobody reads the server's log while it runs, and a full pipe would
    # block it. The child keeps its own descriptor when ours is closed.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        if _wait_for_greeting(process, port):
            return process
        process.kill()
        process.wait()
        log.seek(0)
        error = log.read().decode("utf-8", "replace").strip()
    raise OSError(f"pymap did not start on {HOST}:{port} (exit {process.returncode}): {error}")


def _wait_for_greeting(process: subprocess.Popen, port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    """A pymap server with one user and an empty INBOX, shared by the session; tests work in
    folders of their own (see ``imap_folder``)."""
    process, port = _retry_on_busy_port(_start_pymap)
    assert isinstance(process, subprocess.Popen)
    try:
        yield ImapServer(HOST, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def imap_client(imap_server: ImapServer) -> Iterator[imaplib.IMAP4]:
    """One logged-in session for the test's own set-up (logins are deliberately slow)."""
    client = imap_server.client()
    yield client
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        client.logout()


@pytest.fixture
def imap_folder(imap_client: imaplib.IMAP4) -> str:
    """A fresh folder on the IMAP server for this test."""
    name = f"Soporte-{uuid.uuid4().hex[:8]}"
    status, _data = imap_client.create(name)
    assert status == "OK"
    return name

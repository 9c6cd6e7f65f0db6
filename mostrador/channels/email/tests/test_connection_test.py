"""The inbox settings' "Test connection": real local servers (the SMTP sink, pymap), answers
that quote the server or say what to check, never a password, and short timeouts."""

from __future__ import annotations

import socket
import time

from mostrador.channels.email.connection_test import test_imap as try_imap
from mostrador.channels.email.connection_test import test_smtp as try_smtp
from mostrador.channels.email.tests.conftest import HOST, free_port


def test_smtp_connects_and_quotes_the_greeting(smtp_sink):
    sink = smtp_sink()
    ok, message = try_smtp(sink.url)
    assert ok, message
    assert f"Connected to {HOST}:{sink.port}" in message and "sink.example.net" in message
    assert sink.received == []  # nothing was sent


def test_smtp_login_on_a_server_without_auth_says_what_to_check(smtp_sink):
    sink = smtp_sink()
    ok, message = try_smtp(f"smtp://ventas:clave-secreta@{HOST}:{sink.port}")
    assert not ok
    assert f"{HOST}:{sink.port} does not offer this" in message
    assert "clave-secreta" not in message


def test_smtp_unreachable_or_not_a_url():
    ok, message = try_smtp(f"smtp://{HOST}:{free_port()}")
    assert not ok and "Could not reach" in message and "port" in message
    ok, message = try_smtp("http://smtp.example.com")
    assert not ok and "smtp://user:password@host:587?starttls=1" in message
    ok, message = try_smtp("")
    assert not ok and "No SMTP server" in message


def test_smtp_starttls_refused_by_a_plain_server(smtp_sink):
    sink = smtp_sink()
    ok, message = try_smtp(f"smtp://{HOST}:{sink.port}?starttls=1")
    assert not ok and "STARTTLS" in message


def test_a_silent_server_times_out_quickly():
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(1)  # accepts the connection, never says a word
        port = listener.getsockname()[1]
        started = time.monotonic()
        ok, message = try_smtp(f"smtp://{HOST}:{port}", timeout=0.5)
        assert not ok and "timed out" in message
        ok, message = try_imap({"host": HOST, "port": port, "security": "plain",
                                "username": "u", "password": "p"}, timeout=0.5)
        assert not ok and "timed out" in message
        assert time.monotonic() - started < 5


def test_imap_logs_in_and_opens_the_folder(imap_server, imap_folder, imap_client):
    imap_client.append(imap_folder, None, None, b"Subject: hola\r\n\r\nUn mensaje.\r\n")
    ok, message = try_imap(imap_server.settings(imap_folder))
    assert ok, message
    assert f"Logged in to {HOST}:{imap_server.port} as {imap_server.username}" in message
    assert f"the folder {imap_folder} holds 1 messages" in message
    assert imap_server.password not in message


def test_imap_wrong_password_missing_folder_and_unreachable(imap_server, imap_folder):
    ok, message = try_imap(imap_server.settings(imap_folder, password="otra-clave"))
    assert not ok and f"refused the login as {imap_server.username}" in message
    assert "otra-clave" not in message
    ok, message = try_imap(imap_server.settings("NoExiste"))
    assert not ok and "the folder NoExiste could not be opened" in message
    ok, message = try_imap(imap_server.settings(imap_folder, port=free_port()))
    assert not ok and "Could not reach" in message
    ok, message = try_imap({"host": HOST})
    assert not ok and "incomplete" in message

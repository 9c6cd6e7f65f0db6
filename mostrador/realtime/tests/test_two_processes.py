"""Scaled out for real: two server processes against one PostgreSQL and one Redis. A visitor on
one, an agent on the other, messages both ways; then the visitor's socket drops and the widget
resends on the other process, and nothing is stored twice."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import httpx
import pytest
import websockets
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from mostrador.accounts.actions import do_update_agent
from mostrador.conversations.actions import do_create_inbox
from mostrador.conversations.models import Message
from mostrador.core.testing import api_token_for, make_desk

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL"),
                       reason="the scaled-out mode needs PostgreSQL and Redis"),
]
KEY = "wc_two_processes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log) -> subprocess.Popen:
    database = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{database['USER'] or 'postgres'}@{database['HOST']}:"
                     f"{database['PORT'] or 5432}/{database['NAME']}",
        REDIS_URL=os.environ["REDIS_URL"], MOSTRADOR_TASKS_IMMEDIATE="1",
        DATABASE_TEST_NAME="")
    return subprocess.Popen([sys.executable, "-m", "mostrador", "serve", "--port", str(port),
                             "--no-embedded"], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(port: int, process: subprocess.Popen, log_path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not answer:\n{log_path.read_text()[-3000:]}")


@pytest.fixture
def two_servers(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the scaled-out mode runs on PostgreSQL")
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"server-{port}.log" for port in ports]
    files = [log.open("wb") for log in logs]
    processes = [start_server(port, file) for port, file in zip(ports, files, strict=True)]
    try:
        for port, process, log in zip(ports, processes, logs, strict=True):
            wait_healthy(port, process, log)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for file in files:
            file.close()


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


async def next_frame(ws, kind, until=None, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind and (until is None or until(frame)):
                return frame


def test_a_visitor_and_an_agent_on_two_processes_talk_both_ways(two_servers):
    desk = make_desk()
    do_create_inbox(name="Chat", channel_kind="webchat", default_team=desk.team_l1,
                    config={"public_key": KEY}, acting_user=desk.diego)
    do_update_agent(desk.ana.agent, status="online")
    cookie = session_cookie(desk.ana)
    token = api_token_for(desk.ana)
    visitor_port, agent_port = two_servers

    async def scenario():
        agent = await websockets.connect(
            f"ws://127.0.0.1:{agent_port}/ws/agent/",
            additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{agent_port}"})
        widget = await websockets.connect(f"ws://127.0.0.1:{visitor_port}/ws/chat/{KEY}/")
        await widget.send(json.dumps({"type": "hello", "token": None, "language": "es"}))
        welcome = await next_frame(widget, "welcome")

        # Visitor → agent, across processes.
        await widget.send(json.dumps({"type": "message", "client_id": "m1",
                                      "text": "Hola desde el proceso uno"}))
        ack = await next_frame(widget, "ack")
        message_id = ack["message"]["id"]
        change = await next_frame(agent, "conversation",
                                  until=lambda f: message_id in f["message_ids"])
        conversation_id = change["conversation"]["id"]
        await agent.send(json.dumps({"type": "watch", "conversation": conversation_id}))
        await next_frame(agent, "presence")

        # Agent typing and reply → visitor, across processes (the reply through the API).
        await agent.send(json.dumps({"type": "typing", "conversation": conversation_id,
                                     "on": True}))
        typing = await next_frame(widget, "typing")
        assert typing["on"] is True and typing["name"] == "Ana"
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{agent_port}/api/v1/conversations/{conversation_id}/reply",
                headers={"Authorization": f"Bearer {token}"},
                json={"text": "Hola, soy Ana desde el proceso dos"})
        assert response.status_code == 201, response.text
        reply = await next_frame(widget, "message",
                                 until=lambda f: f["message"]["author"] == "agent")
        assert reply["message"]["text"] == "Hola, soy Ana desde el proceso dos"

        # The network drops before the ack of m2 is read; the widget reconnects to the other
        # process and resends m2: stored once, acknowledged with the first copy.
        await widget.send(json.dumps({"type": "message", "client_id": "m2",
                                      "text": "¿Sigue ahí?"}))
        await widget.close()
        moved = await websockets.connect(f"ws://127.0.0.1:{agent_port}/ws/chat/{KEY}/")
        await moved.send(json.dumps({"type": "hello", "token": welcome["token"],
                                     "language": "es", "after": reply["message"]["id"]}))
        again = await next_frame(moved, "welcome")
        await moved.send(json.dumps({"type": "message", "client_id": "m2",
                                     "text": "¿Sigue ahí?"}))
        resent = await next_frame(moved, "ack")
        shown = {m["id"] for m in again["messages"]}
        assert resent["duplicate"] == (resent["message"]["id"] in shown)
        await agent.close()
        await moved.close()
        return conversation_id

    conversation_id = asyncio.run(scenario())
    texts = list(Message.objects.filter(conversation_id=conversation_id)
                 .order_by("id").values_list("text", flat=True))
    assert texts.count("¿Sigue ahí?") == 1
    assert texts[:2] == ["Hola desde el proceso uno", "Hola, soy Ana desde el proceso dos"]

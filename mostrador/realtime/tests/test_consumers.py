"""The websocket consumers end to end: frames in, actions, committed frames out. The database
setup is committed (transaction=True) because the consumers work in their own thread."""

import asyncio
import json

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore

from mostrador.accounts.actions import do_update_agent
from mostrador.asgi import application
from mostrador.channels.webchat import actions as chat_actions
from mostrador.channels.webchat import limits
from mostrador.conversations.actions import do_add_note, do_create_inbox, do_send_reply
from mostrador.conversations.models import Conversation, Message
from mostrador.core.testing import make_desk
from mostrador.realtime import db
from mostrador.realtime.tests.communicator import Socket

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "wc_test_live"
ORIGIN = b"https://shop.example.com"


@pytest.fixture
def live(settings):
    settings.TASKS = {**settings.TASKS, "immediate": True}
    desk = make_desk()
    inbox = do_create_inbox(name="Chat", channel_kind="webchat", default_team=desk.team_l1,
                            config={"public_key": KEY,
                                    "allowed_origins": [ORIGIN.decode()],
                                    "visitor_messages_per_minute": 3},
                            acting_user=desk.diego)
    do_update_agent(desk.ana.agent, status="online")
    limits.messages.state.clear()
    limits.connections.open.clear()
    return desk, inbox


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), 30))


def visitor_socket(origin=ORIGIN, key=KEY):
    return Socket(application, f"/ws/chat/{key}/",
                                 headers=[(b"origin", origin), (b"host", b"testserver")])


_sessions: dict[int, str] = {}


def sign_in(*users):
    """Session cookies for these agents (made before the scenario: it runs in an event loop)."""
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        _sessions[user.pk] = session.session_key


def agent_socket(user):
    return Socket(application, "/ws/agent/", headers=[
        (b"origin", b"http://testserver"), (b"host", b"testserver"),
        (b"cookie", f"sessionid={_sessions[user.pk]}".encode())])


async def receive(socket, kind, timeout=5, until=None):
    """The next frame of ``kind`` (for which ``until`` holds, when given), skipping others."""
    while True:
        frame = json.loads(await socket.receive_from(timeout=timeout))
        if frame["type"] == kind and (until is None or until(frame)):
            return frame


async def hello(socket, token=None, after=None):
    connected, _ = await socket.connect()
    assert connected
    await socket.send_to(text_data=json.dumps({"type": "hello", "token": token,
                                               "language": "es", "after": after}))
    return await receive(socket, "welcome")


def test_a_visitor_message_is_acknowledged_once_and_reaches_the_desk(live):
    desk, _inbox = live
    sign_in(desk.ana, desk.beto)

    async def scenario():
        agent = agent_socket(desk.ana)
        assert (await agent.connect())[0]
        visitor = visitor_socket()
        welcome = await hello(visitor)
        assert welcome["token"] and welcome["conversation"] is None
        assert welcome["availability"]["state"] == "online"

        await visitor.send_to(text_data=json.dumps({
            "type": "message", "client_id": "m1", "text": "Hola, mi pedido no llega",
            "fields": {"name": "Lucía"}}))
        ack = await receive(visitor, "ack")
        assert ack["client_id"] == "m1" and not ack["duplicate"]
        assert ack["message"]["author"] == "visitor" and ack["message"]["client_id"] == "m1"
        change = await receive(agent, "conversation")
        assert ack["message"]["id"] in change["message_ids"]
        assert change["conversation"]["customer_name"] == "Lucía"
        assert change["conversation"]["channel_kind"] == "webchat"

        # The same message again after a reconnect: the first copy's ack, nothing stored.
        await visitor.send_to(text_data=json.dumps({
            "type": "message", "client_id": "m1", "text": "Hola, mi pedido no llega"}))
        again = await receive(visitor, "ack")
        assert again["duplicate"] and again["message"]["id"] == ack["message"]["id"]
        await visitor.disconnect()
        await agent.disconnect()
        return ack["message"]["id"]

    run(scenario)
    assert Message.objects.filter(channel_kind="webchat").count() == 1


def test_an_agent_reply_reaches_every_widget_of_the_visitor_and_notes_do_not(live):
    desk, inbox = live
    visitor, token = chat_actions.do_start_visitor(inbox)
    outcome = chat_actions.receive_visitor_messages(
        [chat_actions.Submission(visitor, "m1", "Hola")])[0]
    conversation = outcome.conversation

    async def scenario():
        first = visitor_socket()
        second = visitor_socket()
        welcome = await hello(first, token)
        await hello(second, token)
        assert [m["id"] for m in welcome["messages"]] == [outcome.message.pk]
        await db.run(do_add_note, conversation, "Nota interna", acting_user=desk.ana)
        reply = await db.run(do_send_reply, conversation, "¡Hola! Soy Ana, ¿en qué te ayudo?",
                             acting_user=desk.ana)
        for socket in (first, second):
            frame = await receive(socket, "message")
            assert frame["message"]["id"] == reply.pk
            assert frame["message"]["author"] == "agent"
            assert frame["message"]["author_name"] == "Ana"
        # A reconnect brings only what the widget does not have.
        third = visitor_socket()
        welcome = await hello(third, token, after=outcome.message.pk)
        assert [m["id"] for m in welcome["messages"]] == [reply.pk]
        for socket in (first, second, third):
            await socket.disconnect()

    run(scenario)


def test_typing_read_marks_and_presence_travel_between_visitor_and_agents(live):
    desk, inbox = live
    sign_in(desk.ana, desk.beto)
    visitor, token = chat_actions.do_start_visitor(inbox)
    outcome = chat_actions.receive_visitor_messages(
        [chat_actions.Submission(visitor, "m1", "Hola")])[0]
    conversation_id = outcome.conversation.pk

    async def scenario():
        widget = visitor_socket()
        await hello(widget, token)
        ana, beto = agent_socket(desk.ana), agent_socket(desk.beto)
        assert (await ana.connect())[0] and (await beto.connect())[0]
        await ana.send_to(text_data=json.dumps({"type": "watch", "conversation": conversation_id}))
        presence = await receive(ana, "presence")
        assert presence["agents"] == []
        await beto.send_to(text_data=json.dumps({"type": "watch",
                                                 "conversation": conversation_id}))
        seen_by_ana = await receive(ana, "presence", until=lambda f: f["agents"])
        assert [a["name"] for a in seen_by_ana["agents"]] == ["Beto Ruiz"]
        seen_by_beto = await receive(beto, "presence", until=lambda f: f["agents"])
        assert [a["name"] for a in seen_by_beto["agents"]] == ["Ana García"]

        await beto.send_to(text_data=json.dumps({"type": "typing",
                                                 "conversation": conversation_id, "on": True}))
        typing = await receive(ana, "presence", until=lambda f: f["agents"][0]["typing"])
        assert [a["name"] for a in typing["agents"]] == ["Beto Ruiz"]
        to_visitor = await receive(widget, "typing")
        assert to_visitor == {"type": "typing", "on": True, "name": "Beto"}

        await widget.send_to(text_data=json.dumps({"type": "typing", "on": True}))
        assert (await receive(ana, "visitor_typing"))["on"] is True

        await ana.send_to(text_data=json.dumps({"type": "read", "conversation": conversation_id,
                                                "up_to": outcome.message.pk}))
        marks = await receive(widget, "marks")
        assert marks["read_up_to"] == outcome.message.pk

        await beto.send_to(text_data=json.dumps({"type": "unwatch"}))
        left = await receive(ana, "presence", until=lambda f: not f["agents"])
        assert left["conversation_id"] == conversation_id
        for socket in (widget, ana, beto):
            await socket.disconnect()

    run(scenario)


def test_abuse_limits_refuse_with_a_reason_and_lose_nothing(live):
    _desk, _inbox = live

    async def scenario():
        refused = visitor_socket(origin=b"https://elsewhere.example")
        connected, code = await refused.connect()
        assert not connected and code == 4403
        unknown = visitor_socket(key="wc_nope")
        connected, code = await unknown.connect()
        assert not connected and code == 4404

        widget = visitor_socket()
        await hello(widget)
        await widget.send_to(text_data="{not json")
        assert (await receive(widget, "error"))["code"] == "bad_frame"
        await widget.send_to(text_data=json.dumps({"type": "message", "client_id": "long",
                                                   "text": "x" * 4001}))
        too_long = await receive(widget, "error")
        assert too_long["code"] == "too_long" and too_long["client_id"] == "long"
        for number in range(3):
            await widget.send_to(text_data=json.dumps({"type": "message",
                                                       "client_id": f"m{number}",
                                                       "text": f"mensaje {number}"}))
            await receive(widget, "ack")
        await widget.send_to(text_data=json.dumps({"type": "message", "client_id": "m3",
                                                   "text": "uno más"}))
        limited = await receive(widget, "error")
        assert limited["code"] == "rate_limited" and limited["retry_after"] >= 1
        assert limited["client_id"] == "m3"
        await widget.disconnect()

    run(scenario)
    assert Message.objects.filter(channel_kind="webchat").count() == 3


def test_agent_sockets_need_a_signed_in_agent_from_the_desks_own_origin(live):
    desk, _inbox = live
    sign_in(desk.ana, desk.beto)

    async def scenario():
        anonymous = Socket(application, "/ws/agent/", headers=[
            (b"origin", b"http://testserver"), (b"host", b"testserver")])
        connected, code = await anonymous.connect()
        assert not connected and code == 4401
        foreign = agent_socket(desk.ana)
        foreign.scope["headers"] = [(k, b"https://evil.example" if k == b"origin" else v)
                                    for k, v in foreign.scope["headers"]]
        connected, _code = await foreign.connect()
        assert not connected

    run(scenario)


def test_agents_hear_about_new_chats_for_their_team_and_assignments(live):
    desk, _inbox = live
    sign_in(desk.ana, desk.beto)

    async def scenario():
        ana = agent_socket(desk.ana)  # team L1, the inbox's team
        beto = agent_socket(desk.beto)  # team L2
        assert (await ana.connect())[0] and (await beto.connect())[0]
        widget = visitor_socket()
        await hello(widget)
        await widget.send_to(text_data=json.dumps({"type": "message", "client_id": "m1",
                                                   "text": "Hola"}))
        await receive(widget, "ack")
        notify = await receive(ana, "notify")
        assert notify["url"].endswith(f"/{notify['conversation_id']}/")
        # Beto sees the inbox change but gets no alert for another team's new chat.
        await receive(beto, "conversation")
        # (A receive that times out ends the socket's application: beto's is done after this.)
        with pytest.raises(asyncio.TimeoutError):
            await receive(beto, "notify", timeout=0.5)
        for socket in (widget, ana):
            await socket.disconnect()

    run(scenario)


def test_a_transfer_keeps_the_thread_and_waiting_time_and_tells_the_visitor(live):
    from mostrador.routing.actions import do_transfer

    desk, inbox = live
    visitor, token = chat_actions.do_start_visitor(inbox)
    outcome = chat_actions.receive_visitor_messages(
        [chat_actions.Submission(visitor, "m1", "Hola")])[0]
    conversation = Conversation.objects.get(pk=outcome.conversation.pk)
    waiting_since = conversation.waiting_since

    async def scenario():
        widget = visitor_socket()
        await hello(widget, token)
        await db.run(do_transfer, conversation, acting_user=desk.carla, agent=desk.beto,
                     note="Cuestión de facturación")
        told = await receive(widget, "agent")
        assert told["name"] == "Beto"
        await widget.disconnect()

    run(scenario)
    conversation.refresh_from_db()
    assert conversation.assignee_id == desk.beto.pk
    assert conversation.waiting_since == waiting_since
    assert conversation.messages.filter(direction="inbound").count() == 1
